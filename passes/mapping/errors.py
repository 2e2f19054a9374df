"""The one user-facing failure of the mapping library: nothing fits."""

from __future__ import annotations

from dlac.errors import DlacError


class NoLegalMapping(DlacError):
    """A layer has no legal mapping on a target.

    The message names the layer, its shape and the smallest buffers that would hold one
    minimal tile, so the user can tell whether the target or the layer is at fault.
    """

    def __init__(self, layer_name: str, shape: str, target_name: str, reason: str,
                 min_sp_kib: float | None = None, min_acc_kib: float | None = None) -> None:
        self.layer_name = layer_name
        self.min_sp_kib = min_sp_kib
        self.min_acc_kib = min_acc_kib
        need = ""
        if min_sp_kib is not None and min_acc_kib is not None:
            need = (f"; smallest buffers that fit: scratchpad >= {_fmt(min_sp_kib)} KiB, "
                    f"accumulator >= {_fmt(min_acc_kib)} KiB")
        super().__init__(f"no legal mapping for layer {layer_name!r} ({shape}) on "
                         f"{target_name}: {reason}{need}")


def _fmt(kib: float) -> str:
    return f"{kib:g}"


class MappingError(DlacError):
    """A mapping that is malformed or illegal for its layer and target."""
