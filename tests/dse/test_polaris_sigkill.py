"""Polaris resumed after a real SIGKILL equals an uninterrupted run with the same seed.

The run is a child process (tiny models, small HW space, the GP surrogate, analytical
evaluator); it is killed with SIGKILL while it works on a trial after the tuning database
holds two, then run again with `resume=True` on the same database."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

CHILD = """
import json, sys
from dlac.dse.driver import Budget, Options, autotune
from dlac.dse.hwspace import HwSpace
from dlac.dse.nested import SwConfig
from dlac.passes.mapping import ConvLayer, MatmulLayer

conv = ConvLayer("conv", batch=1, in_channels=16, out_channels=32, in_rows=14, in_cols=14,
                 kernel_rows=3, kernel_cols=3, padding=1)
models = {"tiny": [(MatmulLayer("fc", i=64, j=128, k=96), 3), (conv, 2)]}
space = HwSpace(dims=(4, 8, 16), sp_kib=(8, 64, 8), acc_kib=(8, 64, 8), bus_bits=(64, 128),
                area_budget_mm2=0.5)
opts = Options(space=space, searcher="polaris", budget=Budget(evaluations=16), seed=3,
               sw=SwConfig("batch", samples=50), db_path=sys.argv[1], progress=False,
               validate="none", resume=sys.argv[2] == "resume",
               searcher_options={"hw_iterations": 4, "sw_iterations": 2, "sw_samples": 32,
                                 "hw_starts": 16, "surrogate": "gp"})
r = autotune(models, opts, on_trial=lambda t: print("trial", t.idx, flush=True))
print(json.dumps({"targets": [t.result.target.to_json() for t in r.trials],
                  "objective": r.best.objective, "spent": r.searcher.spent(),
                  "layers": [[b.layer.name for b in t.result.layers.values()] for t in r.trials],
                  "resumed": r.resumed_trials}))
"""


def _start(db: Path, mode: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", CHILD, str(db), mode],
                            stdout=subprocess.PIPE, text=True, env=dict(os.environ))


def _finish(proc: subprocess.Popen) -> dict:
    out, _ = proc.communicate(timeout=600)
    assert proc.returncode == 0
    return json.loads(out.strip().splitlines()[-1])


def test_resume_after_sigkill_equals_uninterrupted(tmp_path) -> None:
    full = _finish(_start(tmp_path / "full.sqlite", "fresh"))
    assert len(full["targets"]) == 4 and full["spent"] == 16

    db = tmp_path / "killed.sqlite"
    proc = _start(db, "fresh")
    for line in proc.stdout:
        if line.strip() == "trial 1":
            os.kill(proc.pid, signal.SIGKILL)
            break
    proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGKILL, "the run ended before it was killed"

    resumed = _finish(_start(db, "resume"))
    assert 2 <= resumed["resumed"] < 4
    assert resumed["targets"] == full["targets"]
    assert resumed["objective"] == full["objective"]
    assert resumed["spent"] == full["spent"]
    # replayed trials list their layers in the models' order, not the database's sorted keys
    assert resumed["layers"] == full["layers"] == [["fc", "conv"]] * 4
