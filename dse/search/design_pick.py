"""One mapping per layer from its measured samples, chosen on the whole design's cost.

A layerwise search keeps each layer's lowest-EDP sample, i.e. it minimises the sum over
layers of energy x delay, while the design's EDP is (sum energy) x (sum delay) over the
layers with their counts, plus the CPU steps (dissertation 6.1.3: the two usually agree,
not always). `pick` minimises the design's objective itself, the sum over models of
ln metric(total delay, total energy), by coordinate descent over the layers' samples,
started from the better of the per-layer picks and a given baseline assignment (e.g.
Gemmini's own mapping of every layer): every step keeps or lowers the objective, so the
result is never worse than either start. Exhaustive search is m^L (ResNet-50: 24 layers).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from ..objective import metric

MAX_ROUNDS = 20
"""Sweeps over the layers; descent stops earlier when a sweep changes nothing."""

Costs = Mapping[str, Sequence[tuple[float, float]]]
"""Per layer hash: the (cycles, energy pJ) of each of its finite samples."""


def design_objective(choice: Mapping[str, int], costs: Costs,
                     counts: Sequence[Sequence[tuple[str, int]]],
                     host: Sequence[tuple[float, float]], goal: str) -> float:
    """Sum over models of ln metric of (host + sum over layers of count x sample)."""
    total = 0.0
    for model, (host_cycles, host_energy) in zip(counts, host, strict=True):
        cycles = host_cycles + sum(n * costs[h][choice[h]][0] for h, n in model)
        energy = host_energy + sum(n * costs[h][choice[h]][1] for h, n in model)
        value = float(metric(cycles, energy, goal))
        total += math.log(value) if value > 0 else -math.inf
    return total


def pick(costs: Costs, counts: Sequence[Sequence[tuple[str, int]]],
         host: Sequence[tuple[float, float]], goal: str,
         baseline: Mapping[str, int] | None = None) -> dict[str, int]:
    """Index into each layer's `costs` minimising `design_objective` (see module doc);
    every layer of `counts` needs at least one sample."""
    def layer_metric(h: str, i: int) -> float:
        return float(metric(costs[h][i][0], costs[h][i][1], goal))

    starts = [{h: min(range(len(c)), key=lambda i, h=h: (layer_metric(h, i), i))
               for h, c in costs.items()}]
    if baseline is not None and set(baseline) == set(costs):
        starts.append(dict(baseline))

    def score(choice: Mapping[str, int]) -> float:
        return design_objective(choice, costs, counts, host, goal)

    choice = min(starts, key=score)
    best = score(choice)
    for _ in range(MAX_ROUNDS):
        moved = False
        for h in sorted(costs):
            for i in range(len(costs[h])):
                if i == choice[h]:
                    continue
                trial = {**choice, h: i}
                value = score(trial)
                if value < best - 1e-12:
                    choice, best, moved = trial, value, True
        if not moved:
            break
    return choice
