"""Layerwise nested optimisation (dissertation section 4.3.1), for one or more models.

Given a hardware point, every *unique* layer (by workload hash, across all models) gets its
own SW search for the mapping with the lowest layer EDP. A model's cost then counts each
layer as often as it occurs: energy = sum(count * energy), delay = sum(count * cycles),
model EDP = energy x delay. Several models co-design one Gemmini: the HW objective is
sum over models of log(EDP), i.e. the log of their product, so no model dominates by scale.

SW strategies: `batch` scores the heuristic mapping plus `samples` uniform legal mappings
in one vectorised call (the analytical evaluator makes this cheap, so it is the default);
`random`, `dabo` and `vanilla-bo` run the ask/tell searchers for `trials` evaluations per
layer (Spotlight's daBO-SW; use them with expensive evaluators). The heuristic mapping is
always scored too, so the result is never worse than Gemmini's own tiling.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping as MappingABC
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from dlac.ir.target import Target
from dlac.passes.host_cost import HostCost
from dlac.passes.mapping import (
    Layer,
    Mapping,
    MappingBatch,
    MappingError,
    MappingSpace,
    NoLegalMapping,
    heuristic_mapping,
)
from dlac.passes.mapping.flat_depthwise import candidates as flat_candidates
from dlac.passes.mapping.flat_depthwise import to_mapping as flat_mapping
from dlac.passes.mapping.workloads import Workload

from .accel_steps import AccelSteps, steps_cost
from .database import LayerRecord, TuningDB
from .domains import SwDomain
from .errors import DseError
from .evaluators import Evaluator
from .lowering import FLAT, can_flat, can_im2col, emitted, lowered, overhead
from .objective import check as check_objective
from .objective import metric
from .search import make_searcher
from .search.base import SW_CONFIG

SW_STRATEGIES = ("batch", "random", "dabo", "vanilla-bo")
FLAT_SAMPLES = 12


@dataclass(frozen=True)
class SwConfig:
    """Per-layer search: strategy, its effort, which pipeline knobs it may turn
    (pointwise convs are always also tried as matmuls; `im2col`: every dense conv, as a
    search-only im2col matmul, see lowering.py) and the metric it minimises
    (`objective.py`)."""

    strategy: str = "batch"
    samples: int = 2000
    trials: int = 100
    im2col: bool = False
    objective: str = "edp"

    def __post_init__(self) -> None:
        if self.strategy not in SW_STRATEGIES:
            raise DseError(f"unknown SW strategy {self.strategy!r}; choose one of "
                           f"{', '.join(SW_STRATEGIES)}")
        if self.samples < 0 or self.trials < 1:
            raise DseError("SW search needs samples >= 0 and trials >= 1")
        check_objective(self.objective)

    def key(self) -> str:
        knobs = ("+im2col" if self.im2col else "") + (
            f"@{self.objective}" if self.objective != "edp" else "")
        if self.strategy == "batch":
            return f"batch/{self.samples}{knobs}"
        return f"{self.strategy}/{self.trials}{knobs}"


@dataclass(frozen=True)
class LayerBest:
    """The best mapping found for one unique layer on one target. `mapping` maps the
    layer as lowered (`lowering`: direct, im2col for a conv run as a matmul, or flat for
    a depthwise conv, whose mapping then carries the flat tiles); cycles and energy
    include the lowering's own cost."""

    layer: Layer
    mapping: Mapping
    cycles: float
    energy_pj: float
    utilization: float
    candidates: int
    lowering: str = "direct"

    @property
    def mapped(self) -> Layer:
        """The layer the accelerator runs (the im2col matmul of a lowered conv)."""
        return lowered(self.layer, self.lowering)

    def emitted(self) -> bool:
        """Whether the emitted code runs this mapping (a search-only im2col does not)."""
        return emitted(self.layer, self.lowering)

    def attrs(self) -> dict[str, Any]:
        """The mapping's IR attributes plus the lowering knob."""
        return {**self.mapping.to_attrs(), "lowering": self.lowering}

    def to_dict(self) -> dict[str, Any]:
        text = str(self.mapping)
        if self.lowering != "direct":
            text = f"{self.lowering}: {text}"
        return {"layer": self.layer.name, "workload_hash": self.layer.workload_hash(),
                "shape": self.layer.describe(), "mapping": self.attrs(),
                "lowering": self.lowering, "mapping_text": text, "cycles": self.cycles,
                "energy_pj": self.energy_pj, "utilization": self.utilization,
                "candidates": self.candidates}


