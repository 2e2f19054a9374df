"""dlac.tools"""
