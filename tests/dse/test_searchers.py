"""The ask/tell protocol on a toy domain: every searcher runs, never repeats a point, is
deterministic for a seed, and its asks replay exactly from stored tells."""

from __future__ import annotations

import numpy as np
import pytest
from dlac.dse.errors import DseError
from dlac.dse.search import make_searcher, searcher_names
from dlac.dse.search.base import SearchConfig

CONFIG = SearchConfig(n_candidates=40, batch_size=5, warmup=6, exploration=0.1)


class Grid2D:
    """Points (a/9, b/9) for a, b in 0..9; features add squared distances to a corner."""

    def __init__(self) -> None:
        a, b = np.meshgrid(np.arange(10), np.arange(10), indexing="ij")
        self.points = np.stack([a.ravel(), b.ravel()], axis=1) / 9.0

    def candidates(self, n: int, rng: np.random.Generator) -> np.ndarray:
        return self.points[rng.choice(len(self.points), size=min(n, 100), replace=False)]

    def features(self, x: np.ndarray) -> np.ndarray:
        return np.concatenate([x, (x - [3 / 9, 7 / 9]) ** 2], axis=1)

    def keys(self, x: np.ndarray) -> list[bytes]:
        return [np.round(r * 9).astype(np.int64).tobytes() for r in np.atleast_2d(x)]


def objective(x: np.ndarray) -> float:
    return float((x[0] * 9 - 3) ** 2 + (x[1] * 9 - 7) ** 2)


def run(name: str, seed: int, n: int) -> list[tuple[float, float]]:
    s = make_searcher(name, Grid2D(), seed, CONFIG)
    asked = []
    for _ in range(n):
        x = s.ask()
        assert x is not None
        asked.append(tuple(x))
        s.tell(x, objective(x))
    return asked


@pytest.mark.parametrize("name", ["random", "dabo", "vanilla-bo"])
def test_searcher_deterministic_and_no_repeats(name: str) -> None:
    a = run(name, 3, 20)
    assert a == run(name, 3, 20)
    assert len(set(a)) == len(a)
    assert a != run(name, 4, 20)


@pytest.mark.parametrize("name", ["dabo", "vanilla-bo"])
def test_bo_beats_nothing_found(name: str) -> None:
    asked = run(name, 0, 25)
    assert min(objective(np.array(x)) for x in asked) <= 2.0


def test_random_exhausts_domain() -> None:
    s = make_searcher("random", Grid2D(), 0, CONFIG)
    seen = set()
    while (x := s.ask()) is not None:
        seen.add(tuple(x))
        s.tell(x, 0.0)
    assert len(seen) == 100


def test_invalid_points_are_skipped_by_the_surrogate() -> None:
    s = make_searcher("dabo", Grid2D(), 0, CONFIG)
    for i in range(12):
        x = s.ask()
        s.tell(x, float("inf") if i % 3 == 0 else objective(x))
    assert s.ask() is not None


def test_registry() -> None:
    assert {"random", "dabo", "vanilla-bo"} <= set(searcher_names())
    with pytest.raises(DseError, match="unknown searcher"):
        make_searcher("annealing", Grid2D(), 0)


class CoreGrid2D(Grid2D):
    """Grid2D whose points share a core design when they share the first coordinate."""

    def core_keys(self, x: np.ndarray) -> list[bytes]:
        return [np.round(r[:1] * 9).astype(np.int64).tobytes() for r in np.atleast_2d(x)]


def test_batches_put_repeated_core_designs_last() -> None:
    s = make_searcher("random", CoreGrid2D(), 0, CONFIG)
    cands = np.array([[1, 0], [1, 1], [2, 0], [1, 2], [3, 0]]) / 9.0
    assert s._diverse(cands, np.arange(5), 5).tolist() == [0, 2, 4, 1, 3]
    assert s._diverse(cands, np.arange(5), 2).tolist() == [0, 2]
    assert make_searcher("random", Grid2D(), 0, CONFIG)._diverse(cands, np.arange(5),
                                                                 5).tolist() == [0, 1, 2, 3, 4]
