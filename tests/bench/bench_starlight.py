"""Starlight's accuracy vs the number of high-fidelity samples (dissertation Figure 5.7).

Four models predict ln EDP of held-out high-fidelity points: Starlight-Low alone (no
high-fidelity data), Starlight-Low fine-tuned on the samples, the transferred encoder under
a new NN predictor trained from scratch, and Starlight (transferred encoder + GP, fitted by
marginal likelihood); plus the ablation starlight-frozen (the GP alone on the transferred
network, no end-to-end fine-tuning). Two data sets:

(a) simulator: joint Sobol points run on the bundled simulator (tests/bench/
    starlight_samples.py), a random 20% held out per trial;
(b) FireSim: the calibration rows (FireSim cycles x analytical energy), split by layer per
    trial (a third of the layers held out, never trained on).

Each (data set, size, model) runs `trials` times (median, min, max of Spearman rho and
Pearson r); also Starlight's batched predictions per second and Starlight-Low's training
time.

    python tests/bench/bench_starlight.py [--quick] [--json PATH] [--plot PATH]
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
import time
from pathlib import Path

import numpy as np
from dlac.dse.models.starlight import Starlight
from dlac.dse.models.starlight_low import StarlightLow, build_net, load_or_train
from dlac.dse.models.starlight_rtl import load_rtl
from dlac.dse.models.threads import single_thread
from scipy.stats import pearsonr, spearmanr

sys.path.insert(0, str(Path(__file__).parent))
from starlight_samples import sim_samples  # noqa: E402

FIRESIM = Path(__file__).resolve().parents[3] / "shared" / "data" / "firesim" / "calibration.csv"
if not FIRESIM.exists():
    FIRESIM = Path("/work/shared/data/firesim/calibration.csv")
SIZES = (50, 100, 200, 500, None)
MODELS = ("starlight-low", "fine-tuned-low", "encoder+nn", "starlight", "starlight-frozen")
NN_EPOCHS = 300


def _train_nn(net, params, low: StarlightLow, x: np.ndarray, y: np.ndarray, seed: int,
              head=None) -> None:
    """Full-batch Adam on the MSE of standardised ln EDP (the NN baselines' fine-tuning)."""
    import torch

    torch.manual_seed(seed)
    tx = low.standardise(x)
    ty = torch.as_tensor((y - low.y_mean) / low.y_std, dtype=torch.float32)
    opt = torch.optim.Adam(params, lr=1e-3)
    predict = head or net.predictor
    for _ in range(NN_EPOCHS):
        opt.zero_grad()
        loss = torch.nn.functional.mse_loss(predict(net.encode(tx)).squeeze(-1), ty)
        loss.backward()
        opt.step()


def _nn_predict(net, low: StarlightLow, x: np.ndarray, head=None) -> np.ndarray:
    import torch

    with torch.no_grad():
        out = (head or net.predictor)(net.encode(low.standardise(x))).squeeze(-1)
    return out.numpy().astype(np.float64) * low.y_std + low.y_mean


def predict(model: str, low: StarlightLow, x: np.ndarray, y: np.ndarray, x_test: np.ndarray,
            seed: int) -> np.ndarray:
    """ln EDP predictions of `model` fitted on (x, y)."""
    import torch

    if model == "starlight-low":
        return low.predict(x_test)
    if model == "starlight":
        return Starlight(low, seed=seed).fit(x, y).predict(x_test)[0]
    if model == "starlight-frozen":
        return Starlight(low, seed=seed, lr=0.0).fit(x, y).predict(x_test)[0]
    with single_thread():
        net = copy.deepcopy(low.net)
        if model == "fine-tuned-low":
            _train_nn(net, list(net.parameters()), low, x, y, seed)
            return _nn_predict(net, low, x_test)
        torch.manual_seed(seed)
        head = build_net(low.width).predictor
        _train_nn(net, [*net.encoder.parameters(), *net.mu.parameters(),
                        *head.parameters()], low, x, y, seed, head)
        return _nn_predict(net, low, x_test, head)


def _splits(kind: str, data: dict, size: int | None, trial: int):
    """(train index, test index) of one trial."""
    rng = np.random.default_rng(1000 * trial + 7)
    n = len(data["log_edp"])
    if kind == "sim":
        perm = rng.permutation(n)
        test, pool = perm[: n // 5], perm[n // 5:]
    else:
        layers = np.unique(data["layer"])
        held = rng.choice(layers, len(layers) // 3, replace=False)
        is_test = np.isin(data["layer"], held)
        test, pool = np.flatnonzero(is_test), rng.permutation(np.flatnonzero(~is_test))
    return pool[: size or len(pool)], test


def run(kind: str, data: dict, low: StarlightLow, trials: int, sizes) -> list[dict]:
    rows = []
    for size in sizes:
        for model in MODELS:
            rho, r, n_train = [], [], 0
            for trial in range(trials):
                train, test = _splits(kind, data, size, trial)
                if size is not None and len(train) < size:
                    break
                pred = predict(model, low, data["x"][train], data["log_edp"][train],
                               data["x"][test], trial)
                rho.append(float(spearmanr(pred, data["log_edp"][test]).statistic))
                r.append(float(pearsonr(pred, data["log_edp"][test]).statistic))
                n_train = len(train)
            if not rho:
                continue
            rows.append({"data": kind, "model": model, "size": "all" if size is None else size,
                         "train": n_train, "test": len(test), "trials": len(rho),
                         "rho_median": float(np.median(rho)), "rho_min": min(rho),
                         "rho_max": max(rho), "r_median": float(np.median(r)),
                         "r_min": min(r), "r_max": max(r)})
            row = rows[-1]
            print(f"{kind:<8} {str(row['size']):>5} {row['train']:>5} {model:<15} "
                  f"{row['rho_median']:.4f} [{row['rho_min']:.4f}, {row['rho_max']:.4f}]  "
                  f"{row['r_median']:.4f} [{row['r_min']:.4f}, {row['r_max']:.4f}]",
                  flush=True)
    return rows


def throughput(low: StarlightLow, data: dict, fitted_on: int, n: int = 1 << 17) -> dict:
    """Starlight predictions (mean and variance) per second on one batch of n points, by
    wall clock and per CPU second of this (single-threaded) process."""
    model = Starlight(low).fit(data["x"][:fitted_on], data["log_edp"][:fitted_on])
    x = np.resize(data["x"], (n, data["x"].shape[1]))
    model.predict(x[:1024])
    wall, cpu = time.perf_counter(), time.process_time()
    model.predict(x)
    return {"fitted_on": fitted_on, "per_s": n / (time.perf_counter() - wall),
            "per_cpu_s": n / (time.process_time() - cpu)}


def plot(rows: list[dict], path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    kinds = sorted({r["data"] for r in rows})
    fig, axes = plt.subplots(1, len(kinds), figsize=(6 * len(kinds), 4), squeeze=False)
    for ax, kind in zip(axes[0], kinds, strict=True):
        for model in MODELS:
            pts = [r for r in rows if r["data"] == kind and r["model"] == model]
            xs = [r["train"] for r in pts]
            ax.plot(xs, [r["rho_median"] for r in pts], marker="o", label=model)
            ax.fill_between(xs, [r["rho_min"] for r in pts], [r["rho_max"] for r in pts],
                            alpha=0.2)
        ax.set_xscale("log")
        ax.set_xlabel("high-fidelity training samples")
        ax.set_ylabel("Spearman rho (held out)")
        ax.set_title(kind)
        ax.legend()
    fig.tight_layout()
    fig.savefig(path)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="2 trials, 300 simulator samples")
    ap.add_argument("--json")
    ap.add_argument("--plot")
    ap.add_argument("--throughput-only", action="store_true",
                    help="measure only predictions/s and Starlight-Low's training time")
    args = ap.parse_args()
    trials = 2 if args.quick else 10
    low = load_or_train("edge")
    sim = sim_samples(800)
    if args.quick:
        sim = {k: v[:300] for k, v in sim.items()}
    rtl = load_rtl(FIRESIM)
    fire = {"x": rtl.x, "log_edp": rtl.log_edp, "layer": rtl.layers}
    rows: list[dict] = []
    if not args.throughput_only:
        print(f"{'data':<8} {'size':>5} {'train':>5} {'model':<15} rho median [min, max]  "
              f"Pearson r median [min, max]  ({trials} trials)")
        rows = run("sim", sim, low, trials, SIZES) + run("firesim", fire, low, trials, SIZES)
    rate = [throughput(low, sim, n) for n in (200, 500) if n <= len(sim["log_edp"])]
    for t in rate:
        print(f"Starlight fitted on {t['fitted_on']}: {t['per_s']:,.0f} predictions/s wall, "
              f"{t['per_cpu_s']:,.0f} per CPU second (mean + variance, batch of 2^17, one "
              "thread)")
    print(f"Starlight-Low trained in {low.train_seconds:.1f} CPU s")
    if args.json:
        Path(args.json).write_text(json.dumps({
            "trials": trials, "quick": args.quick, "rows": rows,
            "throughput": rate, "low_train_seconds": low.train_seconds,
            "sim_samples": len(sim["log_edp"]), "firesim_rows": len(rtl)}, indent=2))
    if args.plot:
        plot(rows, args.plot)


if __name__ == "__main__":
    main()
