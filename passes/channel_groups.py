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


def contiguous_splits(w_oihw: np.ndarray, max_splits: int) -> list[int]:
    """Bounds [0, .., K] of at most `max_splits` runs of consecutive output channels, each
    with its own weight scale, minimising the same rounding noise; [0, K] when splitting
    does not pay. Consecutive runs need no regrouping: each is one call writing its slice
    of the output channels (qgraph.conv `k_splits`)."""
    k = w_oihw.shape[0]
    if max_splits <= 1 or k < 2:
        return [0, k]
    sq = np.abs(np.asarray(w_oihw, np.float64)).reshape(k, -1).max(axis=1) ** 2
    cost = np.full((k, k + 1), np.inf)  # cost[s, e]: run [s, e) at its largest range
    for s in range(k):
        cost[s, s + 1:] = np.maximum.accumulate(sq[s:]) * np.arange(1, k - s + 1)
    best = cost[0].copy()  # best[e]: channels [0, e) in the runs so far
    back = []
    for _ in range(1, min(max_splits, k)):
        cand = best[:k, None] + cost  # previous runs end at s, the last is [s, e)
        start = np.argmin(cand, axis=0)
        new = cand[start, np.arange(k + 1)]
        keep = best <= new
        back.append(np.where(keep, -1, start))
        best = np.where(keep, best, new)
    if best[k] > MIN_GAIN * float(sq.max()) * k:
        return [0, k]
    bounds, end = [k], k
    for step in reversed(back):
        if step[end] >= 0:
            end = int(step[end])
            bounds.append(end)
    return [0, *sorted(b for b in bounds if b > 0)]


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
