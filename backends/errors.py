"""Errors the backends raise for models or hardware points they cannot emit code for."""

from dlac.errors import DlacError


class BackendError(DlacError):
    """The module cannot be emitted as C (unsupported op, shape, or hardware point)."""
