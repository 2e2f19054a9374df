"""Parse/print throughput and peak memory on a generated 100,000-op module.

Targets (issue #2): >= 20,000 ops/s parse, >= 100,000 ops/s print.
Usage: python tests/bench/bench_ir.py [--ops N] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import time
import tracemalloc

from dlac.ir.attributes import AffineMapAttr
from dlac.ir.dialects.builtin import ModuleOp
from dlac.ir.dialects.func import FuncOp, ReturnOp
from dlac.ir.dialects.graph import AddOp, ReluOp
from dlac.ir.dialects.loop import ForOp, LoadOp, StoreOp
from dlac.ir.parser import parse_module
from dlac.ir.printer import print_op
from dlac.ir.types import MemRefType, TensorType, f32, i8


def build_module(n_ops: int) -> ModuleOp:
    """A function of chained tensor ops plus loop nests with loads/stores, ~n_ops ops."""
    module = ModuleOp.build()
    t = TensorType([1, 64, 56, 56], f32)
    buf = MemRefType([64, 64], i8, "dram")
    func = FuncOp.build("main", [t, buf], [t], ["x", "buf"])
    block = func.body.block
    x, mem = block.args
    amap = AffineMapAttr(2, 0, ((0, ((0, 1),)), (3, ((1, 2),))))
    count = 2
    value = x
    while count < n_ops:
        add = AddOp([value, x], [t])
        relu = ReluOp([add.result], [t])
        block.append(add)
        block.append(relu)
        value = relu.result
        outer = ForOp.build(0, 64, 16, dim="K", iter="parallel")
        inner = ForOp.build(0, 64, 1, dim="C", iter="reduction")
        outer.body.block.append(inner)
        i, j = outer.iv, inner.iv
        load = LoadOp([mem, i, j], [i8], {"map": amap})
        inner.body.block.append(load)
        inner.body.block.append(StoreOp([load.result, mem, j, i], [], {"map": amap}))
        block.append(outer)
        count += 6
    block.append(ReturnOp([value]))
    module.body.block.append(func)
    return module


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ops", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=3, help="best of N timed runs")
    ap.add_argument("--json", help="write results here")
    args = ap.parse_args()
    module = build_module(args.ops)
    n_ops = sum(1 for _ in module.walk())
    parse_module("builtin.module {\n}\n")  # build LALR tables outside the timed region

    t_print = t_parse = float("inf")
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        text = print_op(module)
        t_print = min(t_print, time.perf_counter() - t0)
        t0 = time.perf_counter()
        parsed = parse_module(text, "bench.mlir")
        t_parse = min(t_parse, time.perf_counter() - t0)
    assert print_op(parsed) == text, "round trip broke"
    del parsed

    tracemalloc.start()
    print_op(module)
    _, peak_print = tracemalloc.get_traced_memory()
    tracemalloc.reset_peak()
    parse_module(text, "bench.mlir")
    _, peak_parse = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    rows = {
        "ops": n_ops,
        "text_mib": round(len(text) / 2**20, 2),
        "print_s": round(t_print, 3),
        "print_ops_per_s": round(n_ops / t_print),
        "parse_s": round(t_parse, 3),
        "parse_ops_per_s": round(n_ops / t_parse),
        "peak_mem_print_mib": round(peak_print / 2**20, 1),
        "peak_mem_parse_mib": round(peak_parse / 2**20, 1),
        "load_average_1min": round(os.getloadavg()[0], 2),
        "target_parse_ops_per_s": 20_000,
        "target_print_ops_per_s": 100_000,
    }
    width = max(map(len, rows))
    for key, value in rows.items():
        print(f"{key:<{width}}  {value}")
    ok = rows["parse_ops_per_s"] >= 20_000 and rows["print_ops_per_s"] >= 100_000
    rows["meets_targets"] = ok
    print(f"{'meets_targets':<{width}}  {ok}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(rows, fh, indent=2)


if __name__ == "__main__":
    main()
