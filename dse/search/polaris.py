"""Polaris: co-design with the high-fidelity evaluator in the loop (dissertation 6.1).

n hardware iterations x m software iterations (`hw_iterations`, `sw_iterations`; 8 x 6
by default). A hardware candidate minimises the lower confidence bound (the paper's UCB
on -EDP) of the model's predicted cost over the continuous HW box, from Sobol starting
points with L-BFGS-B, and is rounded to the nearest unseen feasible design by L1 distance
(`hw_box`). The first candidate, before any data, is the feasible design nearest to
default Gemmini (`HwBox.closest`: default Gemmini with the widest feasible bus when the
space holds its size), so the search starts from the design and, in its first software
iteration, the mappings (Gemmini's own tiling is always a candidate) that the baselines
use. Per software iteration every unique layer draws `sw_samples` Sobol points of its
legal mapping space with tiles that divide the dims (spatial factors fill the array:
channel tiles move in whole DIM blocks) plus Gemmini's own mapping, scores them by LCB
and runs the best untried one on the driver's evaluator (the simulator with `--evaluator
sim`); the iteration's layers go to the executor together, their results join the
surrogate's data and it is refitted.

With `heuristic_first` (default) the first software iteration on every HW candidate
runs Gemmini's own mapping of each layer (counted in the budget, as daBO's batch search
counts it), so no design is judged worse than its heuristic baseline. The design's
mappings are chosen on its whole cost (`design_pick`: sum(energy) x sum(delay) over the
layers with their counts plus the CPU steps, the driver's objective), not per layer.

How the HW acquisition aggregates the layers (docs/codesign.md, "Polaris"): at a box point
u, each layer contributes its best predicted cost q_l = min over its candidate mappings of
mu - kappa * sigma of ln EDP, the candidates being Gemmini's own mapping and the layer's
`templates` best sampled mappings that are legal on the design nearest to u, encoded on
that design and relaxed to u's HW parameters (`PointModel.relax`); a model's ln EDP is
2 ln sum_l n_l exp(q_l / 2), the Cauchy-Schwarz bound (sum n E)(sum n D) >=
(sum n sqrt(E D))^2 that is exact when every layer draws the same power; models add their
logs. For latency or energy the layers' costs simply add.

The budget counts high-fidelity samples (`spent()`): one per unique layer per software
iteration. The last hardware iteration runs only the software iterations the budget has
left; a domain of one design (software-only DSE) spends the whole budget on it. A trial
stores its samples, so a resumed run replays them and refits on the same data.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable
from typing import Any

import numpy as np
from dlac.ir.target import Target
from dlac.passes.mapping import (
    Layer,
    Mapping,
    MappingBatch,
    MappingError,
    MappingSpace,
    NoLegalMapping,
    heuristic_mapping,
)
from scipy.optimize import minimize
from scipy.special import logsumexp
from scipy.stats import qmc

from ..errors import DseError
from ..measure import MappingTask
from ..models.threads import single_thread
from ..objective import metric
from ..registry import SEARCHERS
from .base import HW_CONFIG, Domain, SearchConfig, Searcher
from .design_pick import pick as pick_design
from .hw_box import HwBox
from .polaris_model import ModelFactory, PointModel

REFINED = 1
"""Best starting points of the HW acquisition that L-BFGS-B refines."""

Sample = tuple[str, Mapping, float, float, float, float]
"""(layer hash, mapping, cycles, energy pJ, utilisation, the surrogate's predicted ln cost
when it picked the mapping: nan before there was one) of one high-fidelity run."""


def _seed(*parts: object) -> int:
    """A 31-bit seed from the run's seed and what is being drawn (nested.derived_seed's
    rule; the searchers cannot import nested, which imports them)."""
    text = ":".join(str(p) for p in parts)
    return int(hashlib.sha256(text.encode()).hexdigest()[:8], 16) & 0x7FFFFFFF


def _key(mapping: Mapping) -> str:
    return json.dumps(mapping.to_attrs(), sort_keys=True)


def _heuristic(layer: Layer, target: Target) -> Mapping | None:
    """Gemmini's own mapping of `layer` on `target`, None where it has none."""
    try:
        return heuristic_mapping(layer, target)
    except MappingError:
        return None


