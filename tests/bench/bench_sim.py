"""Simulator throughput benchmark: simulated MACs per second and peak memory.

    python tests/bench/bench_sim.py [--json out.json] [--quick]

For each array size (16x16, 32x32) it runs, in a fresh process, a 1024^3 matmul and the
ResNet-50 (batch 1) convolution/FC layers through the C library, functional (bit-exact
arithmetic) and timing-only, and reports wall time, simulated MACs/s, simulated cycles and
peak RSS. MACs per CPU second (the process's own CPU time) stay comparable when the machine
is shared and wall time is not.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import resource
import time
from typing import Any


def resnet50_layers() -> list[tuple[int, int, int, int, int, int]]:
    """(in_hw, cin, cout, kernel, stride, padding) for every conv, then the FC as 1x1."""
    layers = [(224, 3, 64, 7, 2, 3)]
    hw, cin = 56, 64
    for stage, (width, blocks) in enumerate(((64, 3), (128, 4), (256, 6), (512, 3))):
        for b in range(blocks):
            stride = 2 if b == 0 and stage > 0 else 1
            layers.append((hw, cin, width, 1, 1, 0))
            layers.append((hw, width, width, 3, stride, 1))
            out_hw = hw // stride
            layers.append((out_hw, width, 4 * width, 1, 1, 0))
            if b == 0:
                layers.append((hw, cin, 4 * width, 1, stride, 0))
            hw, cin = out_hw, 4 * width
    layers.append((1, 2048, 1000, 1, 1, 0))
    return layers


def _run(dim: int, workload: str, timing_only: bool, queue: Any) -> None:
    import numpy as np
    from dlac.ir.target import Target
    from dlac.sim.simulator import Simulator

    target = Target(dim=dim, sp_kib=256 if dim == 16 else 512, acc_kib=64 if dim == 16 else 256)
    sim = Simulator(target, timing_only=timing_only)
    rng = np.random.default_rng(0)
    macs = 0
    start, cpu_start = time.perf_counter(), time.process_time()
    if workload == "matmul1024":
        n = 1024
        if timing_only:
            sim.matmul_shape(n, n, n)
        else:
            a = rng.integers(-128, 128, (n, n), dtype=np.int8)
            sim.matmul(a, a, scale=1 / 1024)
        macs = n**3
    else:
        for hw, cin, cout, k, stride, pad in resnet50_layers():
            out = (hw + 2 * pad - k) // stride + 1
            if timing_only:
                sim.conv_shape(1, hw, hw, cin, cout, out, out, k, stride=stride, padding=pad)
            else:
                x = rng.integers(-128, 128, (1, hw, hw, cin), dtype=np.int8)
                w = rng.integers(-128, 128, (k, k, cin, cout), dtype=np.int8)
                sim.conv(x, w, np.zeros(cout, np.int32), stride=stride, padding=pad,
                         scale=1 / 4096)
                sim._buffers.clear()
            macs += out * out * cin * cout * k * k
    wall = time.perf_counter() - start
    cpu = time.process_time() - cpu_start
    mode = "timing-only" if timing_only else "functional"
    queue.put({"dim": dim, "workload": workload, "mode": mode,
               "macs": macs, "wall_s": round(wall, 3), "macs_per_s": macs / wall,
               "cpu_s": round(cpu, 3), "macs_per_cpu_s": macs / cpu,
               "sim_cycles": sim.stats.cycles,
               "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)})


def run_case(dim: int, workload: str, timing_only: bool) -> dict[str, Any]:
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_run, args=(dim, workload, timing_only, queue))
    proc.start()
    result = queue.get()
    proc.join()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", help="write results to this JSON file")
    parser.add_argument("--quick", action="store_true", help="matmul only")
    args = parser.parse_args()
    # Build the libraries first so build time is not measured.
    from dlac.ir.target import Target
    from dlac.sim.simulator import load_library
    for dim in (16, 32):
        load_library(Target(dim=dim, sp_kib=256 if dim == 16 else 512,
                            acc_kib=64 if dim == 16 else 256))
    workloads = ["matmul1024"] + ([] if args.quick else ["resnet50"])
    rows = [run_case(d, w, t) for d in (16, 32) for w in workloads for t in (False, True)]
    print(f"{'array':>6} {'workload':>11} {'mode':>12} {'GMAC':>7} {'wall s':>8} "
          f"{'GMAC/s':>7} {'cpu s':>7} {'GMAC/cpu-s':>10} {'sim Mcycles':>12} {'peak MiB':>9}")
    for r in rows:
        print(f"{r['dim']:>3}x{r['dim']:<2} {r['workload']:>11} {r['mode']:>12} "
              f"{r['macs'] / 1e9:7.2f} {r['wall_s']:8.2f} {r['macs_per_s'] / 1e9:7.2f} "
              f"{r['cpu_s']:7.2f} {r['macs_per_cpu_s'] / 1e9:10.2f} "
              f"{r['sim_cycles'] / 1e6:12.2f} {r['peak_rss_mib']:9.1f}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(rows, fh, indent=2)


if __name__ == "__main__":
    main()
