"""`python -m dlac.tools.emit_gap MODEL --report DIR/report.json`: where the emitted model's
simulated cycles part from what the co-design search costs for the same design.

The search prices a design as the sum over its layer list of count x one layer's cost
(the finalists are re-timed that way on the simulator, layer by layer) plus the host
steps and the unmapped Gemmini calls (dlac.dse.accel_steps); the emitted model runs every
step of the whole program on the simulator.
This tool emits the chosen design's model exactly as `dlac --autotune` does, traces each
emitted step back to the search's layer (by the kernel it was lowered from), and prints,
step by step, the emitted cycles beside the search's simulator sample of the same layer
and mapping, flagging steps whose emitted mapping differs from the scored one (a fused
max pool, say) and the unmapped calls (residual adds). The design comes
from an autotune report.json (its chosen layers and mappings) or from a tuning database
(the best trial by the search's model, optionally of one target).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dlac.dse.accel_steps import steps_cost
from dlac.dse.database import TuningDB
from dlac.dse.errors import DseError
from dlac.dse.evaluators import make_evaluator
from dlac.dse.nested import HwResult, LayerBest, NestedEvaluator, SwConfig, result_from_dict
from dlac.dse.validate import measure
from dlac.errors import DlacError
from dlac.ir.core import Operation
from dlac.ir.dialects import gemmini
from dlac.ir.target import Target
from dlac.passes.mapping import Mapping
from dlac.passes.materialize import layer_of, mappable, mapped_layer
from dlac.passes.nest import kernels
from dlac.tools.atomic_write import write_atomic
from dlac.tools.compile_flow import (
    host_and_steps_of,
    layers_of,
    lower_kernels,
    map_kernels,
    seeded_inputs,
)

TILED = (gemmini.TiledConvOp, gemmini.TiledMatmulOp, gemmini.TiledResaddOp)


@dataclass(frozen=True)
class Origin:
    """The search's view of one loop kernel: its layer hash (None: not a mapped layer)
    and the tile arguments and loop order its scored mapping gives the library op."""

    workload_hash: str | None
    kind: str
    tiles: list[int] | None
    perm: str | None


def load_design(report: Path | None, db: Path | None, target: str | None,
                nested: NestedEvaluator) -> HwResult:
    """The design whose emitted model is compared: an autotune report's chosen layers, or
    the database trial with the lowest search objective (of `target`, if given)."""
    if report is not None:
        data = _read_json(report)
        layers = {d["workload_hash"]: d for d in data.get("layers", [])}
        missing = sorted(set(nested.unique) - set(layers))
        if missing:
            raise DseError(f"{report}: the report lacks {len(missing)} of the model's layers "
                           f"(another model or frontend version?)")
        bests = {h: LayerBest(nested.unique[h], Mapping.from_attrs(d["mapping"]), d["cycles"],
                              d["energy_pj"], d["utilization"], d["candidates"],
                              d.get("lowering", "direct")) for h, d in layers.items()
                 if h in nested.unique}
        target = Target.from_dict(data["target"])
        return HwResult(target, bests, nested.totals(bests, target),
                        goal=data.get("objective", "edp"))
    assert db is not None
    if not db.exists():
        raise DseError(f"tuning database {db} does not exist")
    want = Target.parse(target).to_json() if target else None
    best: tuple[float, dict[str, Any]] | None = None
    with TuningDB(db) as tdb:
        for key in tdb.run_keys():
            for rec in tdb.trials(key):
                if (want is None or rec.target == want) and rec.objective < float("inf") \
                        and set(rec.result.get("layers", {})) >= set(nested.unique) \
                        and (best is None or rec.objective < best[0]):
                    best = (rec.objective, rec.result)
    if best is None:
        raise DseError(f"{db}: no feasible trial of this model"
                       + (f" on target {target}" if target else ""))
    return result_from_dict(best[1], nested.models)


def _read_json(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as err:
        raise DseError(f"cannot read report {path}: {err}") from None


def origins(mapped: Operation) -> dict[int, list[Origin]]:
    """Every loop kernel's Origin, keyed by its location object (the library ops it is
    lowered to carry the same one), in program order."""
    out: dict[int, list[Origin]] = defaultdict(list)
    target = Target.from_dict(dict(mapped.attr("dlac.target")))
    for kernel in kernels(mapped):
        kind = str(kernel.attr("kind"))
        if not mappable(kernel):
            out[id(kernel.loc)].append(Origin(None, kind, None, None))
            continue
        data = kernel.attr("mapping")
        mapping = Mapping.from_attrs(dict(data))
        args = mapping.gemmini_args(mapped_layer(kernel), target)
        keys = ("tile_I", "tile_J", "tile_K") if mapping.dims == "IJK" else (
            "batches", "porows", "pocols", "pochs", "krows", "kcols", "kchs")
        tiles = [int(args[k]) for k in keys] if all(k in args for k in keys) else None
        out[id(kernel.loc)].append(Origin(layer_of(kernel).workload_hash(), kind, tiles,
                                          mapping.perm))
    return out


def step_rows(lowered: Operation, found: dict[int, list[Origin]],
              steps: list[dict[str, Any]], measured: dict[str, dict[str, Any]],
              names: dict[str, str]) -> list[dict[str, Any]]:
    """One row per emitted step: its cycles, the layer it runs and the search's sample."""
    func = next(op for op in lowered.walk() if op.name == "func.func")
    ops = [op for op in func.regions[0].block.ops if isinstance(op, TILED)]
    tiled = [s for s in steps if s["kind"] != "host"]
    if len(ops) != len(tiled):
        raise DseError(f"{len(tiled)} emitted accelerator steps but {len(ops)} library ops")
    by_op = iter(ops)
    queues = {key: list(found_) for key, found_ in found.items()}
    rows = []
    for step in steps:
        row: dict[str, Any] = {"step": step["name"], "kind": step["kind"],
                               "emitted_cycles": float(step["cycles"])}
        if step["kind"] != "host":
            op = next(by_op)
            row.update(_origin_fields(op, _next_origin(queues, id(op.loc)), measured, names))
        rows.append(row)
    return rows