@dataclass(frozen=True)
class ModelCost:
    cycles: float
    energy_pj: float

    @property
    def edp(self) -> float:
        return self.cycles * self.energy_pj

    def value(self, goal: str) -> float:
        return float(metric(self.cycles, self.energy_pj, goal))

    def to_dict(self) -> dict[str, float]:
        return {"cycles": self.cycles, "energy_pj": self.energy_pj, "edp": self.edp}


@dataclass(frozen=True)
class HwResult:
    """One HW evaluation: per-layer bests and per-model totals, or infeasible; `goal` is
    the metric its objective sums the log of over models."""

    target: Target
    layers: dict[str, LayerBest]
    models: dict[str, ModelCost]
    reason: str = ""
    goal: str = "edp"

    @property
    def feasible(self) -> bool:
        return not self.reason

    @property
    def objective(self) -> float:
        if not self.feasible:
            return math.inf
        return float(sum(math.log(m.value(self.goal)) for m in self.models.values()))

    def to_dict(self) -> dict[str, Any]:
        return {"target": self.target.to_dict(), "reason": self.reason, "goal": self.goal,
                "models": {k: v.to_dict() for k, v in self.models.items()},
                "layers": {h: b.to_dict() for h, b in self.layers.items()}}


def derived_seed(*parts: object) -> int:
    """A 31-bit seed from stable text, so a layer's search does not depend on order."""
    text = ":".join(str(p) for p in parts)
    return int(hashlib.sha256(text.encode()).hexdigest()[:8], 16) & 0x7FFFFFFF


LayerRow = tuple[str, dict[str, Any], str, str, str, LayerRecord, int]


