"""dlac.frontend"""
