"""The error of executing IR whose meaning is not defined (an op without semantics)."""

from __future__ import annotations

from dlac.errors import DlacError


class SemanticsError(DlacError):
    """An op cannot be evaluated; `str(err)` names the op and its location."""
