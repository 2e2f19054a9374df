"""Torch on one thread for the small models of the search (GPs, Starlight)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def single_thread() -> Iterator[None]:
    """Run torch on one thread: the GPs are tiny, so threads only add contention (and
    one thread keeps floating-point reductions in a fixed order)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)
