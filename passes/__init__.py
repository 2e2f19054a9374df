"""dlac.passes"""
