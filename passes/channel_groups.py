"""Output-channel groups that share one int8 weight scale.

Gemmini requantizes a whole conv call with one multiplier, so per-channel weight scales
cannot be applied inside one call. A conv whose output channels have very different
weight ranges (BatchNorm folded into it) can instead run as a few calls, each over a
group of channels with similar ranges and its own scale, concatenated and put back in
channel order by one gather. Channels are sorted by weight range and cut into at most
`max_groups` runs minimising the total rounding noise, which for round-to-nearest is
proportional to sum over channels of (group scale)^2 x weights per channel.
"""

from __future__ import annotations

import numpy as np

#: Split only when the grouped weight noise is at most this fraction of one scale's
#: (3 dB): every extra group costs a call and the regrouping gather on the host.
MIN_GAIN = 0.5


def channel_groups(w_oihw: np.ndarray, max_groups: int) -> list[np.ndarray]:
    """Output-channel index sets (ascending within a set) sharing one scale each; a single
    set of all channels when splitting does not pay."""
    k = w_oihw.shape[0]
    everything = [np.arange(k)]
    if max_groups <= 1 or k < 2:
        return everything
    amax = np.abs(np.asarray(w_oihw, np.float64)).reshape(k, -1).max(axis=1)
    order = np.argsort(amax, kind="stable")
    cuts, noise = _best_cuts(amax[order] ** 2, min(max_groups, k))
    if noise > MIN_GAIN * float(amax.max() ** 2) * k:
        return everything
    bounds = [0, *cuts, k]
    return [np.sort(order[a:b]) for a, b in zip(bounds, bounds[1:], strict=False) if b > a]


def _best_cuts(sq: np.ndarray, groups: int) -> tuple[list[int], float]:
    """Cut points of ascending `sq` into <= `groups` runs minimising sum(max of run * run
    length) (dynamic programming over run ends), and that minimum."""
    k = sq.size
    ends = np.arange(1, k + 1)
    best = sq * ends  # one run [0, j)
    back = [np.zeros(k, np.int64)]
    for _ in range(1, groups):
        new = best.copy()
        arg = np.zeros(k, np.int64)
        for j in range(1, k):
            # last run [i + 1, j], the previous runs ending at i
            cand = best[:j] + sq[j] * (j - np.arange(j))
            i = int(np.argmin(cand))
            if cand[i] < new[j]:
                new[j], arg[j] = cand[i], i + 1
        best = new
        back.append(arg)
    cuts: list[int] = []
    end = k
    for arg in reversed(back[1:]):
        start = int(arg[end - 1])
        if start > 0:
            cuts.append(start)
            end = start
    return sorted(cuts), float(best[-1])
