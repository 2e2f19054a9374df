"""Random search: the baseline that asks feasible points in random order."""

from __future__ import annotations

from ..registry import SEARCHERS
from .base import BatchSearcher


@SEARCHERS.register("random")
class RandomSearch(BatchSearcher):
    """Never ranks candidates: every batch is a random draw of unseen feasible points."""

    name = "random"

    def _refill(self) -> bool:
        cands = self._unseen(self.domain.candidates(self.config.n_candidates, self.rng))
        if len(cands) == 0:
            return False
        order = self.rng.permutation(len(cands))
        self._queue = [cands[i] for i in order[: self.config.batch_size]]
        return True
