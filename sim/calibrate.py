"""Re-run measured (hardware, layer, mapping) points on the simulator and score the match.

Metrics: global Spearman rho over all rows, mean within-layer Spearman rho (layers with at
least 3 rows), and MAPE. `fit` tunes the timing constants on a subset of layers so the
report can state generalisation on held-out layers honestly.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from dlac.ir.target import Target
from dlac.sim.calibration_data import CalCase
from dlac.sim.errors import SimError
from dlac.sim.simulator import Simulator
from dlac.sim.timing import DEFAULT_TIMING, TimingParams

# FireSim's memory system (DDR3 behind a 4 MB LLC); fitted, see docs/calibration.md.
CALIBRATION_TARGET = Target(dram_latency=119, dram_bytes_per_cycle=8.0)
# DOSA's harness ran one LOOP_WS per matmul tile, as the current C library does: the train
# matmul rows fit better so than with CPU-unrolled tiles (docs/calibration.md).
HARNESS_TIMING = DEFAULT_TIMING
# DOSA's harness turned a matmul's element tiles into DIM blocks by integer division by 16
# (at least one block) whatever the array side: at DIM 4 and 8, runs whose reduction tile is
# 1, 2, 4, 8 or 16 elements measure the same cycles, and time scales with tile_el // 16.
HARNESS_MATMUL_BLOCK = 16


@dataclass(frozen=True)
class Metrics:
    rows: int
    global_rho: float
    within_layer_rho: float
    mape: float
    failed: int

    def to_dict(self) -> dict[str, float]:
        return {"rows": self.rows, "global_rho": self.global_rho,
                "within_layer_rho": self.within_layer_rho, "mape": self.mape,
                "failed": self.failed}


def simulate_case(case: CalCase, timing: TimingParams = HARNESS_TIMING,
                  base: Target = CALIBRATION_TARGET) -> float:
    """Cycles of one measured run on the simulator (timing-only)."""
    sim = Simulator(case.target(base), timing, timing_only=True)
    try:
        d, t = case.dims, case.tiles
        if case.kind == "matmul":
            tiles = matmul_tiles(case)
            perm = "".join({"P": "I", "K": "J", "C": "K"}[c] for c in case.perm if c in "PKC")
            sim.matmul_shape(d["P"] * d["N"], d["K"], d["C"], tiles=tiles, perm=perm)  # type: ignore[arg-type]
        else:
            in_dim, out_dim, pad = harness_conv_geometry(case)
            sim.conv_shape(d["N"], in_dim, in_dim, d["C"], d["K"], out_dim, out_dim, d["R"],
                           stride=case.stride, padding=pad, bias=False,
                           tiles=(t["N"], t["Q"], t["P"], t["K"], t["S"], t["R"], t["C"]),
                           perm=case.perm, gemmini_pads=True)
        return sim.stats.host_cycles
    finally:
        sim.close()


def harness_conv_geometry(case: CalCase) -> tuple[int, int, int]:
    """(IN_DIM, OUT_DIM, PADDING) of a conv row as DOSA's harness ran it: square images,
    IN_DIM = P * stride, PADDING = R // 2, OUT_DIM = (IN_DIM - R + 2 * (R // 2)) // stride + 1
    (ucb-bar/gemmini-rocc-tests 959b23f, gemmini-data-collection/layers/extract_data_csv.py
    and templates/conv_tilings.c). Even kernels so run one output row and column more than
    P: 2x2 stride 1 on P = 14 gives 15 x 15 outputs."""
    r, side = case.dims["R"], case.dims["P"]
    in_dim, pad = side * case.stride, r // 2
    return in_dim, (in_dim - r + 2 * pad) // case.stride + 1, pad


def matmul_tiles(case: CalCase) -> tuple[int, int, int]:
    """(tile_I, tile_J, tile_K) in DIM blocks as the harness passed them, clamped to the layer."""
    d, t = case.dims, case.tiles
    full = {"P": d["P"] * d["N"], "K": d["K"], "C": d["C"]}
    return tuple(min(max(1, t[x] // HARNESS_MATMUL_BLOCK), -(-full[x] // case.dim))  # type: ignore[return-value]
                 for x in "PKC")


def _spearman(a: Sequence[float], b: Sequence[float]) -> float:
    from scipy.stats import spearmanr

    if len(a) < 2 or np.all(np.asarray(a) == a[0]) or np.all(np.asarray(b) == b[0]):
        return float("nan")
    return float(spearmanr(a, b).statistic)


def score(cases: Sequence[CalCase], predicted: Sequence[float]) -> Metrics:
    """Global rho, mean within-layer rho and MAPE of `predicted` against measurements."""
    pairs = [(c, p) for c, p in zip(cases, predicted, strict=True) if p == p]
    meas = [c.measured for c, _ in pairs]
    pred = [p for _, p in pairs]
    by_layer: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for c, p in pairs:
        by_layer[c.layer].append((c.measured, p))
    rhos = [_spearman([m for m, _ in v], [p for _, p in v])
            for v in by_layer.values() if len(v) >= 3]
    rhos = [r for r in rhos if not math.isnan(r)]
    mape = (float(np.mean([abs(p - m) / m for m, p in zip(meas, pred, strict=True)]))
            if meas else float("nan"))
    within = float(np.mean(rhos)) if rhos else float("nan")
    return Metrics(len(pairs), _spearman(meas, pred), within, mape, len(cases) - len(pairs))


def simulate_all(cases: Iterable[CalCase], timing: TimingParams = HARNESS_TIMING,
                 base: Target = CALIBRATION_TARGET,
                 progress: Callable[[int], None] | None = None) -> list[float]:
    """Cycles per case; NaN where the simulator rejects the mapping."""
    out = []
    for case in cases:
        try:
            out.append(simulate_case(case, timing, base))
        except SimError:
            out.append(float("nan"))
        if progress:
            progress(1)
    return out
