"""dlac.sim"""
