"""Pipelines, the pass manager, and dlac-opt's command-line behaviour."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from dlac.ir.parser import parse_module
from dlac.ir.printer import print_op
from dlac.passes.pass_base import PassError
from dlac.passes.pass_manager import PassFailure, PassManager
from dlac.passes.pipeline import format_pipeline, parse_pipeline
from dlac.passes.registry import available_passes

SAMPLE = """func.func @f() {
  %0 = loop.alloc : () -> memref<4xi8>
  gemmini.fence
  func.return
}
"""


def test_pipeline_text_round_trips() -> None:
    text = "dce,test-fail{message=hi crash=true},strip-locations"
    passes = parse_pipeline(text)
    assert [p.name for p in passes] == ["dce", "test-fail", "strip-locations"]
    assert passes[1].crash is True and passes[1].message == "hi"
    assert format_pipeline(passes) == text
    assert parse_pipeline(format_pipeline(passes)) == passes


@pytest.mark.parametrize("bad, message", [
    ("nope", "unknown pass 'nope'"),
    ("dce,", "trailing ','"),
    ("test-fail{crash=maybe}", "option 'crash' expects bool"),
    ("test-fail{x}", "expected key=value"),
    ("test-fail{message=a", "unclosed '{'"),
    ("dce dce", "expected ','"),
])
def test_pipeline_errors(bad: str, message: str) -> None:
    with pytest.raises(PassError, match=message):
        parse_pipeline(bad)


def test_pass_manager_runs_and_dumps(tmp_path: Path) -> None:
    import io

    module = parse_module(SAMPLE)
    stream = io.StringIO()
    PassManager(parse_pipeline("dce"), print_ir_after_all=True, dump_stream=stream).run(module)
    assert "loop.alloc" not in print_op(module)
    assert stream.getvalue().startswith("// -----// IR Dump After dce //----- //\n")


def test_failure_names_pass_and_writes_runnable_reproducer(tmp_path: Path) -> None:
    module = parse_module(SAMPLE, "in.mlir")
    repro = tmp_path / "repro.mlir"
    manager = PassManager(parse_pipeline("dce,test-fail{message=boom}"),
                          reproducer_path=str(repro))
    with pytest.raises(PassFailure, match="pass 'test-fail' failed: boom") as err:
        manager.run(module)
    assert err.value.reproducer == str(repro)
    text = repro.read_text()
    assert text.startswith("// dlac-opt reproducer: -p 'test-fail{message=boom}'")
    assert "loop.alloc" not in text
    proc = _opt([str(repro), "--run-reproducer"])
    assert proc.returncode == 1 and "failed: boom" in proc.stderr


def test_every_registered_pass_loads() -> None:
    from dlac.passes.registry import pass_class

    for name in available_passes():
        assert pass_class(name).name == name
        assert pass_class(name).__doc__, f"{name} needs a docstring with an example"


def _opt(args: list[str], stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "dlac.tools.opt_main", *args], input=stdin,
                          capture_output=True, text=True, timeout=120)


def test_dlac_opt_stdin_and_output_file(tmp_path: Path) -> None:
    out = tmp_path / "out.mlir"
    proc = _opt(["-", "-p", "dce", "-o", str(out)], stdin=SAMPLE)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "" and "gemmini.fence" in out.read_text()


@pytest.mark.parametrize("text, expect", [
    ("func.func @f() {\n  %0 = graph.relu %z : (tensor<1xf32>) -> tensor<1xf32>\n}\n",
     "<stdin>:2:19: error: use of undefined value '%z'"),
    ("func.func @f() {\n", "<stdin>:1:16: error: '{' is never closed"),
    ("\x00", "<stdin>:1:1: error: unexpected character"),
])
def test_dlac_opt_errors_are_one_line(text: str, expect: str) -> None:
    proc = _opt(["-"], stdin=text)
    assert proc.returncode == 1
    assert proc.stderr.startswith(expect)
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr


def test_dlac_opt_leaves_no_partial_output(tmp_path: Path) -> None:
    out = tmp_path / "out.mlir"
    out.write_text("previous")
    proc = _opt(["-", "-p", "test-fail", "-o", str(out)], stdin=SAMPLE)
    assert proc.returncode == 1
    assert out.read_text() == "previous"
    assert [p.name for p in tmp_path.iterdir()] == ["out.mlir"]


def test_dlac_opt_missing_file() -> None:
    proc = _opt(["/nonexistent/x.mlir"])
    assert proc.returncode == 1
    assert proc.stderr == "dlac-opt: error: /nonexistent/x.mlir: no such file\n"