class NestedEvaluator:
    """Evaluates hardware points for a set of models, caching layer searches."""

    def __init__(self, models: MappingABC[str, Workload], evaluator: Evaluator,
                 sw: SwConfig, db: TuningDB | None = None,
                 host: MappingABC[str, HostCost] | None = None,
                 steps: MappingABC[str, AccelSteps] | None = None) -> None:
        if not models:
            raise DseError("no model to co-design for")
        self.models = dict(models)
        self.host = {name: (host or {}).get(name, HostCost()) for name in self.models}
        """Each model's CPU steps (the same on every design: they run on the host core),
        added to every design's totals."""
        self.steps = {name: list((steps or {}).get(name, [])) for name in self.models}
        """Each model's unmapped Gemmini calls (residual adds, ...; accel_steps.py),
        costed per design and added to its totals."""
        self.evaluator = evaluator
        self.sw = sw
        self.db = db
        self.search = LayerSearch(evaluator, sw)
        self.unique: dict[str, Layer] = {}
        for name, workload in self.models.items():
            if not workload:
                raise DseError(f"model {name!r} has no layer to accelerate")
            for layer, count in workload:
                if count < 1:
                    raise DseError(f"model {name!r}: layer {layer.name!r} count must be >= 1")
                self.unique.setdefault(layer.workload_hash(), layer)

    def layers(self) -> list[Layer]:
        return list(self.unique.values())

    # ----------------------------------------------------------------- HW level
    def evaluate(self, target: Target) -> tuple[HwResult, list[LayerRow]]:
        """Search every unique layer on `target`; returns the result and new DB rows."""
        bests: dict[str, LayerBest] = {}
        rows: list[LayerRow] = []
        for h, layer in self.unique.items():
            try:
                best, row = self.search_layer(layer, target)
            except NoLegalMapping as err:
                return HwResult(target, {}, {}, str(err), self.goal), rows
            bests[h] = best
            if row is not None:
                rows.append(row)
        return HwResult(target, bests, self.totals(bests, target), goal=self.goal), rows

    @property
    def goal(self) -> str:
        return self.sw.objective

    def result_of(self, target: Target, picks: MappingABC[str, tuple[Any, ...]] | str) -> HwResult:
        """The HwResult of per-layer picks (mapping, cycles, energy, utilisation, candidates)
        a searcher found itself (its `evaluate_target` hook), or of why none exists."""
        if isinstance(picks, str):
            return HwResult(target, {}, {}, picks, self.goal)
        bests = {h: LayerBest(self.unique[h], *picks[h]) for h in self.unique}
        return HwResult(target, bests, self.totals(bests, target), goal=self.goal)

    def totals(self, bests: MappingABC[str, LayerBest], target: Target) -> dict[str, ModelCost]:
        out = {}
        for name, workload in self.models.items():
            cycles = sum(n * bests[layer.workload_hash()].cycles for layer, n in workload)
            energy = sum(n * bests[layer.workload_hash()].energy_pj for layer, n in workload)
            fixed_c, fixed_e = self.fixed(name, target)
            out[name] = ModelCost(float(cycles) + fixed_c, float(energy) + fixed_e)
        return out

    def fixed(self, name: str, target: Target) -> tuple[float, float]:
        """(cycles, energy_pj) of model `name` on `target` that no mapping changes: its host
        steps and its unmapped Gemmini calls (costed by the run's evaluator)."""
        host = self.host[name]
        cycles, energy = steps_cost(self.steps[name], target, self.evaluator.step_cost)
        return host.cycles + cycles, host.energy_pj + energy

    def heuristic(self, target: Target) -> HwResult:
        """Gemmini's own tiling of every layer on `target` (the baseline)."""
        bests = {}
        for h, layer in self.unique.items():
            mapping = heuristic_mapping(layer, target)
            cost = self.evaluator.evaluate(layer, target,
                                           MappingBatch.from_mappings(layer, [mapping]))
            bests[h] = LayerBest(layer, mapping, float(cost.cycles[0]),
                                 float(cost.energy_pj[0]), float(cost.utilization[0]), 1)
        return HwResult(target, bests, self.totals(bests, target), goal=self.goal)

    # ----------------------------------------------------------------- SW level
    def search_layer(self, layer: Layer, target: Target) -> tuple[LayerBest, LayerRow | None]:
        """The layer's best mapping on `target`: from the database when a run stored it,
        else searched (then also returned as a new DB row)."""
        rec = self.stored(layer, target)
        if rec is not None:
            return cached_best(layer, rec), None
        return self.search.search(layer, target)

    def stored(self, layer: Layer, target: Target) -> LayerRecord | None:
        """The database's result of this layer's search on `target`, if any run stored it."""
        if self.db is None:
            return None
        return self.db.layer_result(layer.workload_hash(), target.to_json(),
                                    self.evaluator.cache_key, self.sw.key())


def cached_best(layer: Layer, rec: LayerRecord) -> LayerBest:
    """A stored layer result as the LayerBest it was."""
    return LayerBest(layer, Mapping.from_attrs(rec.mapping), rec.cycles, rec.energy_pj,
                     rec.utilization, rec.candidates, str(rec.mapping.get("lowering", "direct")))


