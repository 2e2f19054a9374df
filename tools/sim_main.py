"""`dlac-sim`: the bundled Gemmini simulator's command line.

    dlac-sim calibrate FILE.csv [--json] [--report docs/calibration.md] [--fit]
    dlac-sim calibrate FILE.csv --cv K [--cv-rows N] [--cv-rounds R] [--json] [--write-error]
    dlac-sim calibrate FILE.csv --residuals [--json]
    dlac-sim run PROGRAM.c [more.c ...] [--target target.json]
    dlac-sim headers [--out DIR] [--target target.json]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from dlac.errors import DlacError
from dlac.ir.target import Target, TargetError
from dlac.sim.heldout import ERROR_FILE, HeldOutError


def _target(path: str | None) -> Target:
    if not path:
        return Target()
    try:
        return Target.from_dict(json.loads(Path(path).read_text()))
    except OSError as err:
        raise DlacError(f"{path}: {err.strerror}") from None
    except (json.JSONDecodeError, TypeError, TargetError) as err:
        raise DlacError(f"{path}: bad target description: {err}") from None


def _cmd_cv(args: argparse.Namespace) -> int:
    from dlac.sim.calibration_data import load_cases
    from dlac.sim.cv import CvSettings, cross_validate
    from rich.console import Console

    notes: list[str] = []
    cases = load_cases(args.csv, notes)
    for note in notes:
        print(f"dlac-sim: note: {note}", file=sys.stderr)
    settings = CvSettings(folds=args.cv, rows_per_layer=args.cv_rows, rounds=args.cv_rounds,
                          loss=args.loss, jobs=args.jobs)
    console = Console(stderr=True)
    with console.status("cross-validating") as status:
        result = cross_validate(cases, settings, progress=status.update)
    result["notes"] = notes
    if args.write_error:
        HeldOutError.from_cv(result, " ".join(["dlac-sim", *sys.argv[1:]])).save(
            Path(args.write_error))
    if args.json:
        print(json.dumps(result, indent=2, sort_keys=True))
        return 0
    print(f"{args.cv}-fold leave-layers-out CV over {result['rows']} rows "
          f"(constants fitted per fold on the other folds, from the prior constants)")
    print("fold  rows  layers  global_rho  within_layer_rho  mape    top1  top5")
    for m in result["folds"]:
        r = m["ranking"]
        print(f"{m['fold']:>4}  {m['rows']:>4}  {m['layers']:>6}  {m['global_rho']:>10.3f}  "
              f"{m['within_layer_rho']:>16.3f}  {100 * m['mape']:>5.1f}%  "
              f"{r['top1']:>4.2f}  {r['top5']:>4.2f}")
    w = result["worst"]
    print(f"mean  global_rho {result['global_rho']:.3f}  within_layer_rho "
          f"{result['within_layer_rho']:.3f}  mape {100 * result['mape']:.1f}%")
    print(f"worst global_rho {w['global_rho']:.3f}  within_layer_rho "
          f"{w['within_layer_rho']:.3f}  mape {100 * w['mape']:.1f}%")
    print("per shape class (cross-validated):")
    for name, m in result["per_class_mape"].items():
        print(f"  {name:24s} rows {m['rows']:>4}  mape {100 * m['mape']:.1f}%")
    return 0


def _cmd_residuals(args: argparse.Namespace) -> int:
    from dlac.sim.calibrate import CALIBRATION_TARGET, HARNESS_TIMING
    from dlac.sim.calibration_data import load_cases
    from dlac.sim.fit import Knobs, predict
    from dlac.sim.residuals import format_groups, groups_as_dicts, residual_groups

    notes: list[str] = []
    cases = load_cases(args.csv, notes)
    if args.limit:
        cases = cases[:args.limit]
    for note in notes:
        print(f"dlac-sim: note: {note}", file=sys.stderr)
    pred = predict(cases, Knobs(CALIBRATION_TARGET, HARNESS_TIMING), args.jobs)
    groups = residual_groups(cases, pred)
    if args.json:
        print(json.dumps(groups_as_dicts(groups), indent=2))
    else:
        print(format_groups(groups))
    return 0


def _cmd_calibrate(args: argparse.Namespace) -> int:
    if args.cv:
        return _cmd_cv(args)
    if args.residuals:
        return _cmd_residuals(args)
    from dlac.sim.calibration_report import run_calibration

    result = run_calibration(Path(args.csv), fit_first=args.fit, loss=args.loss, jobs=args.jobs,
                             report=Path(args.report) if args.report else None,
                             command=" ".join(["dlac-sim", *sys.argv[1:]]), limit=args.limit)
    for note in result["notes"]:
        print(f"dlac-sim: note: {note}", file=sys.stderr)
    if args.json:
        print(json.dumps(result, indent=2, sort_keys=True))
    else:
        m = result["all"]
        print(f"rows {m['rows']}  global_rho {m['global_rho']:.3f}  "
              f"within_layer_rho {m['within_layer_rho']:.3f}  mape {m['mape']:.3f}"
              + (f"  (failed {m['failed']})" if m["failed"] else ""))
        for name in ("train", "held_out"):
            if name in result:
                m = result[name]
                print(f"  {name:8s} rows {m['rows']}  global_rho {m['global_rho']:.3f}  "
                      f"within_layer_rho {m['within_layer_rho']:.3f}  mape {m['mape']:.3f}")
    return 0


def _cmd_run(args: argparse.Namespace) -> int:
    import tempfile

    from dlac.sim.build import compile_program, run_program

    target = _target(args.target)
    with tempfile.TemporaryDirectory(prefix="dlac-sim-") as tmp:
        binary = compile_program([Path(s) for s in args.sources], target, Path(tmp))
        result = run_program(binary)
    sys.stdout.write(result.stdout)
    sys.stderr.write(result.stderr)
    if result.cycles is not None:
        print(json.dumps({"cycles": result.cycles, "energy_pj": result.energy_pj,
                          "instructions": result.instructions, "counters": result.counters}),
              file=sys.stderr)
    return result.returncode


def _cmd_headers(args: argparse.Namespace) -> int:
    from dlac.sim.build import INCLUDE_DIR, write_headers

    out = Path(args.out) if args.out else INCLUDE_DIR / "default"
    write_headers(_target(args.target), out)
    print(f"wrote {out}/gemmini_params.h and {out}/dlac_sim_config.h")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="dlac-sim", description="dlac's bundled Gemmini simulator")
    sub = p.add_subparsers(dest="command", required=True)
    c = sub.add_parser("calibrate", help="score the simulator against RTL-measured cycles")
    c.add_argument("csv", help="calibration CSV (DOSA FireSim schema)")
    c.add_argument("--json", action="store_true", help="print the metrics as JSON")
    c.add_argument("--report", help="write a Markdown report to this path")
    c.add_argument("--fit", action="store_true", help="refit the timing constants first")
    c.add_argument("--loss", choices=("mape", "log"), default="mape",
                   help="what --fit minimises on the train layers (default: MAPE)")
    c.add_argument("--jobs", type=int, default=1, help="worker processes")
    c.add_argument("--limit", type=int, default=0, help="use only the first N rows (0 = all)")
    c.add_argument("--cv", type=int, default=0, metavar="K",
                   help="K-fold leave-layers-out cross-validation (constants refitted per fold)")
    c.add_argument("--write-error", nargs="?", const=str(ERROR_FILE), metavar="FILE",
                   help="with --cv: save the mean and worst fold as the error every co-design "
                        "report quotes (default: the shipped sim/heldout_error.json)")
    c.add_argument("--residuals", action="store_true",
                   help="with the shipped constants: log residual and MAPE grouped by shape "
                        "class, array side, tile sizes in DIM blocks, stride and kernel")
    c.add_argument("--cv-rows", type=int, default=4, metavar="N",
                   help="with --cv: rows per training layer the fit uses (default 4)")
    c.add_argument("--cv-rounds", type=int, default=3, metavar="R",
                   help="with --cv: coordinate-descent rounds of each fold's fit (default 3)")
    c.set_defaults(func=_cmd_calibrate)
    r = sub.add_parser("run", help="compile a Gemmini C program and run it on the simulator")
    r.add_argument("sources", nargs="+")
    r.add_argument("--target", help="Target JSON file (default: Gemmini's default config)")
    r.set_defaults(func=_cmd_run)
    h = sub.add_parser("headers", help="write gemmini_params.h and dlac_sim_config.h")
    h.add_argument("--out", help="directory (default: the committed sim/include/default)")
    h.add_argument("--target", help="Target JSON file")
    h.set_defaults(func=_cmd_headers)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    start = time.time()
    try:
        rc = args.func(args)
    except DlacError as err:
        print(f"dlac-sim: error: {err}", file=sys.stderr)
        return err.exit_code
    if args.command == "calibrate" and not args.json:
        print(f"({time.time() - start:.1f} s)", file=sys.stderr)
    return rc


if __name__ == "__main__":
    sys.exit(main())
