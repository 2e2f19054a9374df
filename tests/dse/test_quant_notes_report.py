"""report.md lists what the compiler changed in a pre-quantized model's own quantization."""

from __future__ import annotations

from pathlib import Path

from dlac.dse.driver import Budget, Options, autotune
from dlac.dse.nested import SwConfig
from dlac.dse.report import build_report, render_markdown


def test_quant_notes_become_a_table(models, small_space, tmp_path: Path) -> None:  # noqa: ANN001
    result = autotune(models, Options(space=small_space, searcher="random",
                                      budget=Budget(evaluations=2), seed=0,
                                      sw=SwConfig("batch", samples=20),
                                      db_path=tmp_path / "db.sqlite", progress=False,
                                      validate="none"))
    report = build_report(result)
    assert "Changes to the models' own quantization" not in render_markdown(report)
    report["quant_notes"] = {"tiny": [{"node": "conv1", "change": "scale 0.1 -> 0.2",
                                       "why": "zero point"}]}
    assert "| tiny | conv1 | scale 0.1 -> 0.2 | zero point |" in render_markdown(report)
