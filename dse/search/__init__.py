"""The search strategies, one module each; importing this package registers them all in
`dlac.dse.registry.SEARCHERS` (the protocol they share is in `base`)."""

from __future__ import annotations

from typing import Any

from ..registry import SEARCHERS
from . import dabo, random_search, vanilla_bo
from .base import HW_CONFIG, Domain, SearchConfig, Searcher

__all__ = ["dabo", "make_searcher", "random_search", "searcher_names", "vanilla_bo"]


def searcher_names() -> list[str]:
    return SEARCHERS.names()


def make_searcher(name: str, domain: Domain, seed: int, config: SearchConfig = HW_CONFIG,
                  **options: Any) -> Searcher:
    """Build the searcher registered as `name` (one-line error for an unknown name)."""
    return SEARCHERS.get(name)(domain, seed, config, **options)