@SEARCHERS.register("polaris")
class Polaris(Searcher):
    """Starlight-guided HW/SW co-design, high-fidelity samples in the loop."""

    name = "polaris"

    def __init__(self, domain: Domain, seed: int, config: SearchConfig = HW_CONFIG, *,
                 hw_iterations: int = 8, sw_iterations: int = 6, sw_samples: int = 512,
                 kappa: float = 1.0, templates: int = 4, hw_starts: int = 64,
                 surrogate: str = "starlight", low_points: int = 1 << 16,
                 low_epochs: int = 40, retrain: bool = False, progress: bool = True,
                 heuristic_first: bool = True) -> None:
        super().__init__(domain, seed, config)
        for opt, value in (("hw_iterations", hw_iterations), ("sw_iterations", sw_iterations),
                           ("sw_samples", sw_samples), ("templates", templates),
                           ("hw_starts", hw_starts)):
            if value < 1:
                raise DseError(f"polaris: {opt} must be >= 1, got {value}")
        if kappa < 0:
            raise DseError(f"polaris: kappa must be >= 0, got {kappa}")
        self._models = ModelFactory(surrogate, low_points, low_epochs, retrain, progress)
        self.hw_iterations, self.sw_iterations = hw_iterations, sw_iterations
        self.sw_samples, self.kappa, self.templates = sw_samples, kappa, templates
        self.hw_starts, self.heuristic_first = hw_starts, heuristic_first
        self.box = HwBox(domain)
        if len(self.box.pool) == 0:
            raise DseError("polaris: the hardware space has no feasible design")
        self._layers: dict[str, Layer] = {}
        self._counts: list[list[tuple[str, int]]] = []
        self._fixed: Callable[[Target], list[tuple[float, float]]] = lambda _: []
        """Per model, a design's cost no mapping changes (host steps, unmapped calls)."""
        self.trace: list[dict[str, Any]] = []
        """Per HW candidate: its name, the design's best objective metric after each
        software iteration, and each sample's (predicted, measured) ln cost (the report's
        Polaris plots)."""
        self._evaluator = ""
        self._goal = "edp"
        self._total: int | None = None
        self._spent = 0
        self._hw_done = 0
        self._x: list[np.ndarray] = []
        self._y: list[float] = []
        self._seen_maps: dict[str, list[tuple[Mapping, float]]] = {}
        self._model: PointModel | None = None
        self._encoder: PointModel | None = None
        self._fitted_on = -1
        self._designs: dict[int, tuple[np.ndarray, list[tuple[str, int]]]] = {}
        self._designs_at = -1

    @classmethod
    def default_budget(cls, unique_layers: int, *, hw_iterations: int, sw_iterations: int,
                       **_: Any) -> int:
        """The whole loop: n x m software iterations of one sample per unique layer."""
        return max(hw_iterations * sw_iterations * unique_layers, 1)

    # ----------------------------------------------------------------- driver hooks
    def prepare(self, nested: Any, budget: Any) -> None:
        """The layers, their counts per model and the budget of high-fidelity samples."""
        self._layers = dict(nested.unique)
        self._counts = [[(layer.workload_hash(), n) for layer, n in w]
                        for w in nested.models.values()]
        self._fixed = lambda target: [nested.fixed(m, target) for m in nested.models]
        self._evaluator = nested.evaluator.name
        self._goal = nested.goal
        self._models.prepare(self.box.space)
        self._encoder = self._models.make(self.seed)
        self._seen_maps = {h: [] for h in self._layers}
        self._total = budget.evaluations
        per = len(self._layers)
        if self._total is not None and self._total < per:
            raise DseError(f"polaris: a budget of {self._total} {self._evaluator} samples is "
                           f"below one software iteration ({per} unique layers, one sample "
                           f"each); one hardware iteration takes {per * self.sw_iterations}")

    def spent(self) -> int:
        return self._spent

    def ask(self) -> np.ndarray | None:
        if self._hw_done >= self.hw_iterations or self._left() < len(self._layers):
            return None
        return self.box.nearest(self._maximise(), self._seen)

    def tell(self, x: np.ndarray, y: float) -> None:
        super().tell(x, y)
        self._hw_done += 1

    def evaluate_target(self, target: Target, layers: dict[str, Layer],
                        executor: Any) -> tuple[dict[str, tuple[Any, ...]] | str, dict[str, Any]]:
        """m software iterations on `target`: per layer the best-LCB untried mapping, all
        layers of an iteration on the executor at once."""
        spaces: dict[str, MappingSpace] = {}
        for h, layer in layers.items():
            try:
                spaces[h] = self._space(layer, target)
            except NoLegalMapping as err:
                return str(err), {"samples": []}
        samples: list[Sample] = []
        tried: dict[str, set[str]] = {h: set() for h in layers}
        for it in range(self._iterations()):
            picks = {h: self._pick(spaces[h], h, it, tried[h]) for h in layers}
            tasks = [MappingTask(layers[h], target, self._evaluator, m)
                     for h, (m, _) in picks.items()]
            for (h, (m, pred)), outcome in zip(picks.items(), executor.gather(tasks),
                                               strict=True):
                tried[h].add(_key(m))
                best = outcome.best
                sample = (h, m, math.nan, math.nan, math.nan, pred) if best is None else \
                    (h, m, best.cycles, best.energy_pj, best.utilization, pred)
                samples.append(sample)
                self._add(target, sample)
            self._spent += len(layers)
        self._record(target, samples)
        return self._picks(samples, layers, target), {"samples": [self._dump(s) for s in samples]}

    def restore(self, x: np.ndarray, state: dict[str, Any] | None) -> None:
        """Replay a stored trial's samples (its result comes from the database)."""
        target = self.domain.target(x)  # type: ignore[attr-defined]
        rows = (state or {}).get("samples", [])
        samples = [self._load(row) for row in rows]
        for sample in samples:
            self._add(target, sample)
        self._spent += len(rows)
        self._record(target, samples)

    # ----------------------------------------------------------------- budget
    def _left(self) -> int:
        return (1 << 62) if self._total is None else self._total - self._spent

    def _iterations(self) -> int:
        """Software iterations of this HW candidate: m, or what the budget has left (all
        of it when the domain is a single design)."""
        fit = self._left() // max(len(self._layers), 1)
        if len(self.box.pool) == 1 and self._total is not None:
            return fit
        return min(self.sw_iterations, fit)

    # ----------------------------------------------------------------- data
    def _encode(self, target: Target, layer: Layer, batch: MappingBatch) -> np.ndarray:
        assert self._encoder is not None, "prepare() runs first"
        return self._encoder.encode(target, layer, batch)

    def _add(self, target: Target, sample: Sample) -> None:
        h, mapping, cycles, energy = sample[:4]
        cost = float(metric(cycles, energy, self._goal))
        if not (math.isfinite(cost) and cost > 0):
            return
        layer = self._layers[h]
        batch = MappingBatch.from_mappings(layer, [mapping])
        self._x.append(self._encode(target, layer, batch)[0])
        self._y.append(math.log(cost))
        self._seen_maps[h].append((mapping, math.log(cost)))

    @staticmethod
    def _dump(s: Sample) -> list[Any]:
        h, m, cycles, energy, util, pred = s
        ok = math.isfinite(cycles)
        return [h, m.to_attrs(), cycles if ok else None, energy if ok else None,
                util if ok else None, pred if math.isfinite(pred) else None]

    @staticmethod
    def _load(row: list[Any]) -> Sample:
        h, attrs, cycles, energy, util = row[:5]

        def num(v: Any) -> float:
            return math.nan if v is None else float(v)

        pred = num(row[5]) if len(row) > 5 else math.nan
        return h, Mapping.from_attrs(attrs), num(cycles), num(energy), num(util), pred

    def _finite(self, s: Sample) -> bool:
        value = float(metric(s[2], s[3], self._goal))
        return math.isfinite(value) and value > 0

    def _choose(self, samples: list[Sample], target: Target) -> dict[str, Sample] | None:
        """Each layer's sample minimising the design's whole cost (`design_pick`), starting
        from the better of the per-layer bests and Gemmini's own mappings; None while some
        layer has no finite sample."""
        mine: dict[str, list[Sample]] = {h: [] for h in self._layers}
        for s in samples:
            if self._finite(s):
                mine[s[0]].append(s)
        if any(not v for v in mine.values()):
            return None
        costs = {h: [(s[2], s[3]) for s in v] for h, v in mine.items()}
        base = {}
        for h, v in mine.items():
            heur = _heuristic(self._layers[h], target)
            hit = [i for i, s in enumerate(v) if heur is not None and _key(s[1]) == _key(heur)]
            if hit:
                base[h] = hit[0]
        choice = pick_design(costs, self._counts, self._fixed(target), self._goal, base)
        return {h: mine[h][i] for h, i in choice.items()}

    def _picks(self, samples: list[Sample], layers: dict[str, Layer],
               target: Target) -> dict[str, tuple[Any, ...]] | str:
        """Each layer's chosen sample as (mapping, cycles, energy, utilisation, count): the
        best design pick over the software iterations' prefixes (`trace`'s last value)."""
        found = [p for p in self._prefix_picks(samples, target) if p is not None]
        chosen = min(found, key=lambda p: p[0])[1] if found else None
        if chosen is None:
            for h, layer in layers.items():
                if not any(s[0] == h and self._finite(s) for s in samples):
                    tried = sum(1 for s in samples if s[0] == h)
                    return (f"layer {layer.name!r} ({layer.describe()}) on {target.name}: "
                            f"the {self._evaluator} evaluator ran none of the {tried} "
                            "mappings Polaris tried")
        assert chosen is not None
        counts = {h: sum(1 for s in samples if s[0] == h) for h in layers}
        return {h: (s[1], s[2], s[3], s[4], counts[h]) for h, s in chosen.items()}

    def _prefix_picks(self, samples: list[Sample],
                      target: Target) -> list[tuple[float, dict[str, Sample]] | None]:
        """After each software iteration: the design's objective and its pick from the
        samples so far (None while a layer has no finite sample)."""
        per = max(len(self._layers), 1)
        fixed = self._fixed(target)
        out: list[tuple[float, dict[str, Sample]] | None] = []
        for end in range(per, len(samples) + 1, per):
            chosen = self._choose(samples[:end], target)
            if chosen is None:
                out.append(None)
                continue
            value = sum(math.log(float(metric(
                host_c + sum(n * chosen[h][2] for h, n in model),
                host_e + sum(n * chosen[h][3] for h, n in model), self._goal)))
                for model, (host_c, host_e) in zip(self._counts, fixed, strict=True))
            out.append((value, chosen))
        return out

    def _record(self, target: Target, samples: list[Sample]) -> None:
        """`trace`'s entry for one HW candidate (the same from a run and from a replay)."""
        best, cur = [], math.inf
        for p in self._prefix_picks(samples, target):
            if p is not None:
                cur = min(cur, math.exp(p[0]))
            best.append(cur if math.isfinite(cur) else None)
        points = [(s[5], math.log(float(metric(s[2], s[3], self._goal))))
                  for s in samples if self._finite(s) and math.isfinite(s[5])]
        self.trace.append({"target": target.name, "best": best, "predicted_measured": points})

    # ----------------------------------------------------------------- surrogate
    def _fitted(self) -> PointModel | None:
        """The surrogate on every sample so far (refitted from scratch when data came)."""
        if len(self._y) < self._models.min_samples:
            return None
        if self._fitted_on != len(self._y):
            import torch

            fit_seed = _seed(self.seed, "fit", len(self._y))
            torch.manual_seed(fit_seed)
            with single_thread():
                self._model = self._models.make(fit_seed)
                self._model.fit(np.stack(self._x), np.array(self._y))
            self._fitted_on = len(self._y)
        return self._model

    def _lcb(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The surrogate's mean and mu - kappa sigma of ln cost at rows `x`."""
        model = self._fitted()
        assert model is not None
        with single_thread():
            mu, var = model.predict(x)
        return mu, mu - self.kappa * np.sqrt(np.maximum(var, 0.0))

    # ----------------------------------------------------------------- software
    @staticmethod
    def _space(layer: Layer, target: Target) -> MappingSpace:
        """Tiles that divide the dims; every legal tile when no divisor tile fits."""
        try:
            return MappingSpace(layer, target, divisors_only=True)
        except NoLegalMapping:
            return MappingSpace(layer, target)

    def _pick(self, space: MappingSpace, h: str, it: int,
              tried: set[str]) -> tuple[Mapping, float]:
        """The untried mapping of lowest LCB (Gemmini's own first with `heuristic_first`)
        and the surrogate's predicted ln cost of it (nan without a surrogate)."""
        layer, target = space.layer, space.target
        parts = []
        heur = _heuristic(layer, target)
        if heur is not None:
            parts.append(MappingBatch.from_mappings(layer, [heur]))
        parts.append(space.sobol(self.sw_samples,
                                 seed=_seed(self.seed, target.to_json(), h, it)))
        batch = MappingBatch.concat(parts)
        model = self._fitted()
        mu = np.full(len(batch), math.nan)
        if model is None:
            order = np.arange(len(batch))
        else:
            mu, lcb = self._lcb(self._encode(target, layer, batch))
            order = np.argsort(lcb, kind="stable")
        if self.heuristic_first and heur is not None and _key(heur) not in tried:
            order = np.concatenate([[0], order[order != 0]])
        for i in order:
            m = batch.mapping(layer, int(i))
            if _key(m) not in tried:
                return m, float(mu[i])
        return batch.mapping(layer, int(order[0])), float(mu[order[0]])

    # ----------------------------------------------------------------- hardware
    def _design(self, i: int) -> tuple[np.ndarray, list[tuple[str, int]]]:
        """Encoded candidate mappings of every layer on pool design `i` and how many each
        layer has: Gemmini's own mapping and the layer's best samples legal there."""
        if self._designs_at != len(self._y):
            self._designs, self._designs_at = {}, len(self._y)
        if i not in self._designs:
            target = self.domain.target(self.box.pool[i])  # type: ignore[attr-defined]
            rows, segments = [], []
            for h, seen in self._seen_maps.items():
                layer = self._layers[h]
                try:
                    space = MappingSpace(layer, target)
                except NoLegalMapping:
                    continue
                best = [m for m, _ in sorted(seen, key=lambda t: t[1])]
                cands = [m for m in best if space.is_legal(m)][: self.templates]
                try:
                    cands.append(heuristic_mapping(layer, target))
                except MappingError:
                    pass
                if cands:
                    rows.append(self._encode(target, layer,
                                             MappingBatch.from_mappings(layer, cands)))
                    segments.append((h, len(cands)))
            self._designs[i] = (np.concatenate(rows) if rows else np.zeros((0, 0)), segments)
        return self._designs[i]

    def acquisition(self, u: np.ndarray) -> np.ndarray:
        """Aggregated LCB of the models' ln cost at box points `u` (rows; lower is better)."""
        u = np.atleast_2d(u)
        assert self._encoder is not None
        hw = self.box.raw(u)
        parts, plans = [], []
        for j in range(len(u)):
            x, segments = self._design(self.box.nearest_index(u[j]))  # type: ignore[arg-type]
            parts.append(self._encoder.relax(x, hw[j]))
            plans.append(segments)
        _, lcb = self._lcb(np.concatenate(parts))
        out = np.empty(len(u))
        at = 0
        for j, segments in enumerate(plans):
            q: dict[str, float] = {}
            for h, n in segments:
                q[h] = float(lcb[at:at + n].min())
                at += n
            out[j] = self._aggregate(q)
        return out

    def _aggregate(self, q: dict[str, float]) -> float:
        """Sum over models of the predicted ln cost from per-layer ln costs `q`."""
        total = 0.0
        for counts in self._counts:
            terms = [(math.log(n), q[h]) for h, n in counts if h in q]
            if not terms:
                continue
            logn = np.array([t[0] for t in terms])
            qs = np.array([t[1] for t in terms])
            if self._goal == "edp":
                total += 2.0 * float(logsumexp(logn + qs / 2.0))
            else:
                total += float(logsumexp(logn + qs))
        return total

    def _sobol(self, n: int, *salt: object) -> np.ndarray:
        """n points of a scrambled Sobol sequence over the box (drawn as a power of two)."""
        sob = qmc.Sobol(self.box.width, scramble=True, seed=_seed(self.seed, *salt))
        return sob.random_base2(max(0, math.ceil(math.log2(n))))[:n]

    def _maximise(self) -> np.ndarray:
        """The box point of lowest aggregated LCB: `hw_starts` Sobol points and the best
        designs seen scored at once, the best refined by L-BFGS-B. Before there is a
        surrogate: the design nearest to default Gemmini first, then the next point of a
        Sobol sequence."""
        if self._fitted() is None:
            if self._hw_done == 0:
                return self.box.closest(Target())
            return self._sobol(self._hw_done + 1, "hw")[self._hw_done]
        finite = [i for i, y in enumerate(self.ys) if math.isfinite(y)]
        best = sorted(finite, key=lambda i: (self.ys[i], i))[:2]
        starts = np.concatenate([np.array([self.xs[i] for i in best]).reshape(-1, self.box.width),
                                 self._sobol(self.hw_starts, "starts", self._hw_done)])
        scores = self.acquisition(starts)
        bounds = [(0.0, 1.0)] * self.box.width
        found = []
        for i in np.argsort(scores, kind="stable")[:REFINED]:
            res = minimize(lambda v: float(self.acquisition(v)[0]), starts[i],
                           method="L-BFGS-B", bounds=bounds, options={"maxiter": 10})
            better = float(res.fun) <= float(scores[i])
            found.append((min(float(res.fun), float(scores[i])),
                          np.clip(res.x, 0.0, 1.0) if better else starts[i]))
        return min(found, key=lambda t: t[0])[1]