def _next_origin(queues: dict[int, list[Origin]], key: int) -> Origin | None:
    """The kernel an op came from: kernels sharing a location (a conv split into channel
    slices) are lowered in program order, one mapped op each; an unmapped kernel (a batched
    matmul) may become several ops, so its Origin stays for the ops after it."""
    queue = queues.get(key)
    if not queue:
        return None
    return queue.pop(0) if len(queue) > 1 else queue[0]


def _origin_fields(op: Operation, origin: Origin | None, measured: dict[str, dict[str, Any]],
                   names: dict[str, str]) -> dict[str, Any]:
    pool = op.attr("pool")
    emitted_tiles = [int(t) for t in op.attr("tiles")] if op.attr("tiles") is not None else None
    emitted_perm = str(op.attr("perm")) if op.attr("perm") is not None else None
    fields: dict[str, Any] = {"pool": dict(pool) if pool is not None else None,
                              "emitted_tiles": emitted_tiles, "emitted_perm": emitted_perm}
    if origin is None or origin.workload_hash is None:
        unmapped = origin is not None or isinstance(op, gemmini.TiledResaddOp) or (
            isinstance(op, gemmini.TiledMatmulOp) and op.attr("tiles") is None)
        fields["note"] = "unmapped call (accel_steps)" if unmapped else "untraced"
        return fields
    sample = measured.get(origin.workload_hash, {})
    fields.update(
        workload_hash=origin.workload_hash, layer=names.get(origin.workload_hash, "?"),
        lowering=sample.get("lowering"), scored_tiles=origin.tiles, scored_perm=origin.perm,
        same_mapping=emitted_tiles == origin.tiles and emitted_perm == origin.perm,
        search_sim_cycles=sample.get("cycles"), search_model_cycles=sample.get("model_cycles"))
    return fields


def compare(model: str, report: Path | None, db: Path | None, target: str | None,
            seed: int = 0) -> dict[str, Any]:
    """The whole comparison for one model and the design of `report` or `db`."""
    return compare_design(model, lambda nested: load_design(report, db, target, nested), seed)


def compare_design(model: str, design: Callable[[NestedEvaluator], HwResult],
                   seed: int = 0) -> dict[str, Any]:
    """The comparison for the design `design` picks given the model's search problem
    (emits and simulates the model once)."""
    from dlac.flow.emit import emit
    from dlac.flow.validate import validate
    from dlac.ir.semantics.qgraph import run_reference
    from dlac.tools.dlac_main import model_name, quantized_model

    quantized = quantized_model(model)
    name = model_name(model)
    host, steps = host_and_steps_of(quantized)
    nested = NestedEvaluator({name: layers_of(quantized)}, make_evaluator("analytical"),
                             SwConfig(), host={name: host}, steps={name: steps})
    result = design(nested)
    sim = measure(nested, result)
    if sim["skipped"]:
        raise DseError(f"the simulator skipped layers: {sim['skipped']}")
    measured = {layer.workload_hash(): entry for layer, entry in
                zip((result.layers[h].layer for h in result.layers), sim["layers"],
                    strict=True)}
    names = {h: b.layer.name for h, b in result.layers.items()}
    mappings = {h: best.attrs() for h, best in result.layers.items() if best.emitted()}
    mapped = map_kernels(quantized, result.target, "heuristic", seed, mappings)
    found = origins(mapped)
    lowered = lower_kernels(mapped)
    inputs = seeded_inputs(quantized, seed)
    with tempfile.TemporaryDirectory(prefix="dlac-gap-") as tmp:
        emitted = emit(lowered, result.target, Path(tmp) / "out", name)
        run = validate(emitted, lowered, run_reference(quantized, inputs), inputs,
                       result.target, Path(tmp) / "build")
    rows = step_rows(lowered, found, run.steps, measured, names)
    counts = {layer.workload_hash(): n for layer, n in nested.models[name]}
    return {"model": name, "target": result.target.name, "target_config": result.target.to_dict(),
            "steps": rows, "layers": _per_layer(rows, counts, measured, names),
            "totals": _totals(rows, sim["models"][name], run, nested.host[name].cycles,
                              steps_cost(nested.steps[name], result.target,
                                         nested.evaluator.step_cost)[0]),
            "bit_exact": run.bit_exact}


