"""Best EDP vs evaluator samples, for `tools/bench_codesign.py` (its `--plot`).

A run's curve is its best-so-far objective metric after each step, with the evaluator
samples spent by then: per software iteration for Polaris (its `trace`: one sample per
unique layer each), per HW evaluation for the other searchers (that evaluation's
per-layer candidates). Curves of the same searcher are combined by the median over seeds
of their step functions on the union of their sample counts.
"""

from __future__ import annotations

import math
import statistics
from pathlib import Path
from typing import Any

Curve = list[list[float]]
"""[[samples so far, best metric so far], ...]."""


def run_curve(result: Any, unique_layers: int) -> Curve:
    """The best-so-far curve of one autotune result (module doc)."""
    out: Curve = []
    spent, best = 0, math.inf
    trace = getattr(result.searcher, "trace", None)
    if trace is not None:
        for cand in trace:
            for value in cand["best"]:
                spent += unique_layers
                if value is not None:
                    best = min(best, value)
                out.append([spent, best])
        return [p for p in out if math.isfinite(p[1])]
    for t in result.trials:
        spent += sum(b.candidates for b in t.result.layers.values())
        if t.result.feasible:
            best = min(best, math.exp(t.result.objective))
        out.append([spent, best])
    return [p for p in out if math.isfinite(p[1])]


def after_ratio(result: Any, candidates: int) -> float | None:
    """Polaris's best after its first `candidates` HW candidates over its final best
    (None for other searchers or shorter runs); issue 19 wants <= 1.05 after 3."""
    trace = getattr(result.searcher, "trace", None)
    if trace is None or len(trace) <= candidates:
        return None

    def best(entries: list[dict[str, Any]]) -> float:
        return min((v for e in entries for v in e["best"] if v is not None), default=math.inf)

    return best(trace[:candidates]) / best(trace)


def median_curve(curves: list[Curve]) -> Curve:
    """Median over runs of their step functions, at every sample count any run has."""
    xs = sorted({p[0] for c in curves for p in c})
    out: Curve = []
    for x in xs:
        values = [_at(c, x) for c in curves]
        known = [v for v in values if v is not None]
        if len(known) == len(curves):
            out.append([x, statistics.median(known)])
    return out


def _at(curve: Curve, x: float) -> float | None:
    last = None
    for sx, sy in curve:
        if sx > x:
            break
        last = sy
    return last


def plot(results: dict[str, Any], path: Path) -> None:
    """One panel per workload: each searcher's median curve, default Gemmini dashed."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(results), figsize=(4.5 * len(results), 3.8), squeeze=False)
    for ax, (wl, res) in zip(axes[0], results.items(), strict=True):
        for i, (name, curves) in enumerate(sorted(res.get("curves", {}).items())):
            med = median_curve(curves)
            if med:
                ax.step([p[0] for p in med], [p[1] for p in med], where="post",
                        color=f"C{i}", label=f"{name} (median of {len(curves)})")
        base = res["rows"].get("default_heuristic", {}).get("median")
        if base:
            ax.axhline(base, color="gray", linestyle="--", linewidth=0.8,
                       label="default Gemmini, heuristic")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_title(wl, fontsize=9)
        ax.set_xlabel("evaluator samples")
        ax.set_ylabel("best EDP (pJ x cycles)")
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
