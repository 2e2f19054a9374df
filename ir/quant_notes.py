"""Notes on what the compiler changed in a pre-quantized model's own arithmetic.

A model quantized by its author (QDQ, QOperator, dynamic) fixes its scales; where Gemmini's
arithmetic cannot express them the compiler requantizes, and the user must be told where
and why. The notes travel with the module (attribute `quant_notes`: a list of
{node, change, why}) from import through fold-qdq to the compile report.
"""

from __future__ import annotations

from dlac.ir.core import Operation

QUANT_NOTES = "quant_notes"


def notes_of(module: Operation) -> list[dict[str, str]]:
    return [dict(n) for n in module.attr(QUANT_NOTES, None) or []]


def add_notes(module: Operation, notes: list[dict[str, str]]) -> None:
    """Append `notes` (each {node, change, why}) to the module's list."""
    if notes:
        module.set_attr(QUANT_NOTES, notes_of(module) + notes)
