"""The import rules of docs/architecture.md that import-linter cannot see: below tools/,
no first-party import sits inside a function (a lazy import there would hide a cycle
from Python and from `lint-imports`)."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LAYERS = ("ir", "frontend", "passes", "backends", "sim", "flow", "dse")


def _modules() -> list[Path]:
    return sorted(p for layer in LAYERS for p in (ROOT / layer).rglob("*.py"))


def _first_party(node: ast.Import | ast.ImportFrom) -> bool:
    if isinstance(node, ast.ImportFrom):
        return node.level > 0 or (node.module or "").split(".")[0] == "dlac"
    return any(a.name.split(".")[0] == "dlac" for a in node.names)


def function_local_imports(path: Path, root: Path = ROOT) -> list[str]:
    """`file:line: import` for every first-party import inside a function of `path`."""
    tree = ast.parse(path.read_text(), str(path))
    found = []
    for fn in ast.walk(tree):
        if not isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            continue
        for node in ast.walk(fn):
            if isinstance(node, ast.Import | ast.ImportFrom) and _first_party(node):
                found.append(f"{path.relative_to(root)}:{node.lineno}: {ast.unparse(node)}")
    return found


def test_the_layers_exist() -> None:
    assert len(_modules()) > 50


@pytest.mark.parametrize("layer", LAYERS)
def test_no_first_party_import_inside_a_function(layer: str) -> None:
    bad = [hit for p in _modules() if p.relative_to(ROOT).parts[0] == layer
           for hit in function_local_imports(p)]
    assert not bad, "function-local imports below tools/:\n" + "\n".join(bad)


def test_the_check_sees_a_local_import(tmp_path: Path) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text("def f():\n    from dlac.sim import build\n    return build\n")
    assert function_local_imports(probe, tmp_path) == ["probe.py:2: from dlac.sim import build"]


def test_import_contract() -> None:
    """pyproject.toml's import-linter contracts hold on the installed package."""
    lint = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    if lint is None:
        pytest.skip("import-linter is not installed (pip install -e '.[test]')")
    proc = subprocess.run([lint, "--no-cache", "--config", str(ROOT / "pyproject.toml")],
                          capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stdout[-3000:]
