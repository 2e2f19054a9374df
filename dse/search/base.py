"""The ask/tell protocol every search strategy implements.

A searcher works on a `Domain`: a set of points, each a row of floats (its raw encoding),
that the domain can sample (only feasible points), map to features, and key for
deduplication. `ask()` returns the next point to evaluate, `tell(x, y)` reports its
objective (to minimise; `inf` for an invalid point). `ask_batch(n)` returns up to n
points to evaluate together (in parallel): every one of them must be told before the next
ask. The default is one point; searchers that propose batches (Spotlight's loop below,
populations, an iteration's layers) return the whole batch. The driver never looks inside a
searcher, so random search, daBO and vanilla BO are interchangeable, and because a searcher
is a pure function of its seed and the sequence of tells, replaying the stored tells
reproduces its asks exactly (resume).

`BatchSearcher` is Spotlight's loop (anchors.md section 2): draw `n_candidates` feasible
points, select `batch_size` of them (by default the best by the surrogate's score; random
order during warm-up, and with probability `exploration` afterwards), evaluate the batch,
refit.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Protocol

import numpy as np


class Domain(Protocol):
    """What a searcher needs to know about the points it searches."""

    def candidates(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """Up to n feasible points (rows of the raw encoding), drawn at random."""
        ...

    def features(self, x: np.ndarray) -> np.ndarray:
        """Domain features of points (rows), the input of daBO's surrogate."""
        ...

    def keys(self, x: np.ndarray) -> list[bytes]:
        """A key per point; points with equal keys are the same design."""
        ...

    # Optional: `feature_table()`, the features of every point of a finite domain (daBO then
    # scores every point and scales its inputs by the whole domain's spread), and
    # `core_keys(x)`, which points are variants of one core design (batches avoid repeats).


@dataclass(frozen=True)
class SearchConfig:
    """Spotlight's defaults for the HW level (the SW level uses warmup 30, exploration
    0.3): 1000 candidates, batches of 10, warm-up 10, exploration 0.1, LCB kappa 1."""

    n_candidates: int = 1000
    batch_size: int = 10
    warmup: int = 10
    exploration: float = 0.1
    kappa: float = 1.0
    kernel: str = "linear"


HW_CONFIG = SearchConfig()
SW_CONFIG = SearchConfig(warmup=30, exploration=0.3)


class Searcher(ABC):
    """Ask/tell search over a Domain; deterministic for a seed and a sequence of tells."""

    name = "searcher"

    def __init__(self, domain: Domain, seed: int, config: SearchConfig = HW_CONFIG) -> None:
        self.domain = domain
        self.config = config
        self.rng = np.random.default_rng(seed)
        self.seed = seed
        self.xs: list[np.ndarray] = []
        self.ys: list[float] = []
        self._seen: set[bytes] = set()

    @abstractmethod
    def ask(self) -> np.ndarray | None:
        """The next point to evaluate, or None when the domain has no unseen point."""

    def ask_batch(self, n: int) -> list[np.ndarray]:
        """Up to `n` points the searcher proposes without seeing each other's results
        (empty when the domain is exhausted); by default just the next `ask()`."""
        x = self.ask()
        return [] if x is None else [x]

    def tell(self, x: np.ndarray, y: float) -> None:
        self.xs.append(np.asarray(x, dtype=np.float64))
        self.ys.append(float(y))
        self._seen.update(self.domain.keys(np.atleast_2d(x)))

    def _unseen(self, cands: np.ndarray) -> np.ndarray:
        if len(cands) == 0:
            return cands
        keys = self.domain.keys(cands)
        keep, fresh = [], set()
        for i, k in enumerate(keys):
            if k not in self._seen and k not in fresh:
                fresh.add(k)
                keep.append(i)
        return cands[keep]


class BatchSearcher(Searcher):
    """Spotlight's candidate-batch loop; subclasses provide `score` (lower is better)."""

    def __init__(self, domain: Domain, seed: int, config: SearchConfig = HW_CONFIG) -> None:
        super().__init__(domain, seed, config)
        self._queue: list[np.ndarray] = []

    def ask(self) -> np.ndarray | None:
        while True:
            while self._queue:
                x = self._queue.pop(0)
                if self.domain.keys(x[None, :])[0] not in self._seen:
                    return x
            if not self._refill():
                return None

    def ask_batch(self, n: int) -> list[np.ndarray]:
        """The rest of the current batch (at most `n` points); a new batch is drawn only
        when the last one is used up, so the points are those sequential asks return."""
        out: list[np.ndarray] = []
        while len(out) < n and (self._queue or not out):
            x = self.ask()
            if x is None:
                break
            out.append(x)
        return out

    def _refill(self) -> bool:
        cands = self._unseen(self.domain.candidates(self.config.n_candidates, self.rng))
        if len(cands) == 0:
            return False
        explore = self.rng.random() < self.config.exploration
        finite = int(np.isfinite(self.ys).sum()) if self.ys else 0
        if finite < max(self.config.warmup, 2) or explore:
            order = self.rng.permutation(len(cands))
        else:
            order = self.select(cands, self.config.batch_size)
        self._queue = [cands[i] for i in order[: self.config.batch_size]]
        return True

    def select(self, cands: np.ndarray, n: int) -> np.ndarray:
        """Indices of the `n` candidates of the next batch: by default the best `score`s,
        core designs spread out; a searcher with a joint batch acquisition overrides it."""
        return self._diverse(cands, np.argsort(self.score(cands), kind="stable"), n)

    def _diverse(self, cands: np.ndarray, order: np.ndarray, n: int) -> np.ndarray:
        """The first `n` of `order` once candidates whose core design repeats an earlier
        one are moved back (core keys are computed only as far as the batch needs)."""
        core = getattr(self.domain, "core_keys", None)
        if core is None:
            return order[:n]
        seen: set[bytes] = set()
        first: list[int] = []
        later: list[int] = []
        for i in order:
            if len(first) == n:
                break
            k = core(cands[i][None, :])[0]
            (later if k in seen else first).append(int(i))
            seen.add(k)
        return np.array((first + later)[:n], dtype=np.int64)

    def score(self, cands: np.ndarray) -> np.ndarray:
        """Acquisition score of candidates given the tells so far (lower is better); the
        default `select` ranks by it, a searcher that overrides `select` need not."""
        raise NotImplementedError(f"{self.name} chooses its batches jointly")

    def training_data(self) -> tuple[np.ndarray, np.ndarray]:
        ys = np.array(self.ys)
        ok = np.isfinite(ys)
        return np.stack(self.xs)[ok], ys[ok]
