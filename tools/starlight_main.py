"""`dlac-starlight`: pre-train Starlight-Low, and measure Starlight's accuracy on RTL rows.

    dlac-starlight train [--hw-space edge|cloud|FILE] [--retrain]
    dlac-starlight evaluate --train A.csv --test B.csv [--hw-space ...] [--json]

`evaluate` transfers Starlight (the cached Starlight-Low's encoder plus a fine-tuned GP
head) onto A's rows and scores its ln EDP predictions on B's rows. EDP is FireSim's cycles
times the analytical model's energy, as in the dissertation (FireSim measures no energy).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections import defaultdict

import numpy as np
from dlac.dse.models.starlight import Starlight
from dlac.dse.models.starlight_low import LowConfig, StarlightLow, cache_path, load_or_train
from dlac.dse.models.starlight_rtl import RtlPoints, load_rtl
from dlac.errors import DlacError


def _rho(a: np.ndarray, b: np.ndarray) -> float:
    from scipy.stats import spearmanr

    if len(a) < 2 or np.ptp(a) == 0 or np.ptp(b) == 0:
        return float("nan")
    return float(spearmanr(a, b).statistic)


def accuracy(test: RtlPoints, pred: np.ndarray) -> dict[str, float]:
    """Global and mean within-layer Spearman rho, Pearson r of ln EDP, MAPE of EDP."""
    from scipy.stats import pearsonr

    by_layer: dict[str, list[int]] = defaultdict(list)
    for i, name in enumerate(test.layers):
        by_layer[str(name)].append(i)
    within = [_rho(test.log_edp[ix], pred[ix]) for ix in by_layer.values() if len(ix) >= 3]
    within = [r for r in within if not math.isnan(r)]
    pearson = (float(pearsonr(test.log_edp, pred).statistic) if len(pred) > 1
               and np.ptp(pred) > 0 else float("nan"))
    return {"global_rho": _rho(test.log_edp, pred),
            "within_layer_rho": float(np.mean(within)) if within else float("nan"),
            "pearson_r": pearson,
            "mape": float(np.mean(np.abs(np.exp(pred - test.log_edp) - 1.0)))}


def _low(args: argparse.Namespace, retrain: bool = False) -> StarlightLow:
    config = LowConfig(points=args.low_points, epochs=args.low_epochs)
    return load_or_train(args.hw_space, config=config, retrain=retrain,
                         progress=not args.json)


def _cmd_train(args: argparse.Namespace) -> int:
    low = _low(args, args.retrain)
    info = {"key": low.key, "path": str(cache_path(low.key)), "width": low.width,
            "train_seconds": low.train_seconds}
    if args.json:
        print(json.dumps(info, indent=2, sort_keys=True))
    else:
        print(f"Starlight-Low ({args.hw_space}): {info['path']} "
              f"(trained in {low.train_seconds:.1f} s, {low.width} input features)")
    return 0


def _cmd_evaluate(args: argparse.Namespace) -> int:
    train, test = load_rtl(args.train), load_rtl(args.test)
    low = _low(args)
    model = Starlight(low, seed=args.seed).fit(train.x, train.log_edp)
    mean, _ = model.predict(test.x)
    out = {**accuracy(test, mean), "train_rows": len(train), "test_rows": len(test),
           "skipped_rows": train.skipped + test.skipped}
    if args.json:
        print(json.dumps(out, indent=2, sort_keys=True))
        return 0
    print(f"Starlight fitted on {len(train)} rows of {args.train}, tested on {len(test)} rows "
          f"of {args.test}" + (f" ({out['skipped_rows']} rows skipped: the analytical model "
                               "cannot price them)" if out["skipped_rows"] else ""))
    print(f"  Spearman rho global       {out['global_rho']:.4f}")
    print(f"  Spearman rho within layer {out['within_layer_rho']:.4f}")
    print(f"  Pearson r (ln EDP)        {out['pearson_r']:.4f}")
    print(f"  MAPE (EDP)                {100 * out['mape']:.1f}%")
    return 0


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="dlac-starlight", description=__doc__.splitlines()[0])
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--hw-space", default="edge", metavar="edge|cloud|FILE")
    common.add_argument("--low-points", type=int, default=LowConfig.points,
                        help="Starlight-Low training points (default 2^16)")
    common.add_argument("--low-epochs", type=int, default=LowConfig.epochs,
                        help=f"Starlight-Low training epochs (default {LowConfig.epochs})")
    common.add_argument("--json", action="store_true")
    sub = ap.add_subparsers(dest="command", required=True)
    t = sub.add_parser("train", parents=[common],
                       help="train (or load) the cached Starlight-Low")
    t.add_argument("--retrain", action="store_true", help="ignore the cache and retrain")
    t.set_defaults(func=_cmd_train)
    e = sub.add_parser("evaluate", parents=[common],
                       help="transfer Starlight onto RTL rows and score it")
    e.add_argument("--train", required=True, metavar="A.csv")
    e.add_argument("--test", required=True, metavar="B.csv")
    e.add_argument("--seed", type=int, default=0)
    e.set_defaults(func=_cmd_evaluate)
    return ap


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except DlacError as err:
        print(f"dlac-starlight: error: {err}", file=sys.stderr)
        return err.exit_code


if __name__ == "__main__":
    sys.exit(main())
