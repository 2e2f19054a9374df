"""The search strategies, one module each; importing this package registers them all in
`dlac.dse.registry.SEARCHERS` (the protocol they share is in `base`).

A searcher's own settings are the keyword-only parameters of its constructor (population,
episodes, ...); `parse_options` turns `KEY=VALUE` texts into them by each default's type
and `make_searcher` rejects a name the searcher does not have, with one line."""

from __future__ import annotations

import inspect
from collections.abc import Iterable
from typing import Any

from ..errors import DseError
from ..registry import SEARCHERS
from . import cbo, confuciux, dabo, digamma, nevergrad_search, polaris, random_search, vanilla_bo
from .base import HW_CONFIG, Domain, SearchConfig, Searcher

__all__ = ["cbo", "confuciux", "dabo", "digamma", "make_searcher", "nevergrad_search",
           "parse_options", "polaris", "random_search", "searcher_names", "searcher_options",
           "vanilla_bo"]


def searcher_names() -> list[str]:
    return SEARCHERS.names()


def searcher_options(name: str) -> dict[str, Any]:
    """The settings searcher `name` takes, with their defaults."""
    sig = inspect.signature(SEARCHERS.get(name).__init__)
    return {p.name: p.default for p in sig.parameters.values()
            if p.kind is inspect.Parameter.KEYWORD_ONLY}


def _check_names(name: str, given: Iterable[str]) -> dict[str, Any]:
    known = searcher_options(name)
    for key in given:
        if key not in known:
            choices = ", ".join(sorted(known)) or "none"
            raise DseError(f"searcher {name!r} has no option {key!r} (its options: {choices})")
    return known


def _convert(name: str, key: str, text: str, default: Any) -> Any:
    try:
        if isinstance(default, bool):
            if text.lower() not in ("true", "false", "1", "0", "yes", "no"):
                raise ValueError(text)
            return text.lower() in ("true", "1", "yes")
        if isinstance(default, int):
            return int(text)
        if isinstance(default, float):
            return float(text)
    except ValueError:
        kind = type(default).__name__
        raise DseError(f"searcher {name!r} option {key}={text!r}: expected a {kind}") from None
    return text


def parse_options(name: str, items: Iterable[str]) -> dict[str, Any]:
    """`KEY=VALUE` texts (the CLI's --searcher-option) as searcher `name`'s settings."""
    pairs = []
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise DseError(f"searcher option {item!r} is not KEY=VALUE")
        pairs.append((key.strip(), value.strip()))
    known = _check_names(name, [k for k, _ in pairs])
    return {k: _convert(name, k, v, known[k]) for k, v in pairs}


def make_searcher(name: str, domain: Domain, seed: int, config: SearchConfig = HW_CONFIG,
                  **options: Any) -> Searcher:
    """Build the searcher registered as `name` (one-line error for an unknown name or
    option)."""
    cls = SEARCHERS.get(name)
    _check_names(name, options)
    return cls(domain, seed, config, **options)
