"""The co-design driver's user-facing error."""

from __future__ import annotations

from dlac.errors import DlacError


class DseError(DlacError):
    """Bad co-design input (budget, hardware space, database): one line, exit code 1."""