def _per_layer(rows: list[dict[str, Any]], counts: dict[str, int],
               measured: dict[str, dict[str, Any]], names: dict[str, str]
               ) -> list[dict[str, Any]]:
    """Per search layer: count x its sample vs the summed cycles of the steps running it."""
    steps: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        if row.get("workload_hash"):
            steps[row["workload_hash"]].append(row)
    out = []
    for h, n in counts.items():
        mine = steps.get(h, [])
        search = n * measured[h]["cycles"]
        emitted = sum(r["emitted_cycles"] for r in mine)
        out.append({"layer": names[h], "workload_hash": h, "lowering": measured[h]["lowering"],
                    "count": n, "emitted_steps": len(mine), "search_cycles": search,
                    "emitted_cycles": emitted, "gap_cycles": emitted - search,
                    "ratio": emitted / search if search else None,
                    "pooled": any(r["pool"] for r in mine),
                    "mapping_differs": any(not r["same_mapping"] for r in mine)})
    return sorted(out, key=lambda r: -abs(r["gap_cycles"]))


def _totals(rows: list[dict[str, Any]], finalist: dict[str, float], run: Any,
            host_cycles: float, unmapped_cycles: float) -> dict[str, Any]:
    unmapped = sum(r["emitted_cycles"] for r in rows
                   if r["kind"] != "host" and not r.get("workload_hash"))
    host = sum(r["emitted_cycles"] for r in rows if r["kind"] == "host")
    return {"finalist_cycles": finalist["cycles"], "finalist_energy_pj": finalist["energy_pj"],
            "finalist_edp": finalist["edp"], "emitted_cycles": run.cycles,
            "emitted_energy_pj": run.energy_pj, "emitted_edp": run.edp,
            "cycles_ratio": run.cycles / finalist["cycles"],
            "edp_ratio": run.edp / finalist["edp"],
            "emitted_unmapped_cycles": unmapped, "search_unmapped_cycles": unmapped_cycles,
            "emitted_host_cycles": host,
            "search_host_cycles": host_cycles}


def print_tables(data: dict[str, Any], top: int) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{data['model']} on {data['target']}: per search layer "
                        f"(largest gaps first)")
    for col in ("layer", "lowering", "count", "steps", "search sim", "emitted", "gap",
                "ratio", "pooled", "mapping differs"):
        table.add_column(col, justify="left" if col in ("layer", "lowering") else "right")
    for r in data["layers"][:top]:
        table.add_row(r["layer"], r["lowering"], str(r["count"]), str(r["emitted_steps"]),
                      f"{r['search_cycles']:,.0f}", f"{r['emitted_cycles']:,.0f}",
                      f"{r['gap_cycles']:+,.0f}",
                      f"{r['ratio']:.2f}" if r["ratio"] is not None else "-",
                      "yes" if r["pooled"] else "", "yes" if r["mapping_differs"] else "")
    console = Console(width=140)
    console.print(table)
    t = data["totals"]
    console.print(f"finalist (search, simulator per layer + host): {t['finalist_cycles']:,.0f} "
                  f"cycles, EDP {t['finalist_edp']:.4g}; emitted: {t['emitted_cycles']:,.0f} "
                  f"cycles, EDP {t['emitted_edp']:.4g}; emitted/finalist cycles "
                  f"{t['cycles_ratio']:.3f}, EDP {t['edp_ratio']:.3f}")
    console.print(f"unmapped Gemmini calls (residual adds, ...): emitted "
                  f"{t['emitted_unmapped_cycles']:,.0f} vs searched "
                  f"{t['search_unmapped_cycles']:,.0f} cycles; host steps emitted "
                  f"{t['emitted_host_cycles']:,.0f} vs searched {t['search_host_cycles']:,.0f}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="dlac-emit-gap", description=__doc__.splitlines()[0])
    ap.add_argument("model", help="ONNX file or zoo:NAME (as given to dlac --autotune)")
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--report", type=Path, help="an autotune output's report.json")
    src.add_argument("--db", type=Path, help="a tuning database (best trial by the model)")
    ap.add_argument("--target", help="with --db: only trials of this target")
    ap.add_argument("--top", type=int, default=25, help="layers shown (default 25)")
    ap.add_argument("--json", type=Path, help="write the whole comparison here")
    args = ap.parse_args(argv)
    try:
        data = compare(args.model, args.report, args.db, args.target)
    except DlacError as err:
        print(f"dlac-emit-gap: error: {err}", file=sys.stderr)
        return 1
    print_tables(data, args.top)
    if args.json:
        write_atomic(args.json, json.dumps(data, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
