"""What an autotune run leaves in `-o DIR`: report.json, report.md, PNG plots and the
tuned `gemmini_params.h`.

report.json's top-level keys: `target` (the chosen Target's fields), `target_name`,
`area_mm2`, `area_budget_mm2`, `cycles`, `energy_pj`, `edp` (summed over models; `edp` is
the product of the per-model EDPs, the quantity minimised), `models` (per-model cycles,
energy, EDP, all including the CPU steps, and `host`: those steps' instructions, cycles and
energy from dlac.passes.host_cost), `layers` (per unique layer: best mapping, cycles,
energy, utilisation),
`baselines` (default Gemmini with its heuristic mapping and with dlac's best mapping),
`headline` (EDP ratio vs default Gemmini on the simulator and on the analytical model, the
simulator's held-out error; `headline_text` says it in one line),
`history` (every evaluation in order), `feature_importance`, `options`, `run_key`,
`execution` (executor, workers, layer tasks, their summed seconds, wall seconds),
`polaris` (Polaris runs: dse/polaris_report.py, with two more plots; null otherwise).
Plots use matplotlib's Agg backend, so no display is needed.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from dlac.ir.gemmini_params import render_params_header
from dlac.ir.hwcost import area_mm2
from dlac.ir.target import Target
from dlac.passes.mapping import ConvLayer, Layer

from . import polaris_report
from .database import tool_version
from .driver import AutotuneResult
from .nested import HwResult
from .objective import label

_METRIC_KEY = {"edp": "edp", "latency": "cycles", "energy": "energy_pj"}
"""The report's per-design field holding each objective's metric."""

PLOTS = {"best_edp": "best_edp.png", "energy_delay": "energy_delay.png",
         "layers": "layers.png", "config": "config.png"}


def _totals(res: HwResult) -> dict[str, float | None]:
    """Cycles and energy summed over models; EDP = product of the models' EDPs (the
    minimised quantity). None for an infeasible design (JSON has no infinity)."""
    if not res.feasible:
        return {"cycles": None, "energy_pj": None, "edp": None}
    return {"cycles": sum(m.cycles for m in res.models.values()),
            "energy_pj": sum(m.energy_pj for m in res.models.values()),
            "edp": math.prod(m.edp for m in res.models.values())}


def _baseline(res: HwResult) -> dict[str, Any]:
    return {"target": res.target.name, "feasible": res.feasible, "reason": res.reason,
            "area_mm2": area_mm2(res.target), **_totals(res),
            "models": {k: v.to_dict() for k, v in res.models.items()}}


def roofline_utilization(layer: Layer, target: Target) -> float:
    """Utilisation bound of the layer on `target`: min(1, bandwidth x arithmetic intensity
    / peak), with every tensor moved once (the best any mapping can do)."""
    if isinstance(layer, ConvLayer):
        c = layer.canonical()
        traffic = (layer.batch * layer.in_rows * layer.in_cols * layer.in_channels
                   + c["R"] * c["S"] * c["C"] * c["K"] * c["G"]
                   + layer.batch * layer.out_rows * layer.out_cols * layer.out_channels)
    else:
        traffic = layer.i * layer.k + layer.k * layer.j + layer.i * layer.j
    bw = min(float(target.dma_beat_bytes), target.dram_bytes_per_cycle)
    peak = target.dim * target.dim
    return min(1.0, bw * layer.macs / traffic / peak)


def build_report(result: AutotuneResult) -> dict[str, Any]:
    best = result.best
    opts = result.options
    history = []
    for t in result.trials:
        r = t.result
        history.append({"idx": t.idx, "target": r.target.name, "feasible": r.feasible,
                        "reason": r.reason, "area_mm2": area_mm2(r.target),
                        "objective": r.objective if r.feasible else None,
                        **_totals(r), "seconds": t.seconds})
    return {
        "tool": "dlac", "tool_version": tool_version(), "run_key": result.run_key,
        "target": best.target.to_dict(), "target_name": best.target.name,
        "area_mm2": area_mm2(best.target), "area_budget_mm2": opts.space.area_budget_mm2,
        **_totals(best),
        "models": {k: v.to_dict() | {"host": result.host[k].to_dict() if k in result.host
                                     else None} for k, v in best.models.items()},
        "layers": [b.to_dict() | {"roofline_utilization": roofline_utilization(
            b.layer, best.target)} for b in best.layers.values()],
        "baselines": {"default_heuristic": _baseline(result.default_heuristic),
                      "default_best_mapping": _baseline(result.default_best)},
        "edp_improvement_vs_default": result.headline.ratio if result.headline else None,
        "headline": result.headline.to_dict() if result.headline else None,
        "headline_text": result.headline.sentence() if result.headline else None,
        "objective": best.goal,
        "history": history,
        "feature_importance": result.importance,
        "feasible_points": result.feasible_points,
        "resumed_evaluations": result.resumed_trials,
        "simulator": result.validation,
        "finalists": result.finalists,
        "execution": result.execution,
        "polaris": polaris_report.section(result.searcher),
        "options": {"searcher": opts.searcher, "evaluator": opts.evaluator,
                    "budget": str(opts.budget), "seed": opts.seed, "sw": opts.sw.key(),
                    "space": opts.space.to_dict(),
                    "searcher_options": {k: v for k, v in opts.searcher_options.items()
                                         if isinstance(v, (bool, int, float, str))}},
    }


# --------------------------------------------------------------------- plots
def _pareto(points: np.ndarray) -> np.ndarray:
    """Indices of the non-dominated (delay, energy) points, sorted by delay."""
    order = np.lexsort((points[:, 1], points[:, 0]))
    front, best_e = [], math.inf
    for i in order:
        if points[i, 1] < best_e:
            front.append(i)
            best_e = points[i, 1]
    return np.array(front, dtype=np.int64)


def _plot_best(report: dict[str, Any], path: Path) -> None:
    import matplotlib.pyplot as plt

    metric_key = _METRIC_KEY[report["objective"]]
    xs, ys, cur = [], [], math.inf
    for h in report["history"]:
        if h["feasible"]:
            cur = min(cur, h[metric_key])
        xs.append(h["idx"] + 1)
        ys.append(cur)
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.step(xs, ys, where="post", label=f"{report['options']['searcher']} (best so far)")
    for key, style in (("default_heuristic", "--"), ("default_best_mapping", ":")):
        b = report["baselines"][key]
        if b["feasible"]:
            ax.axhline(b[metric_key], linestyle=style, color="gray",
                       label=f"default Gemmini, {key[8:]}")
    ax.set_yscale("log")
    ax.set_xlabel("trials (hardware evaluations or generations)")
    ax.set_ylabel(label(report["objective"]))
    ax.legend(fontsize=8)
    _save(fig, path)


def _save(fig: Any, path: Path) -> None:
    import matplotlib.pyplot as plt

    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _plot_scatter(report: dict[str, Any], path: Path) -> None:
    import matplotlib.pyplot as plt

    feas = [h for h in report["history"] if h["feasible"]]
    pts = np.array([[h["cycles"], h["energy_pj"]] for h in feas]) if feas else np.zeros((0, 2))
    fig, ax = plt.subplots(figsize=(6, 4))
    if len(pts):
        ax.scatter(pts[:, 0], pts[:, 1], s=10, alpha=0.5, label="evaluated designs")
        front = pts[_pareto(pts)]
        ax.plot(front[:, 0], front[:, 1], "r-o", ms=3, label="Pareto front")
    ax.scatter([report["cycles"]], [report["energy_pj"]], marker="*", s=150, color="k",
               label="chosen", zorder=3)
    b = report["baselines"]["default_heuristic"]
    if b["feasible"]:
        ax.scatter([b["cycles"]], [b["energy_pj"]], marker="x", s=80, color="gray",
                   label="default Gemmini", zorder=3)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("delay (cycles)")
    ax.set_ylabel("energy (pJ)")
    ax.legend(fontsize=8)
    _save(fig, path)


def _plot_layers(report: dict[str, Any], path: Path) -> None:
    import matplotlib.pyplot as plt

    layers = report["layers"]
    names = [layer["layer"] for layer in layers]
    x = np.arange(len(layers))
    fig, (a1, a2) = plt.subplots(2, 1, figsize=(max(6, 0.35 * len(layers)), 6), sharex=True)
    a1.bar(x, [layer["cycles"] for layer in layers])
    a1.set_yscale("log")
    a1.set_ylabel("cycles per run")
    a2.bar(x, [layer["utilization"] for layer in layers], label="achieved")
    a2.plot(x, [layer["roofline_utilization"] for layer in layers], "r_", ms=12, mew=2,
            label="roofline bound")
    a2.set_ylabel("PE utilisation")
    a2.set_ylim(0, 1.05)
    a2.set_xticks(x, names, rotation=90, fontsize=7)
    a2.legend(fontsize=8)
    _save(fig, path)


def _plot_config(report: dict[str, Any], path: Path) -> None:
    import matplotlib.pyplot as plt

    chosen, default = report["target"], Target().to_dict()
    keys = ["dim", "sp_kib", "acc_kib", "dma_bus_bits"]
    labels = keys + ["area_mm2"]
    a = [chosen[k] for k in keys] + [report["area_mm2"]]
    b = [default[k] for k in keys] + [area_mm2(Target())]
    ratio = [x / y for x, y in zip(a, b, strict=True)]
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.bar(labels, ratio, color="tab:blue")
    ax.axhline(1.0, color="gray", linestyle="--", label="default Gemmini")
    for i, (x, y) in enumerate(zip(a, b, strict=True)):
        ax.text(i, ratio[i], f"{x:.4g}\n({y:.4g})", ha="center", va="bottom", fontsize=7)
    ax.set_ylabel("chosen / default")
    ax.legend(fontsize=8)
    _save(fig, path)


# --------------------------------------------------------------------- markdown
def _fmt(v: float | None) -> str:
    return "-" if v is None else f"{v:.4g}"


def render_markdown(report: dict[str, Any]) -> str:
    t, d = report["target"], Target().to_dict()
    lines = [f"# dlac co-design report: {report['target_name']}", "",
             f"Searcher `{report['options']['searcher']}`, evaluator "
             f"`{report['options']['evaluator']}`, budget {report['options']['budget']}, "
             f"seed {report['options']['seed']}, objective {report['objective']} under the "
             "area budget, "
             f"SW search `{report['options']['sw']}`, "
             f"{report['feasible_points']} feasible hardware points searched (widest DMA bus of "
             "each design).", "",
             "| | chosen | default Gemmini |", "|---|---|---|"]
    for k in ("dim", "sp_kib", "sp_banks", "acc_kib", "acc_banks", "dataflow", "dma_bus_bits"):
        lines.append(f"| {k} | {t[k]} | {d[k]} |")
    lines.append(f"| area (mm^2) | {report['area_mm2']:.4g} (budget "
                 f"{report['area_budget_mm2']:.4g}) | {area_mm2(Target()):.4g} |")
    lines += ["", "## Models", "", "| model | cycles | energy (pJ) | EDP | host share of cycles "
              "| default heuristic EDP | default + best mapping EDP |",
              "|---|---|---|---|---|---|---|"]
    bh = report["baselines"]["default_heuristic"]["models"]
    bb = report["baselines"]["default_best_mapping"]["models"]
    for name, m in report["models"].items():
        host = m["host"]["cycles"] / m["cycles"] if m.get("host") and m["cycles"] else None
        share = "-" if host is None else f"{100 * host:.1f}%"
        lines.append(f"| {name} | {m['cycles']:.4g} | {m['energy_pj']:.4g} | {m['edp']:.4g} | "
                     f"{share} | {_fmt(bh.get(name, {}).get('edp'))} | "
                     f"{_fmt(bb.get(name, {}).get('edp'))} |")
    if report["headline_text"]:
        lines += ["", f"**{report['headline_text']}** (default Gemmini with its heuristic "
                      "mapping)."]
    lines += ["", "## Plots", "", "![best EDP vs evaluations](best_edp.png)", "",
              "![energy-delay scatter](energy_delay.png)", "",
              "![per-layer cycles and utilisation](layers.png)", "",
              "![chosen config vs default](config.png)", "", "## Layers", "",
              "| layer | shape | mapping | cycles | energy (pJ) | util | roofline |",
              "|---|---|---|---|---|---|---|"]
    for layer in report["layers"]:
        lines.append(f"| {layer['layer']} | {layer['shape']} | `{layer['mapping_text']}` | "
                     f"{layer['cycles']:.4g} | {layer['energy_pj']:.4g} | "
                     f"{layer['utilization']:.3f} | {layer['roofline_utilization']:.3f} |")
    sim = report["simulator"]
    if sim:
        lines += ["", "## Simulator check (timing-only runs of the chosen mappings)", "",
                  "| design | model | simulated cycles | simulated energy (pJ) | simulated EDP |",
                  "|---|---|---|---|---|"]
        for key, val in sim.items():
            if "error" in val:
                lines.append(f"| {key} | - | {val['error']} | | |")
                continue
            for name, m in val["models"].items():
                lines.append(f"| {key} | {name} | {m['cycles']:.4g} | {m['energy_pj']:.4g} | "
                             f"{m['edp']:.4g} |")
            for layer, why in val["skipped"].items():
                lines.append(f"| {key} | (skipped {layer}) | {why} | | |")
    if report["finalists"]:
        lines += ["", "## Finalists (the model's best designs, re-ranked on the simulator)", "",
                  "| design | model objective | simulated objective | chosen |",
                  "|---|---|---|---|"]
        for f in report["finalists"]:
            sim = "unmeasured" if f["sim_objective"] is None else f"{f['sim_objective']:.4f}"
            lines.append(f"| {f['target']} | {f['model_objective']:.4f} | "
                         f"{sim} | {'yes' if f['chosen'] else ''} |")
    if report.get("polaris"):
        lines += polaris_report.markdown(report["polaris"])
    if report["feature_importance"]:
        lines += ["", "## daBO feature importance (HW surrogate, permutation)", "",
                  "| feature | MSE increase |", "|---|---|"]
        for k, v in sorted(report["feature_importance"].items(), key=lambda kv: -kv[1]):
            lines.append(f"| {k} | {v:.4g} |")
    if report.get("quant_notes"):
        lines += ["", "## Changes to the models' own quantization", "",
                  "| model | node | change | why |", "|---|---|---|---|"]
        for name, notes in report["quant_notes"].items():
            for n in notes:
                lines.append(f"| {name} | {n['node']} | {n['change']} | {n['why']} |")
    return "\n".join(lines) + "\n"


#: Writes the mapped model C for the chosen design; what it returns joins report.json.
ModelEmitter = Callable[[AutotuneResult, Path], dict[str, Any] | None]


def write_outputs(result: AutotuneResult, out_dir: Path,
                  emit_model: ModelEmitter | None = None) -> dict[str, Any]:
    """Write every output file into `out_dir`; `emit_model` is the backends' hook that
    writes the mapped model C (and validates it bit-exact) once they provide it."""
    import matplotlib

    matplotlib.use("Agg")

    out_dir.mkdir(parents=True, exist_ok=True)
    report = build_report(result)
    (out_dir / "gemmini_params.h").write_text(render_params_header(result.best.target))
    _plot_best(report, out_dir / PLOTS["best_edp"])
    _plot_scatter(report, out_dir / PLOTS["energy_delay"])
    _plot_layers(report, out_dir / PLOTS["layers"])
    _plot_config(report, out_dir / PLOTS["config"])
    if report["polaris"]:
        polaris_report.plot_candidates(report["polaris"], report["objective"],
                                       out_dir / polaris_report.PLOTS["candidates"])
        polaris_report.plot_predictions(report["polaris"], report["objective"],
                                        out_dir / polaris_report.PLOTS["predictions"])
    if emit_model is not None:
        report.update(emit_model(result, out_dir) or {})
    (out_dir / "report.md").write_text(render_markdown(report))
    (out_dir / "report.json").write_text(json.dumps(report, indent=2, sort_keys=True,
                                                    allow_nan=False,
                                                    default=_json_default) + "\n")
    return report


def _json_default(obj: object) -> Any:
    if isinstance(obj, np.generic):
        return obj.item()
    raise TypeError(f"{type(obj).__name__} is not JSON serialisable")
