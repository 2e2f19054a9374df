"""dlac.backends"""
