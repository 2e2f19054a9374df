"""Signal-to-quantisation-noise ratio: the one accuracy figure dlac reports everywhere
(`--sensitivity`, `--validate`'s `sqnr_db`, the coverage benchmark)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def sqnr_db(want: Sequence[np.ndarray], got: Sequence[np.ndarray]) -> float:
    """10 log10(signal power / noise power) in float64, all outputs together (their
    signal and noise summed); `want` is the reference."""
    if len(want) != len(got):
        raise ValueError(f"sqnr: {len(want)} reference outputs vs {len(got)} outputs")
    signal = sum(float((np.asarray(w, np.float64) ** 2).sum()) for w in want)
    noise = sum(float(((np.asarray(w, np.float64) - np.asarray(g, np.float64)) ** 2).sum())
                for w, g in zip(want, got, strict=True))
    return float(10 * np.log10(max(signal, 1e-300) / max(noise, 1e-300)))
