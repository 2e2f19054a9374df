"""gemmini-rocc-tests' bareMetalC tests, unchanged, on dlac's simulator header.

Each test is compiled for the host against dlac-sim's gemmini.h (with the default
gemmini_params.h and gemmini-rocc-tests' own gemmini_testutils.h) and run; prints
build/pass per test and the totals, writes JSON. Needs `python -m dlac.tools.setup_spike`'s
gemmini-rocc-tests sources.

    python tests/bench/bench_rocc_tests_sim.py [--json out.json] [--only NAME ...]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import tempfile
from pathlib import Path

from dlac.flow import spike_cache as sc
from dlac.ir.target import Target
from dlac.sim.build import EXT_DIR, INCLUDE_DIR, core_sources, write_headers


def run_test(source: Path, work: Path) -> str:
    """'pass', 'fail N' or 'nobuild: first error line'."""
    binary = work / source.stem
    cmd = ["cc", "-O2", "-std=gnu11", "-w", f"-I{work / 'tree'}", f"-I{work / 'gen'}",
           f"-I{INCLUDE_DIR}", f"-I{EXT_DIR}", "-DBAREMETAL=1", str(source),
           *map(str, core_sources()), "-lm", "-o", str(binary)]
    built = subprocess.run(cmd, capture_output=True, text=True)
    if built.returncode != 0:
        first = next((ln for ln in built.stderr.splitlines() if "rror" in ln), "?")
        return f"nobuild: {first.strip()[:120]}"
    try:
        ran = subprocess.run([str(binary)], capture_output=True, text=True, timeout=120)
    except subprocess.TimeoutExpired:
        return "fail timeout"
    return "pass" if ran.returncode == 0 else f"fail {ran.returncode}"


def layout(work: Path) -> None:
    """include/gemmini.h = dlac-sim's header, beside Gemmini's own gemmini_testutils.h."""
    write_headers(Target(), work / "gen")
    inc = work / "tree" / "include"
    inc.mkdir(parents=True)
    shutil.copy(INCLUDE_DIR / "gemmini.h", inc / "gemmini.h")
    shutil.copy(work / "gen" / "gemmini_params.h", inc / "gemmini_params.h")
    shutil.copy(sc.rocc_tests_src() / "include" / "gemmini_testutils.h", inc)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json")
    ap.add_argument("--only", nargs="*")
    args = ap.parse_args()
    tests = sorted((sc.rocc_tests_src() / "bareMetalC").glob("*.c"))
    if args.only:
        tests = [t for t in tests if t.stem in args.only]
    results = {}
    with tempfile.TemporaryDirectory(prefix="dlac-rocc-") as tmp:
        work = Path(tmp)
        layout(work)
        for test in tests:
            results[test.stem] = run_test(test, work)
            print(f"{test.stem:<45} {results[test.stem]}", flush=True)
    built = sum(not r.startswith("nobuild") for r in results.values())
    passed = sum(r == "pass" for r in results.values())
    print(f"{len(results)} tests: {built} build, {passed} pass")
    if args.json:
        Path(args.json).write_text(json.dumps({"built": built, "passed": passed,
                                               "results": results}, indent=2))


if __name__ == "__main__":
    main()
