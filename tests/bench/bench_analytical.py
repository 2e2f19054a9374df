"""Benchmarks of the mapping library: model speed, agreement with the simulator, search.

    python tests/bench/bench_analytical.py [--quick] [--json out.json]

Sections (each prints a table; --json writes all numbers):
  throughput   analytical-model evaluations per second, one core, batched
  agreement    Spearman rho between model and simulator cycles on random legal mappings
               of the zoo layers, within each layer and across layers
  resnet50     --mapper analytical-best vs heuristic per layer, by the model and (when the
               simulator is available) by simulated cycles
  resnet18     wall time of an analytical-best search over all ResNet-18 layers on one
               accelerator (the job ZigZag needs about 4 minutes for)
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from dlac.ir.target import Target
from dlac.passes.mapping import (
    AnalyticalModel,
    ConvLayer,
    Layer,
    Mapping,
    MappingBatch,
    MappingSpace,
    ModelParams,
    choose,
    heuristic_mapping,
)
from dlac.passes.mapping.workloads import WORKLOADS, Workload
from scipy.stats import spearmanr

SimFn = Callable[[Layer, Mapping], float]


def _table(title: str, header: list[str], rows: list[list[Any]]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title)
    for h in header:
        table.add_column(h, justify="right")
    for row in rows:
        table.add_row(*(f"{v:.4g}" if isinstance(v, float) else str(v) for v in row))
    Console().print(table)


def simulator(target: Target) -> tuple[SimFn | None, ModelParams, str]:
    """A function returning simulated cycles for (layer, mapping), or None with a reason."""
    try:
        from dlac.sim.simulator import Simulator
        from dlac.sim.timing import DEFAULT_TIMING
    except ImportError as err:
        return None, ModelParams(), f"dlac.sim is not importable ({err})"

    def run(layer: Layer, m: Mapping) -> float:
        sim = Simulator(target, DEFAULT_TIMING, timing_only=True)
        try:
            args = m.gemmini_args(layer, target)
            if isinstance(layer, ConvLayer):
                sim.conv_shape(layer.batch, layer.in_rows, layer.in_cols, layer.in_channels,
                               layer.out_channels, layer.out_rows, layer.out_cols,
                               layer.kernel_rows, stride=layer.stride, padding=layer.padding,
                               bias=layer.has_bias,
                               tiles=tuple(args[k] for k in ("batches", "porows", "pocols",
                                                             "pochs", "krows", "kcols", "kchs")),
                               perm=m.perm)
            else:
                sim.matmul_shape(layer.i, layer.j, layer.k, bias=layer.has_bias,
                                 tiles=(args["tile_I"], args["tile_J"], args["tile_K"]),
                                 perm=m.perm, dataflow=m.dataflow)
            return float(sim.stats.host_cycles)
        finally:
            sim.close()

    return run, ModelParams.from_timing(DEFAULT_TIMING), "dlac.sim.simulator (timing only)"


def _simulable(layer: Layer) -> bool:
    """The bundled simulator runs square-kernel, non-depthwise convs and matmuls."""
    if isinstance(layer, ConvLayer):
        return (not layer.depthwise and layer.kernel_rows == layer.kernel_cols
                and layer.dilation == 1)
    return True


def bench_throughput(target: Target, n: int, params: ModelParams) -> dict[str, Any]:
    rows, out = [], {}
    layers = [layer for layer, _ in WORKLOADS["resnet50"]()][::4]
    layers += [layer for layer, _ in WORKLOADS["bert-base"]()][:2]
    total_n = total_t = total_cpu = 0.0
    for layer in layers:
        space = MappingSpace(layer, target)
        t0 = time.perf_counter()
        batch = space.sample(n, seed=0)
        t_sample = time.perf_counter() - t0
        model = AnalyticalModel(layer, target, params)
        best = best_cpu = float("inf")
        for _ in range(3):
            t0, c0 = time.perf_counter(), time.process_time()
            model.evaluate(batch)
            best = min(best, time.perf_counter() - t0)
            best_cpu = min(best_cpu, time.process_time() - c0)
        total_n += n
        total_t += best
        total_cpu += best_cpu
        rows.append([layer.name, n, n / best, n / best_cpu, n / t_sample])
        out[layer.name] = {"evals_per_s": n / best, "evals_per_cpu_s": n / best_cpu,
                           "samples_per_s": n / t_sample}
    out["overall_evals_per_s"] = total_n / total_t
    out["overall_evals_per_cpu_s"] = total_n / total_cpu
    rows.append(["all", int(total_n), total_n / total_t, total_n / total_cpu, ""])
    _table("analytical model throughput (one core; numpy is single-threaded here)",
           ["layer", "mappings", "evals/s (wall)", "evals/s (CPU)", "sampling/s"], rows)
    return out


def bench_agreement(target: Target, sim: SimFn, params: ModelParams, per_layer: int,
                    nets: list[str]) -> dict[str, Any]:
    rows, out = [], {"layers": {}}
    all_model, all_sim = [], []
    rhos = []
    for net in nets:
        for layer, _ in WORKLOADS[net]():
            if not _simulable(layer):
                continue
            space = MappingSpace(layer, target)
            batch = MappingBatch.concat([
                MappingBatch.from_mappings(layer, [heuristic_mapping(layer, target)]),
                space.sample(per_layer - 1, seed=7)])
            pred = AnalyticalModel(layer, target, params).evaluate(batch).cycles
            meas = np.array([sim(layer, m) for m in batch.mappings(layer)])
            rho = float(spearmanr(pred, meas).statistic)
            mape = float(np.mean(np.abs(pred - meas) / meas))
            rhos.append(rho)
            all_model += list(pred)
            all_sim += list(meas)
            key = f"{net}/{layer.name}"
            rows.append([key, len(batch), rho, mape])
            out["layers"][key] = {"rho": rho, "mape": mape, "n": len(batch)}
    out["within_layer_rho_mean"] = float(np.mean(rhos))
    out["within_layer_rho_min"] = float(np.min(rhos))
    out["across_layers_rho"] = float(spearmanr(all_model, all_sim).statistic)
    rows.append(["mean within-layer rho", "", out["within_layer_rho_mean"], ""])
    rows.append(["across layers rho", len(all_sim), out["across_layers_rho"], ""])
    _table("model vs simulator (cycles)", ["layer", "mappings", "spearman rho", "MAPE"], rows)
    return out


def bench_mapper(name: str, workload: Workload, target: Target, samples: int,
                 params: ModelParams, sim: SimFn | None) -> dict[str, Any]:
    rows, out = [], {"layers": {}}
    tot = {"model_heur": 0.0, "model_best": 0.0, "sim_heur": 0.0, "sim_best": 0.0}
    t0 = time.perf_counter()
    for layer, count in workload:
        heur = choose(layer, target, "heuristic", params=params)
        best = choose(layer, target, "analytical-best", samples=samples, seed=0, params=params)
        rec = {"count": count, "model_heuristic": heur.cycles, "model_best": best.cycles,
               "mapping_best": str(best.mapping)}
        tot["model_heur"] += count * heur.cycles
        tot["model_best"] += count * best.cycles
        row = [layer.name, count, heur.cycles / best.cycles]
        if sim is not None and _simulable(layer):
            s_h, s_b = sim(layer, heur.mapping), sim(layer, best.mapping)
            rec.update(sim_heuristic=s_h, sim_best=s_b)
            tot["sim_heur"] += count * s_h
            tot["sim_best"] += count * s_b
            row += [s_h, s_b, s_h / s_b]
        else:
            row += ["", "", ""]
        rows.append(row)
        out["layers"][layer.name] = rec
    out["seconds"] = time.perf_counter() - t0
    out["model_total_ratio"] = tot["model_heur"] / tot["model_best"]
    rows.append(["total (x count)", "", out["model_total_ratio"],
                 tot["sim_heur"] or "", tot["sim_best"] or "",
                 tot["sim_heur"] / tot["sim_best"] if tot["sim_best"] else ""])
    if tot["sim_best"]:
        out["sim_total_heuristic"] = tot["sim_heur"]
        out["sim_total_best"] = tot["sim_best"]
        out["sim_total_ratio"] = tot["sim_heur"] / tot["sim_best"]
    _table(f"{name}: heuristic / analytical-best ({samples} samples per layer)",
           ["layer", "count", "model ratio", "sim heuristic", "sim best", "sim ratio"], rows)
    return out


def bench_search_time(target: Target, samples: int, params: ModelParams) -> dict[str, Any]:
    workload = WORKLOADS["resnet18"]()
    t0 = time.perf_counter()
    total = 0
    for layer, _ in workload:
        total += choose(layer, target, "analytical-best", samples=samples, seed=0,
                        params=params).candidates
    secs = time.perf_counter() - t0
    _table("ResNet-18 mapping search, one accelerator (ZigZag: ~240 s)",
           ["layers", "mappings scored", "seconds"], [[len(workload), total, secs]])
    return {"layers": len(workload), "mappings_scored": total, "seconds": secs}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", type=Path, help="write all results here")
    ap.add_argument("--quick", action="store_true", help="smaller batches and samples")
    args = ap.parse_args()
    target = Target()
    n_eval = 1 << (16 if args.quick else 20)
    samples = 2000 if args.quick else 20000
    sim, params, sim_note = simulator(target)
    print(f"simulator: {sim_note}")
    results: dict[str, Any] = {"target": target.name, "simulator": sim_note}
    results["throughput"] = bench_throughput(target, n_eval, params)
    if sim is None:
        print(f"SKIP agreement and simulated ratios: {sim_note}")
    else:
        results["agreement"] = bench_agreement(target, sim, params, 12 if args.quick else 40,
                                               ["resnet50", "bert-base"])
    results["resnet50"] = bench_mapper("ResNet-50", WORKLOADS["resnet50"](), target, samples,
                                       params, sim)
    results["resnet18_search"] = bench_search_time(target, samples, params)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, sort_keys=True))


if __name__ == "__main__":
    main()
