"""Attach a mapping (a design point's software knobs) to every accelerated kernel."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from dlac.errors import DlacError
from dlac.ir.core import Operation
from dlac.ir.dialects.loop import KernelOp
from dlac.passes.nest import kernels, target_of
from dlac.passes.pass_base import ModulePass, PassError


def layer_of(kernel: KernelOp):  # noqa: ANN201 (returns a mapping-library Layer)
    """The kernel's layer shape, as the mapping library describes it."""
    from dlac.passes.mapping import layer_from_dict

    shape = kernel.attr("layer")
    if shape is None:
        raise kernel.error("has no 'layer' attribute (the lowering pass records the shape)")
    try:
        return layer_from_dict({**dict(shape), "name": kernel.attr("sym_name")})
    except (TypeError, DlacError) as err:
        raise kernel.error(f"bad 'layer' attribute: {err}") from None


@dataclass(frozen=True)
class Materialize(ModulePass):
    """Choose each kernel's mapping and record it as the `mapping` attribute.

    `mapper` is heuristic (Gemmini's own tiled_*_auto choice), random, exhaustive or
    analytical-best; `point` names a JSON design point `{"kernels": {name: mapping}}` whose
    entries override the mapper (each is checked for legality on the target).

    Before:
        "loop.kernel"(...) ({...}) {sym_name = "fc", kind = "matmul",
            layer = {kind = "matmul", I = 64, J = 64, K = 64, ...}, ...}
    After (default 16x16 Gemmini, heuristic):
        "loop.kernel"(...) ({...}) {..., mapping = {dims = "IJK", tiles = [64, 64, 64],
            perm = "IJK", dataflow = "WS", double_buffer = true}}
    """

    name = "materialize"
    mapper: str = "heuristic"
    seed: int = 0
    samples: int = 2000
    point: str = ""

    def apply(self, module: Operation) -> None:
        from dlac.passes.mapping import Mapping, MappingSpace, choose

        target = target_of(module)
        overrides = self._point()
        for kernel in kernels(module):
            layer = layer_of(kernel)
            name = str(kernel.attr("sym_name"))
            if name in overrides:
                try:
                    mapping = Mapping.from_attrs(overrides[name])
                    MappingSpace(layer, target).check(mapping)
                except DlacError as err:
                    raise kernel.error(f"design point mapping is illegal: {err}") from None
            else:
                mapping = choose(layer, target, self.mapper, seed=self.seed,
                                 samples=self.samples).mapping
            kernel.set_attr("mapping", mapping.to_attrs())

    def _point(self) -> dict[str, dict]:
        if not self.point:
            return {}
        try:
            data = json.loads(Path(self.point).read_text())
        except (OSError, json.JSONDecodeError) as err:
            raise PassError(f"cannot read design point '{self.point}': {err}") from None
        found = data.get("kernels", {}) if isinstance(data, dict) else None
        if not isinstance(found, dict):
            raise PassError(f"design point '{self.point}' has no 'kernels' object")
        return found
