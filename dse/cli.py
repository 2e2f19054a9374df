"""Command-line options of `--autotune`, shared by `dlac model.onnx --autotune` (wired by
the `dlac` tool) and `python -m dlac.dse` (built-in workloads).

    add_arguments(parser)                 adds the co-design options
    run(args, layers_by_model, emit)      runs autotune and writes -o DIR; returns the exit
                                          code (1 with a one-line error on bad input)
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping
from pathlib import Path

from dlac.errors import DlacError
from dlac.ir.target import Target, TargetError
from dlac.passes.host_cost import HostCost
from dlac.passes.mapping.workloads import Workload

from .accel_steps import AccelSteps
from .driver import Options, autotune, parse_budget
from .errors import DseError
from .executors import DEFAULT as DEFAULT_EXECUTOR
from .executors import executor_names
from .hwspace import fixed_space, load_space
from .models.gp import KERNELS
from .nested import SW_STRATEGIES, SwConfig
from .objective import OBJECTIVES
from .registry import SEARCHERS
from .report import write_outputs
from .search import parse_options, searcher_names, searcher_options

#: Default batch sizes of the per-layer search: the vectorised model scores thousands of
#: mappings in milliseconds, the simulator runs one mapping at a time.
ANALYTICAL_SAMPLES = 2000
SIM_SAMPLES = 16
DEFAULT_BUDGET = 100


def add_arguments(parser: argparse.ArgumentParser, *, output: bool = True) -> None:
    """Add the co-design options; `output=False` when the host tool owns `-o` and
    `--seed`."""
    g = parser.add_argument_group("co-design (--autotune)")
    g.add_argument("--hw-space", default="edge", metavar="edge|cloud|FILE",
                   help="hardware space preset or JSON file (default: edge)")
    g.add_argument("--searcher", default="dabo", choices=searcher_names(),
                   help="HW search strategy (default: dabo)")
    g.add_argument("--searcher-option", action="append", default=[], metavar="KEY=VALUE",
                   help="a setting of the searcher, repeatable (e.g. population=50 for "
                        "digamma, episodes=200 for confuciux)")
    g.add_argument("--objective", default="edp", choices=OBJECTIVES,
                   help="what to minimise under the area budget (default: edp)")
    g.add_argument("--evaluator", default="analytical", choices=("analytical", "sim"),
                   help="cost of a (layer, mapping, target) (default: analytical)")
    g.add_argument("--budget", default=None,
                   help="HW evaluations (e.g. 100; polaris: high-fidelity samples) or wall "
                        "clock (e.g. 10m) (default: 100; polaris: its whole n x m loop, "
                        "n x m x unique layers samples)")
    if output:
        g.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    g.add_argument("--db", default=None, metavar="PATH",
                   help="tuning database (default: ~/.cache/dlac/tuning.sqlite)")
    g.add_argument("--resume", action="store_true",
                   help="continue the stored run with the same settings")
    g.add_argument("--area-budget", type=float, default=None, metavar="MM2",
                   help="area budget in mm^2 (default: the space's, = default Gemmini)")
    g.add_argument("--kernel", default="linear", choices=KERNELS,
                   help="daBO surrogate kernel (default: linear)")
    g.add_argument("--sw-only", action="store_true",
                   help="software-only DSE: keep the hardware fixed at --target (default "
                        "Gemmini) and search only each layer's mapping (--hw-space and "
                        "--area-budget are ignored); with --searcher dabo the per-layer "
                        "search defaults to dabo with the budget's share of trials")
    g.add_argument("--sw-strategy", default=None, choices=SW_STRATEGIES,
                   help="per-layer mapping search (default: batch)")
    g.add_argument("--sw-samples", type=int, default=None,
                   help="mappings scored per layer by the batch strategy (default: 2000 "
                        "with the analytical evaluator, 16 with the simulator)")
    g.add_argument("--sw-trials", type=int, default=None,
                   help="evaluations per layer for searcher strategies (default: 100; with "
                        "--sw-only --searcher dabo: the budget over the unique layers)")
    g.add_argument("--im2col", action="store_true",
                   help="also consider every dense conv as an im2col matmul (search only: the "
                        "backends emit those directly; pointwise convs are always considered "
                        "as matmuls)")
    g.add_argument("--sim-check", default="sim", choices=("sim", "none"),
                   help="re-time the chosen design and the default on the simulator "
                        "(default: sim)")
    g.add_argument("--executor", default=DEFAULT_EXECUTOR, choices=executor_names(),
                   help="where layer evaluations run: serial, a local process pool, or Ray "
                        f"(default: {DEFAULT_EXECUTOR})")
    g.add_argument("--jobs", type=int, default=None, metavar="N",
                   help="worker processes of the process executor and of a local Ray "
                        "instance (default: the usable cores)")
    g.add_argument("--ray-address", default=None, metavar="HOST:PORT",
                   help="head of a running Ray cluster (`ray start --head`); default: start "
                        "a local Ray instance")
    g.add_argument("--no-progress", action="store_true", help="no progress bar")
    if output:
        g.add_argument("-o", "--output-dir", default="dlac-autotune", metavar="DIR",
                       help="output directory (default: dlac-autotune)")


def _default_budget(searcher: str, options: Mapping[str, object],
                    layers_by_model: Mapping[str, Workload]) -> int:
    """100 HW evaluations, or what the searcher's `default_budget(unique layers, **options)`
    says (Polaris: its whole loop)."""
    hook = getattr(SEARCHERS.get(searcher), "default_budget", None)
    if hook is None:
        return DEFAULT_BUDGET
    unique = {layer.workload_hash() for w in layers_by_model.values() for layer, _ in w}
    return int(hook(len(unique), **{**searcher_options(searcher), **options}))


def run(args: argparse.Namespace, layers_by_model: Mapping[str, Workload],
        emit_model: object = None, host: Mapping[str, HostCost] | None = None,
        steps: Mapping[str, AccelSteps] | None = None) -> int:
    """Run the co-design described by `args` (`host`: each model's CPU-step cost, `steps`
    its unmapped Gemmini calls); prints
    a summary, writes `-o DIR`."""
    try:
        return _run(args, layers_by_model, emit_model, host, steps)
    except DlacError as err:
        print(f"dlac: error: {err}", file=sys.stderr)
        return err.exit_code


def _run(args: argparse.Namespace, layers_by_model: Mapping[str, Workload],
         emit_model: object, host: Mapping[str, HostCost] | None,
         steps: Mapping[str, AccelSteps] | None) -> int:
    options_of = parse_options(args.searcher, args.searcher_option)
    budget = parse_budget(args.budget if args.budget is not None
                          else _default_budget(args.searcher, options_of, layers_by_model))
    samples = args.sw_samples
    if samples is None:
        samples = SIM_SAMPLES if args.evaluator == "sim" else ANALYTICAL_SAMPLES
    strategy, trials = args.sw_strategy or "batch", args.sw_trials or 100
    if args.sw_only:
        try:
            space = fixed_space(Target.parse(getattr(args, "target", None) or "default"))
        except TargetError as err:
            raise DseError(f"--target: {err}") from None
        if args.searcher == "dabo" and args.sw_strategy is None:
            unique = {layer.workload_hash() for w in layers_by_model.values() for layer, _ in w}
            strategy = "dabo"
            if args.sw_trials is None and budget.evaluations is not None:
                trials = max(1, budget.evaluations // max(len(unique), 1))
    else:
        space = load_space(args.hw_space).with_area_budget(args.area_budget)
    options = Options(space=space, searcher=args.searcher, evaluator=args.evaluator,
                      budget=budget, seed=args.seed,
                      sw=SwConfig(strategy, samples, trials,
                                  im2col=args.im2col, objective=args.objective),
                      db_path=Path(args.db) if args.db else None, resume=args.resume,
                      progress=not args.no_progress and sys.stderr.isatty(),
                      kernel=args.kernel, validate=args.sim_check, executor=args.executor,
                      jobs=args.jobs, ray_address=args.ray_address,
                      searcher_options=options_of)
    result = autotune(layers_by_model, options, host=host, steps=steps)
    out = Path(getattr(args, "output_dir", None) or "dlac-autotune")
    report = write_outputs(result, out, emit_model)  # type: ignore[arg-type]
    versus = f"; {report['headline_text']}" if report["headline_text"] else ""
    print(f"best: {report['target_name']} area {report['area_mm2']:.4g} mm^2, "
          f"EDP {report['edp']:.4g}{versus}; report in {out}/report.md")
    return 0
