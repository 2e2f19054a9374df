"""DiGamma (Kao et al., paper 004): a domain-aware genetic algorithm over one genome
holding the hardware and every layer's mapping. `genome` (the encoding and its
repairs), `buffers` (minimum-requirement buffer allocation), `operators` (the paper's
crossover, reorder, grow/aging, mutate-map, mutate-HW), `fitness` (population scoring
with the vectorised model), `searcher` (the registered `digamma` searcher)."""

from __future__ import annotations

from . import searcher
from .searcher import DiGamma

__all__ = ["DiGamma", "searcher"]
