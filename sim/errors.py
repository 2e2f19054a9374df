"""Simulator errors."""

from __future__ import annotations

from dlac.errors import DlacError


class SimError(DlacError):
    """A hardware assertion or library check stopped the simulated program."""

    def __init__(self, message: str, index: int | None = None) -> None:
        super().__init__(message)
        self.index = index


class BuildError(DlacError):
    """The host C compiler rejected the simulator or a program."""
