"""dlac: a co-design compiler for Gemmini-class deep-learning accelerators."""

__version__ = "0.1.0"
