"""Fuzz the IR parser and verifier with mutated and random text.

Every input must either parse and verify, or fail with a one-line DiagnosticError; any
other exception is a crash, and a case that runs longer than `--timeout` is a hang.
Usage: python tests/bench/fuzz_parser.py [--cases 10000] [--seed 0] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import random
import signal
import sys
import time
import traceback
from pathlib import Path

from dlac.ir.diagnostics import DiagnosticError
from dlac.ir.parser import parse_module
from dlac.ir.verifier import verify

ROOT = Path(__file__).resolve().parents[1]
_TOKENS = ["{", "}", "(", ")", "[", "]", ",", ":", "=", "->", "%0", "%x", "^bb0", "@f", '"s"',
           "0", "-1", "1.5", "inf", "nan", "i8", "index", "tensor<2xf32>", "memref<4xi8>",
           "loop.for", "func.func", "func.return", "graph.add", "gemmini.fence", "attributes",
           "to", "step", "loc(", "dense<[1]>", "affine_map<(d0) -> (d0)>", "\n", " ", "//",
           "\\", "\x00", "\u00e9", "}}}}", "{{{{", "%", "@", "^", '"']


class Hang(Exception):
    pass


def _alarm(signum: int, frame: object) -> None:
    raise Hang()


def corpus() -> list[str]:
    texts = [p.read_text() for p in sorted((ROOT / "filecheck").rglob("*.mlir"))]
    chunks = []
    for text in texts:
        chunks.extend(t for t in text.split("// -----") if t.strip())
    return chunks


def mutate(rng: random.Random, text: str) -> str:
    for _ in range(rng.randint(1, 4)):
        kind = rng.randrange(7)
        pos = rng.randrange(len(text) + 1)
        if kind == 0 and text:
            text = text[:pos] + text[pos + 1:]
        elif kind == 1:
            text = text[:pos] + rng.choice(_TOKENS) + text[pos:]
        elif kind == 2:
            text = text[:pos]
        elif kind == 3 and text:
            end = min(len(text), pos + rng.randint(1, 40))
            text = text[:pos] + text[pos:end] * 2 + text[end:]
        elif kind == 4:
            text = text[:pos] + chr(rng.randrange(0, 0x250)) + text[pos:]
        elif kind == 5 and text:
            a, b = sorted(rng.randrange(len(text)) for _ in range(2))
            text = text[:a] + text[b:]
        else:
            text = "".join(rng.choice(_TOKENS) for _ in range(rng.randint(1, 60)))
    return text


def run(cases: int, seed: int, timeout: float) -> dict[str, object]:
    rng = random.Random(seed)
    seeds = corpus()
    counts = {"accepted": 0, "diagnostics": 0, "crashes": 0, "hangs": 0}
    crashes: list[str] = []
    slowest = 0.0
    signal.signal(signal.SIGALRM, _alarm)
    start = time.perf_counter()
    for i in range(cases):
        text = mutate(rng, rng.choice(seeds))
        t0 = time.perf_counter()
        signal.setitimer(signal.ITIMER_REAL, timeout)
        try:
            verify(parse_module(text, "fuzz.mlir"))
            counts["accepted"] += 1
        except DiagnosticError as err:
            if "\n" in str(err) or not str(err).startswith("fuzz.mlir:"):
                counts["crashes"] += 1
                crashes.append(f"case {i}: malformed diagnostic {str(err)!r}")
            else:
                counts["diagnostics"] += 1
        except Hang:
            counts["hangs"] += 1
            crashes.append(f"case {i}: hang on {text[:200]!r}")
        except Exception:  # noqa: BLE001 (a crash is what this tool looks for)
            counts["crashes"] += 1
            crashes.append(f"case {i}: {traceback.format_exc(limit=3)} on {text[:200]!r}")
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        slowest = max(slowest, time.perf_counter() - t0)
    return {"cases": cases, "seed": seed, **counts, "slowest_case_s": round(slowest, 4),
            "total_s": round(time.perf_counter() - start, 2), "examples": crashes[:10]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", type=int, default=10_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--timeout", type=float, default=5.0)
    ap.add_argument("--json")
    args = ap.parse_args()
    result = run(args.cases, args.seed, args.timeout)
    for key in ("cases", "accepted", "diagnostics", "crashes", "hangs", "slowest_case_s",
                "total_s"):
        print(f"{key:<15} {result[key]}")
    for example in result["examples"]:  # type: ignore[union-attr]
        print(example, file=sys.stderr)
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2))
    sys.exit(1 if result["crashes"] or result["hangs"] else 0)


if __name__ == "__main__":
    main()