class LayerSearch:
    """The per-layer mapping search on one target, without the database: what an
    executor's worker runs for one task (dse/tasks.py)."""

    def __init__(self, evaluator: Evaluator, sw: SwConfig) -> None:
        self.evaluator = evaluator
        self.sw = sw

    @property
    def goal(self) -> str:
        return self.sw.objective

    def search(self, layer: Layer, target: Target) -> tuple[LayerBest, LayerRow]:
        """The best mapping over every lowering the layer allows, and its DB row."""
        h = layer.workload_hash()
        key = self.sw.key()
        tjson = target.to_json()
        # seeded by what the search is, not by the run: a cached result from any run is
        # exactly what this run would compute, so results never depend on the cache
        seed = derived_seed(h, tjson, replace(self.sw, im2col=False).key())
        lowerings = ["direct"] + (["im2col"] if can_im2col(layer, self.sw.im2col) else []) \
            + ([FLAT] if can_flat(layer) else [])
        found: list[LayerBest] = []
        first_error: NoLegalMapping | None = None
        for lowering in lowerings:
            try:
                found.append(self._search_lowered(layer, target, lowering,
                                                  derived_seed(seed, lowering)))
            except NoLegalMapping as err:
                first_error = first_error or err
        if not found:
            assert first_error is not None
            raise first_error
        best = min(found, key=lambda b: metric(b.cycles, b.energy_pj, self.goal))
        rec = LayerRecord(best.attrs(), best.cycles, best.energy_pj, best.utilization,
                          sum(b.candidates for b in found))
        row = (h, dict(layer.shape_dict()), tjson, self.evaluator.cache_key, key, rec, seed)
        return LayerBest(layer, best.mapping, best.cycles, best.energy_pj, best.utilization,
                         rec.candidates, best.lowering), row

    def cost(self, layer: Layer, target: Target, mapping: Mapping) -> LayerBest:
        """The cost of exactly `mapping` (one that a searcher chose itself); NoLegalMapping
        when the evaluator cannot run it."""
        return self._pick(layer, target, MappingBatch.from_mappings(layer, [mapping]), 1)

    def _search_lowered(self, layer: Layer, target: Target, lowering: str,
                        seed: int) -> LayerBest:
        if lowering == FLAT:
            return self._search_flat(layer, target)
        mapped = lowered(layer, lowering)
        space = MappingSpace(mapped, target)
        if self.sw.strategy == "batch":
            best = self._batch(mapped, target, space, seed)
        else:
            best = self._searched(mapped, target, space, seed)
        extra_cycles, extra_energy = overhead(layer, lowering)
        return LayerBest(layer, best.mapping, best.cycles + extra_cycles,
                         best.energy_pj + extra_energy, best.utilization, best.candidates,
                         lowering)

    def _search_flat(self, layer: Layer, target: Target) -> LayerBest:
        """Every flat tile pair that fits (a few hundred) with a vectorised evaluator, an
        even spread of at most FLAT_SAMPLES of them otherwise."""
        tiles = flat_candidates(layer, target)  # type: ignore[arg-type]
        if not len(tiles):
            raise NoLegalMapping(layer.name, layer.describe(), target.name,
                                 "no flat depthwise tile fits")
        if not self.evaluator.vectorised and len(tiles) > FLAT_SAMPLES:
            tiles = tiles[np.linspace(0, len(tiles) - 1, FLAT_SAMPLES).round().astype(int)]
        cost = self.evaluator.evaluate_flat(layer, target, tiles)  # type: ignore[arg-type]
        score = self._score(cost.cycles, cost.energy_pj)
        i = int(np.argmin(score))
        if not np.isfinite(score[i]):
            raise NoLegalMapping(layer.name, layer.describe(), target.name,
                                 f"the {self.evaluator.name} evaluator ran no flat tile")
        mapping = flat_mapping(layer, target.dim, int(tiles[i, 0]), int(tiles[i, 1]))  # type: ignore[arg-type]
        return LayerBest(layer, mapping, float(cost.cycles[i]), float(cost.energy_pj[i]),
                         float(cost.utilization[i]), len(tiles), FLAT)

    def _heuristic_batch(self, layer: Layer, target: Target) -> MappingBatch | None:
        try:
            return MappingBatch.from_mappings(layer, [heuristic_mapping(layer, target)])
        except MappingError:
            return None

    def _pick(self, layer: Layer, target: Target, batch: MappingBatch,
              candidates: int) -> LayerBest:
        cost = self.evaluator.evaluate(layer, target, batch)
        score = self._score(cost.cycles, cost.energy_pj)
        i = int(np.argmin(score))
        if not np.isfinite(score[i]):
            raise NoLegalMapping(layer.name, layer.describe(), target.name,
                                 f"the {self.evaluator.name} evaluator ran none of "
                                 f"{len(batch)} mappings")
        return LayerBest(layer, batch.mapping(layer, i), float(cost.cycles[i]),
                         float(cost.energy_pj[i]), float(cost.utilization[i]), candidates)

    def _score(self, cycles: np.ndarray, energy_pj: np.ndarray) -> np.ndarray:
        """The goal's metric per mapping, inf where the evaluator ran none."""
        score = metric(cycles, energy_pj, self.goal)
        return np.where(np.isfinite(score), score, np.inf)

    def _batch(self, layer: Layer, target: Target, space: MappingSpace,
               seed: int) -> LayerBest:
        parts = [p for p in (self._heuristic_batch(layer, target),) if p is not None]
        if self.sw.samples:
            parts.append(space.sample(self.sw.samples, seed=seed))
        batch = MappingBatch.concat(parts)
        return self._pick(layer, target, batch, len(batch))

    def _searched(self, layer: Layer, target: Target, space: MappingSpace,
                  seed: int) -> LayerBest:
        domain = SwDomain(space)
        searcher = make_searcher(self.sw.strategy, domain, seed, SW_CONFIG)
        heur = self._heuristic_batch(layer, target)
        best = self._pick(layer, target, heur, 1) if heur is not None else None
        for n in range(1, self.sw.trials + 1):
            x = searcher.ask()
            if x is None:
                break
            batch = domain.decode(x)
            cost = self.evaluator.evaluate(layer, target, batch)
            score = float(metric(cost.cycles[0], cost.energy_pj[0], self.goal))
            ok = math.isfinite(score) and score > 0
            searcher.tell(x, math.log(score) if ok else math.inf)
            if ok and (best is None
                       or score < metric(best.cycles, best.energy_pj, self.goal)):
                best = LayerBest(layer, batch.mapping(layer, 0), float(cost.cycles[0]),
                                 float(cost.energy_pj[0]), float(cost.utilization[0]), n)
        if best is None:
            raise NoLegalMapping(layer.name, layer.describe(), target.name,
                                 "the SW search found no mapping that runs")
        return LayerBest(best.layer, best.mapping, best.cycles, best.energy_pj,
                         best.utilization, self.sw.trials)




