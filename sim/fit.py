"""Fit the timing constants on measured runs, with a by-layer train/held-out split.

The search is a multiplicative coordinate descent in log space over the constants that
describe what the RTL measurements include beyond the array itself: DRAM latency and
bandwidth, the CPU's instruction-issue and per-tile costs, and DMA/compute overheads.
The loss is the mean absolute log error (fast and slow runs weigh alike) or the MAPE the
calibration report scores, which punishes over-prediction more.
"""

from __future__ import annotations

import hashlib
import math
from collections import defaultdict
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, fields

import numpy as np
from dlac.ir.target import Target
from dlac.sim.calibrate import CALIBRATION_TARGET, HARNESS_TIMING, simulate_all
from dlac.sim.calibration_data import CalCase
from dlac.sim.timing import TimingParams

TARGET_KNOBS = ("dram_latency", "dram_bytes_per_cycle")
TIMING_KNOBS = ("host_tile_cycles", "host_issue_cycles", "llc_latency", "host_call_cycles",
                "host_conv_tile_cycles", "host_conv_call_cycles", "tlb_miss_cycles",
                "l2_miss_cycles", "dma_req_cycles", "mvin_fixed_cycles", "compute_fixed_cycles",
                "loop_fsm_cycles")
HELD_OUT_EVERY = 3


def is_held_out(layer: str, seed: int = 0) -> bool:
    """Deterministic by-layer split: about one layer in three is held out."""
    h = int(hashlib.sha256(f"{seed}:{layer}".encode()).hexdigest(), 16)
    return h % HELD_OUT_EVERY == 0


def split(cases: Sequence[CalCase], seed: int = 0) -> tuple[list[CalCase], list[CalCase]]:
    train = [c for c in cases if not is_held_out(c.layer, seed)]
    held = [c for c in cases if is_held_out(c.layer, seed)]
    return train, held


def subsample(cases: Sequence[CalCase], per_layer: int, seed: int = 0) -> list[CalCase]:
    """Up to `per_layer` rows per layer, spread over the layer's measured range."""
    by_layer: dict[str, list[CalCase]] = defaultdict(list)
    for c in cases:
        by_layer[c.layer].append(c)
    out: list[CalCase] = []
    for layer in sorted(by_layer):
        rows = sorted(by_layer[layer], key=lambda c: c.measured)
        picks = np.linspace(0, len(rows) - 1, min(per_layer, len(rows)))
        idx = np.unique(picks.round().astype(int))
        out += [rows[i] for i in idx]
    return out


@dataclass(frozen=True)
class Knobs:
    target: Target
    timing: TimingParams

    def get(self, name: str) -> float:
        return float(getattr(self.target if name in TARGET_KNOBS else self.timing, name))

    def set(self, name: str, value: float) -> Knobs:
        if name in TARGET_KNOBS:
            v = int(round(value)) if name == "dram_latency" else value
            return Knobs(self.target.replace(**{name: v}), self.timing)
        return Knobs(self.target, self.timing.replace(**{name: value}))

    def as_dict(self) -> dict[str, float]:
        return {n: self.get(n) for n in TARGET_KNOBS + TIMING_KNOBS}


def _chunk_eval(args: tuple[list[CalCase], Target, TimingParams]) -> list[float]:
    cases, target, timing = args
    return simulate_all(cases, timing, target)


#: Simulated cycles by (CalCase.index, knobs): the simulator is deterministic, so a row run
#: once under some constants never needs re-running under the same ones. Share one memo only
#: between calls on cases of one `load_cases` (the index names a row of one file).
Memo = dict[tuple[int, Knobs], float]

#: Knobs a row of each kind never reads: the C library charges `host_conv_*` only in
#: tiled_conv and `host_call/tile_cycles` only in tiled_matmul / resadd (gemmini_lib.h,
#: `dlac_charge`). The memo keys a row by its knobs with these zeroed, so a trial that moves
#: only them re-uses the row's simulation (tests/sim/test_cv.py checks the rows agree).
UNREAD_KNOBS = {"conv": ("host_call_cycles", "host_tile_cycles"),
                "matmul": ("host_conv_call_cycles", "host_conv_tile_cycles")}


