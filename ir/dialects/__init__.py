"""dlac.ir.dialects"""
