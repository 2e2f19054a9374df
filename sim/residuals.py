"""The simulator's residuals against measured rows, grouped by what timing mechanisms depend on.

A missing or wrong mechanism shows as a trend of log(predicted / measured) along one feature
(array side, a tile's size in DIM blocks, stride, kernel). One table of every such grouping
turns each timing hypothesis into a single simulator pass over the data
(`dlac-sim calibrate FILE --residuals`, about 2 minutes for the shipped 1,035 rows) instead of
a cross-validation run.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass

import numpy as np
from dlac.sim.calibration_data import CalCase
from dlac.sim.cv import shape_class


def _blocks(dim_name: str) -> Callable[[CalCase], str]:
    def key(c: CalCase) -> str:
        n = -(-c.tiles[dim_name] // c.dim)
        return "1" if n <= 1 else "2-3" if n <= 3 else "4-7" if n <= 7 else ">=8"
    return key


def _fill(dim_name: str) -> Callable[[CalCase], str]:
    def key(c: CalCase) -> str:
        f = min(c.tiles[dim_name], c.dim) / c.dim
        return "<=1/8" if f <= 0.125 else "<=1/2" if f <= 0.5 else "<1" if f < 1 else "full"
    return key


#: Feature name -> group of a row. Tile features are in DIM blocks (what the loop FSMs
#: iterate over) or as the share of the array a block fills (what a compute's length uses).
FEATURES: Mapping[str, Callable[[CalCase], str]] = {
    "shape class": shape_class,
    "array side": lambda c: f"DIM {c.dim}",
    "C tile, DIM blocks": _blocks("C"),
    "K tile, DIM blocks": _blocks("K"),
    "C tile fills DIM": _fill("C"),
    "K tile fills DIM": _fill("K"),
    "Q tile fills DIM": _fill("Q"),
    "stride": lambda c: f"{c.kind} s{c.stride}",
    "kernel": lambda c: f"{c.kind} {c.dims['R']}x{c.dims['S']}",
}


@dataclass(frozen=True)
class Group:
    feature: str
    value: str
    rows: int
    log_mean: float
    """Mean of log(predicted / measured): < 0 means the simulator is too fast."""
    log_sd: float
    mape: float
    points: float
    """The group's share of the overall MAPE (sum of its errors / all rows)."""


def residual_groups(cases: Sequence[CalCase], pred: Sequence[float],
                    features: Mapping[str, Callable[[CalCase], str]] = FEATURES) -> list[Group]:
    """Per feature and value: rows, log-residual mean and spread, MAPE, MAPE points."""
    pairs = [(c, p) for c, p in zip(cases, pred, strict=True) if p == p and p > 0]
    total = max(len(pairs), 1)
    out = []
    for name, key in features.items():
        groups: dict[str, list[tuple[float, float]]] = defaultdict(list)
        for c, p in pairs:
            groups[key(c)].append((math.log(p / c.measured), abs(p - c.measured) / c.measured))
        for value in sorted(groups):
            v = np.array(groups[value])
            out.append(Group(name, value, len(v), float(v[:, 0].mean()), float(v[:, 0].std()),
                             float(v[:, 1].mean()), float(v[:, 1].sum() / total)))
    return out


def format_groups(groups: Sequence[Group]) -> str:
    lines = [f"{'feature':20s} {'group':18s} {'rows':>5s} {'log mean':>9s} {'log sd':>7s} "
             f"{'MAPE':>6s} {'points':>6s}"]
    lines += [f"{g.feature:20s} {g.value:18s} {g.rows:5d} {g.log_mean:+9.3f} {g.log_sd:7.3f} "
              f"{100 * g.mape:5.1f}% {100 * g.points:6.2f}" for g in groups]
    return "\n".join(lines)


def groups_as_dicts(groups: Sequence[Group]) -> list[dict[str, object]]:
    return [asdict(g) for g in groups]
