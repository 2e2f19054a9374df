"""Sobol samples of the joint (hardware, layer, mapping) space, Starlight's training points.

Section 5.2.2 draws Sobol points over the whole input space. Scoring a point needs a
MappingSpace and an analytical model per (hardware, layer) pair, a few milliseconds each,
so a point per pair would not fit the two-minute training budget: the joint sequence is
drawn as Sobol pairs (hardware, layer) with a short Sobol run of legal mappings each
(`per_pair`), the pair's share of the 2^16 points. Pairs whose layer has no legal mapping
on the design are skipped, as the co-design search never proposes them.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from dlac.ir.target import Target
from dlac.passes.mapping import Layer, MappingBatch, MappingError, MappingSpace, NoLegalMapping

from ..errors import DseError
from ..evaluators import AnalyticalEvaluator, LayerCost
from ..hwspace import HwSpace
from ..zoo import MODELS
from .starlight_encoding import encode


@dataclass(frozen=True)
class PointGroup:
    """Mappings of one layer on one design."""

    target: Target
    layer: Layer
    batch: MappingBatch


def zoo_layers() -> list[Layer]:
    """Every distinct layer shape of the built-in models (first name kept)."""
    seen: dict[str, Layer] = {}
    for name in sorted(MODELS):
        for layer, _ in MODELS[name]():
            seen.setdefault(layer.workload_hash(), layer)
    return list(seen.values())


@functools.lru_cache(maxsize=8)
def designs(space: HwSpace) -> tuple[Target, ...]:
    """The space's designs within its area budget, the widest DMA bus of each."""
    grid = space.grid()
    inside = np.flatnonzero(grid.area() <= space.area_budget_mm2 * (1 + 1e-12))
    if not len(inside):
        raise DseError(f"hardware space holds no design within the area budget "
                       f"({space.area_budget_mm2:g} mm^2)")
    return tuple(grid.target(int(i)) for i in grid.widest_bus(inside))


def joint_sobol(space: HwSpace, layers: Sequence[Layer], points: int, per_pair: int = 32,
                seed: int = 0, n_designs: int | None = None) -> list[PointGroup]:
    """`points` legal points (rounded up to whole pairs), deterministic for a seed.
    `n_designs`: draw the pairs' designs from that many Sobol-chosen designs only (each
    new design costs the simulator a library build)."""
    from scipy.stats import qmc

    if not layers:
        raise DseError("Starlight needs at least one layer to sample")
    targets = designs(space)
    if n_designs is not None and n_designs < len(targets):
        u = qmc.Sobol(d=1, scramble=True, seed=seed + 1).random(n_designs)[:, 0]
        targets = tuple(targets[int(v * len(targets))] for v in u)
    pairs = -(-points // per_pair)
    engine = qmc.Sobol(d=2, scramble=True, seed=seed)
    out: list[PointGroup] = []
    drawn = 0
    while len(out) < pairs:
        if drawn > 64 * pairs + 1024:
            raise DseError("no layer has a legal mapping on the hardware space's designs")
        u = engine.random(1 << max(4, (pairs - 1).bit_length()))
        drawn += len(u)
        for k, (a, b) in enumerate(u):
            target = targets[int(a * len(targets))]
            layer = layers[int(b * len(layers))]
            try:
                batch = MappingSpace(layer, target).sobol(per_pair, seed=seed + drawn + k,
                                                          max_points=1 << 15)
            except (NoLegalMapping, MappingError):
                continue
            out.append(PointGroup(target, layer, batch))
            if len(out) == pairs:
                break
    return out


def analytical_cost(group: PointGroup) -> LayerCost:
    return AnalyticalEvaluator().evaluate(group.layer, group.target, group.batch)


def analytical_dataset(groups: Sequence[PointGroup],
                       analytical: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """(encodings, ln EDP) of every point of `groups`, scored by the analytical model."""
    xs, ys = [], []
    for g in groups:
        cost = analytical_cost(g)
        xs.append(encode(g.target, g.layer, g.batch, analytical, cost))
        ys.append(np.log(cost.edp))
    return np.concatenate(xs), np.concatenate(ys)