def result_from_dict(data: dict[str, Any], models: MappingABC[str, Workload]) -> HwResult:
    """Rebuild a stored HwResult (the layers are looked up in the models by hash).

    The database stores the result with sorted keys, so layers and models are put back in
    the models' order: a resumed run's report lists them as the uninterrupted run's does."""
    by_hash = {layer.workload_hash(): layer for w in models.values() for layer, _ in w}
    layers = {h: LayerBest(by_hash[h], Mapping.from_attrs(d["mapping"]), d["cycles"],
                           d["energy_pj"], d["utilization"], d["candidates"],
                           d.get("lowering", "direct"))
              for h, d in _in_order(data["layers"], by_hash)}
    models_cost = {k: ModelCost(v["cycles"], v["energy_pj"])
                   for k, v in _in_order(data["models"], models)}
    return HwResult(Target.from_dict(data["target"]), layers, models_cost, data["reason"],
                    data.get("goal", "edp"))


def _in_order(stored: dict[str, Any], order: MappingABC[str, Any]) -> list[tuple[str, Any]]:
    """`stored`'s items in the key order of `order` (keys it lacks last)."""
    rank = {k: i for i, k in enumerate(order)}
    return sorted(stored.items(), key=lambda kv: rank.get(kv[0], len(rank)))
