"""The report's Polaris part: per-HW-candidate convergence and Starlight's accuracy.

From the searcher's `trace` (dse/search/polaris.py): for every HW candidate, the design's
best objective metric after each of its software iterations (the dissertation's Figure
6.5: segments per candidate, the cumulative minimum within each), and for every sample
the surrogate's predicted ln cost *before* the sample ran against the measured one. Those
predictions come from a model fitted on earlier samples only, so the Spearman rho and
Pearson r here are held-out (prospective) accuracy on the points the search chose, which
are the points it ranks best, not a uniform sample of the space.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
from scipy.stats import pearsonr, spearmanr

from .objective import label

PLOTS = {"candidates": "polaris_candidates.png", "predictions": "polaris_predictions.png"}


def section(searcher: Any) -> dict[str, Any] | None:
    """report.json's `polaris` entry, or None for a searcher without a trace."""
    trace = getattr(searcher, "trace", None)
    if trace is None:
        return None
    pairs = [(float(p), float(m)) for entry in trace for p, m in entry["predicted_measured"]]
    return {"candidates": [{"target": e["target"], "best": e["best"]} for e in trace],
            "predicted_measured": [list(p) for p in pairs], **_accuracy(pairs)}


def _accuracy(pairs: list[tuple[float, float]]) -> dict[str, Any]:
    """Spearman rho and Pearson r of predicted vs measured ln cost (None when undefined:
    fewer than 3 points or a constant side)."""
    out: dict[str, Any] = {"points": len(pairs), "spearman_rho": None, "pearson_r": None}
    if len(pairs) < 3:
        return out
    pred, meas = np.array(pairs).T
    if np.ptp(pred) == 0 or np.ptp(meas) == 0:
        return out
    out["spearman_rho"] = float(spearmanr(pred, meas).statistic)
    out["pearson_r"] = float(pearsonr(pred, meas).statistic)
    return out


def plot_candidates(sec: dict[str, Any], goal: str, path: Path) -> None:
    """Figure 6.5: one segment per HW candidate, its cumulative minimum per SW iteration."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(max(6.0, 0.15 * _iterations(sec)), 4))
    at = 0
    for i, cand in enumerate(sec["candidates"]):
        xs = [at + k + 1 for k, v in enumerate(cand["best"]) if v is not None]
        ys = [v for v in cand["best"] if v is not None]
        if ys:
            ax.plot(xs, ys, "-o", ms=3, color=f"C{i % 10}", label=cand["target"])
        at += len(cand["best"])
        ax.axvline(at + 0.5, color="gray", linestyle="--", linewidth=0.8)
    ax.set_yscale("log")
    ax.set_xlabel("software iteration (gray lines separate hardware candidates)")
    ax.set_ylabel(label(goal))
    ax.legend(fontsize=6, loc="upper right")
    _save(fig, path)


def _iterations(sec: dict[str, Any]) -> int:
    return sum(len(c["best"]) for c in sec["candidates"])


def plot_predictions(sec: dict[str, Any], goal: str, path: Path) -> None:
    """Predicted (before the run) vs measured ln cost of every sample, with rho."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 5))
    pts = np.array(sec["predicted_measured"]).reshape(-1, 2)
    if len(pts):
        ax.scatter(pts[:, 1], pts[:, 0], s=10, alpha=0.6)
        lo, hi = float(pts.min()), float(pts.max())
        ax.plot([lo, hi], [lo, hi], color="gray", linestyle="--", linewidth=0.8)
    ax.set_xlabel(f"measured ln {label(goal)}")
    ax.set_ylabel(f"predicted ln {label(goal)} (surrogate)")
    ax.set_title(f"held-out predictions: Spearman rho {_fmt(sec['spearman_rho'])}, "
                 f"n = {sec['points']}", fontsize=9)
    _save(fig, path)


def _save(fig: Any, path: Path) -> None:
    import matplotlib.pyplot as plt

    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _fmt(v: float | None) -> str:
    return "-" if v is None or not math.isfinite(v) else f"{v:.3f}"


def markdown(sec: dict[str, Any]) -> list[str]:
    """report.md's Polaris section."""
    lines = ["", "## Polaris", "",
             f"Starlight's predictions made before each sample ran (fitted on the earlier "
             f"samples only): Spearman rho {_fmt(sec['spearman_rho'])}, Pearson r "
             f"{_fmt(sec['pearson_r'])} over {sec['points']} samples.", "",
             f"![cumulative minimum per hardware candidate]({PLOTS['candidates']})", "",
             f"![predicted vs measured]({PLOTS['predictions']})", "",
             "| HW iteration | design | best after each software iteration |", "|---|---|---|"]
    for i, cand in enumerate(sec["candidates"]):
        best = ", ".join("-" if v is None else f"{v:.4g}" for v in cand["best"])
        lines.append(f"| {i + 1} | {cand['target']} | {best} |")
    return lines
