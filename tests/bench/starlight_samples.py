"""Simulator samples for bench_starlight: joint Sobol points run on the bundled simulator.

A timing-only simulator run takes seconds, so the samples are drawn once per (seed, count)
and kept in $DLAC_CACHE/starlight/ as .npz (encoding, ln EDP, layer names). Only mappings
the analytical model puts under MAX_CYCLES are run, on DESIGNS Sobol-chosen edge designs,
to keep a sample under a few seconds: the set covers the zoo layer shapes, minus their
slowest mappings.

    python tests/bench/starlight_samples.py N [--seed S]   # fill the cache
"""

from __future__ import annotations

import argparse
import hashlib
import time

import numpy as np
from dlac.dse.evaluators import SimEvaluator
from dlac.dse.hwspace import preset
from dlac.dse.models.starlight_data import analytical_cost, joint_sobol, zoo_layers
from dlac.dse.models.starlight_encoding import encode
from dlac.flow.spike_cache import cache_root

MAX_CYCLES = 3e6
PER_PAIR = 4
DESIGNS = 16
"""Distinct designs: the simulator builds its library once per design."""


def cache_file(n: int, seed: int):
    key = hashlib.sha256(f"{SimEvaluator().cache_key}:{n}:{seed}:{MAX_CYCLES}:{PER_PAIR}:{DESIGNS}"
                         .encode()).hexdigest()[:12]
    return cache_root() / "starlight" / f"sim_samples_{key}.npz"


def sim_samples(n: int, seed: int = 0, progress: bool = True) -> dict[str, np.ndarray]:
    """n simulator samples (cached): x (raw encoding), log_edp, layer."""
    path = cache_file(n, seed)
    if path.exists():
        with np.load(path) as data:
            return {k: data[k] for k in data.files}
    groups = joint_sobol(preset("edge"), zoo_layers(), 8 * n, PER_PAIR, seed, DESIGNS)
    ev = SimEvaluator()
    xs, ys, names = [], [], []
    start = time.time()
    for g in groups:
        if len(ys) >= n:
            break
        cost = analytical_cost(g)
        keep = np.flatnonzero(cost.cycles < MAX_CYCLES)[:1]
        if not len(keep):
            continue
        batch = g.batch.take(keep)
        sim = ev.evaluate(g.layer, g.target, batch)
        if not (np.isfinite(sim.cycles[0]) and sim.energy_pj[0] > 0):
            continue
        xs.append(encode(g.target, g.layer, batch)[0])
        ys.append(float(np.log(sim.edp[0])))
        names.append(g.layer.name)
        if progress and len(ys) % 25 == 0:
            print(f"{len(ys)}/{n} simulator samples ({time.time() - start:.0f} s)", flush=True)
    out = {"x": np.array(xs), "log_edp": np.array(ys), "layer": np.array(names)}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.stem + ".tmp.npz")
    np.savez(tmp, **out)
    tmp.replace(path)
    return out


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("n", type=int)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    print(len(sim_samples(args.n, args.seed)["log_edp"]), "samples")