def memo_key(case: CalCase, knobs: Knobs) -> tuple[int, Knobs]:
    """The memo's key of one row: its index and the knobs its kind reads."""
    unread = UNREAD_KNOBS.get(case.kind, ())
    return case.index, Knobs(knobs.target, knobs.timing.replace(**dict.fromkeys(unread, 0.0)))


def predict(cases: Sequence[CalCase], knobs: Knobs, jobs: int = 1,
            progress: Callable[[int], None] | None = None,
            memo: Memo | None = None) -> list[float]:
    """Simulated cycles per case, in `jobs` worker processes (chunks of 8 for progress);
    with `memo`, only rows it does not hold for these knobs are simulated."""
    if memo is None:
        return _simulate(cases, knobs, jobs, progress)
    keys = [memo_key(c, knobs) for c in cases]
    todo = list({k: c for c, k in zip(cases, keys, strict=True) if k not in memo}.items())
    got = _simulate([c for _, c in todo], knobs, jobs, progress)
    memo.update({k: p for (k, _), p in zip(todo, got, strict=True)})
    return [memo[k] for k in keys]


def _simulate(cases: Sequence[CalCase], knobs: Knobs, jobs: int,
              progress: Callable[[int], None] | None) -> list[float]:
    if jobs <= 1 or len(cases) < 2 * jobs:
        return simulate_all(cases, knobs.timing, knobs.target, progress)
    chunks = [list(range(i, min(i + 8, len(cases)))) for i in range(0, len(cases), 8)]
    out = [0.0] * len(cases)
    with ProcessPoolExecutor(jobs) as pool:
        futures = [pool.submit(_chunk_eval, ([cases[i] for i in ch], knobs.target, knobs.timing))
                   for ch in chunks]
        for ch, fut in zip(chunks, futures, strict=True):
            for i, value in zip(ch, fut.result(), strict=True):
                out[i] = value
            if progress:
                progress(len(ch))
    return out


def log_loss(cases: Sequence[CalCase], pred: Sequence[float]) -> float:
    errs = [abs(math.log(p / c.measured))
            for c, p in zip(cases, pred, strict=True) if p == p and p > 0]
    return float(np.mean(errs)) if errs else float("inf")


def mape_loss(cases: Sequence[CalCase], pred: Sequence[float]) -> float:
    errs = [abs(p - c.measured) / c.measured
            for c, p in zip(cases, pred, strict=True) if p == p and p > 0]
    return float(np.mean(errs)) if errs else float("inf")


LOSSES: dict[str, Callable[[Sequence[CalCase], Sequence[float]], float]] = {
    "log": log_loss, "mape": mape_loss}


def fit(cases: Sequence[CalCase], start: Knobs | None = None, *, rounds: int = 3, jobs: int = 1,
        step: float = 2.0, names: Sequence[str] = TARGET_KNOBS + TIMING_KNOBS,
        loss: str = "log", log: Callable[[str], None] = print, memo: Memo | None = None) -> Knobs:
    """Coordinate descent over `names`, square-rooting the multiplicative step each round.
    `memo` (see `predict`) lets fits that revisit the same constants, such as the folds of a
    cross-validation that all start from the same prior, share their simulations."""
    loss_of = LOSSES[loss]
    knobs = start or Knobs(CALIBRATION_TARGET, HARNESS_TIMING)
    best = loss_of(cases, predict(cases, knobs, jobs, memo=memo))
    log(f"start loss {best:.4f} {knobs.as_dict()}")
    for r in range(rounds):
        for name in names:
            for direction in (step, 1 / step):
                cur = knobs.get(name)
                trial_value = cur * direction if cur > 0 else (1.0 if direction > 1 else 0.0)
                if name == "loop_fsm_cycles" and trial_value < 0.25:
                    continue
                trial = knobs.set(name, trial_value)
                value = loss_of(cases, predict(cases, trial, jobs, memo=memo))
                if value < best - 1e-4:
                    best, knobs = value, trial
                    log(f"round {r} {name} -> {trial_value:.4g}: loss {value:.4f}")
                    break
        step = math.sqrt(step)
    log(f"final loss {best:.4f}")
    return knobs


def timing_fields() -> tuple[str, ...]:
    return tuple(f.name for f in fields(TimingParams))
