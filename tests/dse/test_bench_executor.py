"""The executor benchmark: its schedule model, and an end-to-end run on a tiny budget."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).parents[1] / "bench" / "bench_executor.py"
spec = importlib.util.spec_from_file_location("bench_executor", SCRIPT)
bench = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bench)


def test_makespan_is_list_scheduling_in_task_order() -> None:
    assert bench.makespan([3.0, 1.0, 1.0, 1.0], 2) == 3.0
    assert bench.makespan([1.0, 1.0, 1.0, 1.0], 2) == 2.0
    assert bench.makespan([2.0, 2.0], 8) == 2.0
    assert bench.makespan([], 4) == 0.0


def test_projection_adds_the_driver_serial_part() -> None:
    batches = [{"ask_seconds": 1.0, "record_seconds": 0.5}]
    p = bench.project(batches, [[1.0] * 8], overhead=0.25, workers=4)
    assert p["driver_s"] == pytest.approx(1.0 + 0.5 + 8 * 0.25)
    assert p["evaluate_s"] == pytest.approx(2.0)
    assert p["driver_share"] == pytest.approx(3.5 / 5.5)


@pytest.mark.slow
def test_bench_executor_runs_and_executors_agree(tmp_path) -> None:
    out = tmp_path / "exec.json"
    subprocess.run([sys.executable, str(SCRIPT), "--model", "resnet18", "--budget", "1",
                    "--samples", "1", "--executors", "serial", "process", "--json", str(out)],
                   check=True, capture_output=True, text=True)
    data = json.loads(out.read_text())
    assert [r["executor"] for r in data["runs"]] == ["serial", "process"]
    assert all(r["same_result"] for r in data["runs"])
    assert [p["workers"] for p in data["projection"]] == [8, 64, 512]
