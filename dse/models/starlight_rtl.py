"""RTL-measured rows (FireSim calibration CSVs) as Starlight's high-fidelity samples.

A row is (hardware, layer, mapping, measured cycles); dlac.sim.calibration_data already
reads it into a CalCase with the tiles and DRAM order the harness ran. Here each case
becomes the (Target, Layer, MappingBatch) the encoding takes, and its EDP is the paper's
(section 5.2.2): FireSim's cycles times the analytical model's energy, since FireSim
measures no energy. Rows the analytical model cannot price (a tile over the buffers as
the library counts rows) are left out and counted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from dlac.ir.target import Target
from dlac.passes.mapping import ConvLayer, Layer, Mapping, MappingBatch, MatmulLayer
from dlac.sim.calibrate import CALIBRATION_TARGET, matmul_tiles
from dlac.sim.calibration_data import CalCase, load_cases
from dlac.sim.errors import SimError

from ..errors import DseError
from ..evaluators import AnalyticalEvaluator
from .starlight_encoding import encode


@dataclass(frozen=True)
class RtlPoints:
    """Encoded rows: features, ln EDP, and the layer each row measures."""

    x: np.ndarray
    log_edp: np.ndarray
    layers: np.ndarray
    cycles: np.ndarray
    energy_pj: np.ndarray
    skipped: int

    def __len__(self) -> int:
        return len(self.log_edp)

    def take(self, index: np.ndarray) -> RtlPoints:
        return RtlPoints(self.x[index], self.log_edp[index], self.layers[index],
                         self.cycles[index], self.energy_pj[index], 0)


def case_point(case: CalCase, base: Target = CALIBRATION_TARGET) -> tuple[Target, Layer,
                                                                          Mapping]:
    """The design, layer and mapping FireSim ran for one row (as the simulator re-runs it)."""
    d, t = case.dims, case.tiles
    target = case.target(base)
    if case.kind == "matmul":
        layer: Layer = MatmulLayer(case.layer, i=d["P"] * d["N"], j=d["K"], k=d["C"])
        full = layer.dims
        blocks = dict(zip("IJK", matmul_tiles(case), strict=True))
        tiles = {x: min(blocks[x] * case.dim, full[x]) for x in "IJK"}
        perm = "".join({"P": "I", "K": "J", "C": "K"}[c] for c in case.perm if c in "PKC")
        return target, layer, Mapping.create(tiles, perm, "WS", True)
    side = d["P"]
    layer = ConvLayer(case.layer, batch=d["N"], in_channels=d["C"], out_channels=d["K"],
                      in_rows=side * case.stride, in_cols=side * case.stride,
                      kernel_rows=d["R"], kernel_cols=d["R"], stride=case.stride,
                      padding=(d["R"] - 1) // 2)
    tiles = {x: min(t[x], layer.dims[x]) for x in layer.dim_names}
    return target, layer, Mapping.create(tiles, case.perm, "WS", True)


def rtl_points(cases: Sequence[CalCase], analytical: bool = True) -> RtlPoints:
    """Encode rows, grouped by (design, layer) so each group is one vectorised call."""
    groups: dict[tuple[Target, Layer], list[tuple[int, Mapping]]] = {}
    for i, case in enumerate(cases):
        target, layer, mapping = case_point(case)
        groups.setdefault((target, layer), []).append((i, mapping))
    n = len(cases)
    energy = np.full(n, np.nan)
    rows: dict[int, np.ndarray] = {}
    for (target, layer), items in groups.items():
        batch = MappingBatch.from_mappings(layer, [m for _, m in items])
        cost = AnalyticalEvaluator().evaluate(layer, target, batch)
        ok = np.isfinite(cost.cycles) & np.isfinite(cost.energy_pj) & (cost.energy_pj > 0)
        if not ok.any():
            continue
        keep = np.flatnonzero(ok)
        enc = encode(target, layer, batch.take(keep), analytical,
                     type(cost)(cost.cycles[keep], cost.energy_pj[keep],
                                cost.utilization[keep]))
        for j, k in enumerate(keep):
            idx = items[k][0]
            rows[idx] = enc[j]
            energy[idx] = cost.energy_pj[k]
    order = np.array(sorted(rows), dtype=np.int64)
    if not len(order):
        raise DseError("no RTL row could be priced by the analytical model")
    x = np.stack([rows[i] for i in order])
    cycles = np.array([cases[i].measured for i in order])
    names = np.array([cases[i].layer for i in order])
    return RtlPoints(x, np.log(cycles * energy[order]), names, cycles, energy[order],
                     n - len(order))


def load_rtl(path: Path | str, analytical: bool = True) -> RtlPoints:
    """A calibration CSV's usable rows, encoded; a bad file is one DseError line."""
    try:
        cases = load_cases(path)
    except SimError as err:
        raise DseError(str(err)) from None
    return rtl_points(cases, analytical)
