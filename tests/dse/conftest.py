"""Tiny models and a small hardware space so driver tests run in seconds."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

import pytest
from dlac.dse.driver import AutotuneResult, Options, autotune
from dlac.dse.hwspace import HwSpace
from dlac.passes.mapping import ConvLayer, MatmulLayer


def tiny_models() -> dict:
    conv = ConvLayer("conv", batch=1, in_channels=16, out_channels=32, in_rows=14, in_cols=14,
                     kernel_rows=3, kernel_cols=3, padding=1)
    mm = MatmulLayer("fc", i=64, j=128, k=96)
    mm2 = MatmulLayer("proj", i=32, j=64, k=64, has_bias=False)
    return {"tiny": [(conv, 2), (mm, 3)], "tiny2": [(mm2, 1), (mm, 1)]}


@pytest.fixture
def models() -> dict:
    return {"tiny": tiny_models()["tiny"]}


@pytest.fixture
def small_space() -> HwSpace:
    return HwSpace(dims=(4, 8, 16), sp_kib=(8, 64, 8), acc_kib=(8, 64, 8),
                   bus_bits=(64, 128), area_budget_mm2=0.5)


class Killed(Exception):
    """Stands for the driver being killed right after an evaluation was recorded."""


def interrupted_then_resumed(models: dict, opts: Options, at: int) -> AutotuneResult:
    """Run `opts` until trial `at` is recorded, stop it there as a kill would, then run it
    again with `--resume` on the same database: what resume tests compare with an
    uninterrupted run."""
    def stop(trial) -> None:
        if trial.idx == at:
            raise Killed

    with pytest.raises(Killed):
        autotune(models, opts, on_trial=stop)
    return autotune(models, dataclasses.replace(opts, resume=True))


def run_dlac(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    """`dlac ARGS` in a child process, as a user runs it (one-line errors, exit codes)."""
    return subprocess.run([sys.executable, "-m", "dlac.tools.dlac_main", *args],
                          capture_output=True, text=True, timeout=600, cwd=cwd)
