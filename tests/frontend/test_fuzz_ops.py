"""A small slice of tests/bench/fuzz_ops.py: seeded op-attribute cases never crash a pass,
every failure is one line naming the node, and compiled cases are bit-exact."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
from fuzz_ops import run_case  # noqa: E402


@pytest.mark.parametrize("seed", range(30))
def test_fuzz_case_compiles_or_fails_in_one_line(tmp_path: Path, seed: int) -> None:
    verdict, message = run_case(seed, seed < 3, tmp_path)
    assert verdict in ("ok", "error"), message


@pytest.mark.parametrize("seed", range(10))
def test_recurrent_family_case_compiles_or_fails_in_one_line(tmp_path: Path, seed: int) -> None:
    verdict, message = run_case(seed, seed < 2, tmp_path, "recurrent")
    assert verdict in ("ok", "error"), message
