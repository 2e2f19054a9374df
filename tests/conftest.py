"""Test collection: pytest tests, plus FileCheck-style `.mlir` files under tests/filecheck.

Each `// RUN:` line of a `.mlir` file becomes one test item, run with bash like lit does:
`%s` is the file, `%S` its directory, `%t` a scratch path; pipelines fail if any stage
fails, and `not CMD` succeeds only when CMD fails.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

_BIN = os.path.dirname(sys.executable)
_PRELUDE = "set -o pipefail\nnot() { if \"$@\"; then return 1; else return 0; fi; }\n"


def pytest_collect_file(parent: pytest.Collector, file_path: Path) -> pytest.Collector | None:
    if file_path.suffix == ".mlir" and "filecheck" in file_path.parts:
        return MlirFile.from_parent(parent, path=file_path)
    return None


def run_lines(text: str) -> list[str]:
    commands: list[str] = []
    pending = ""
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped.startswith("//") or "RUN:" not in stripped:
            continue
        part = stripped.split("RUN:", 1)[1].strip()
        if part.endswith("\\"):
            pending += part[:-1] + " "
            continue
        commands.append(pending + part)
        pending = ""
    return commands


class MlirFile(pytest.File):
    def collect(self):  # noqa: ANN201
        for i, command in enumerate(run_lines(self.path.read_text())):
            yield RunItem.from_parent(self, name=f"RUN{i}", command=command)


class FileCheckFailure(Exception):
    pass


class RunItem(pytest.Item):
    def __init__(self, *, command: str, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.command = command

    def runtest(self) -> None:
        scratch = self.path.parent / f".{self.path.stem}.{self.name}.tmp"
        cmd = (self.command.replace("%s", str(self.path)).replace("%S", str(self.path.parent))
               .replace("%t", str(scratch)))
        env = dict(os.environ, PATH=_BIN + os.pathsep + os.environ.get("PATH", ""))
        try:
            proc = subprocess.run(["bash", "-c", _PRELUDE + cmd], capture_output=True,
                                  text=True, env=env, timeout=300)
        finally:
            if scratch.exists():
                scratch.unlink()
        if proc.returncode != 0:
            raise FileCheckFailure(f"command failed ({proc.returncode}): {cmd}\n"
                                   f"--- stdout ---\n{proc.stdout}\n--- stderr ---\n{proc.stderr}")

    def repr_failure(self, excinfo: pytest.ExceptionInfo) -> str:  # type: ignore[override]
        if isinstance(excinfo.value, FileCheckFailure):
            return str(excinfo.value)
        return super().repr_failure(excinfo)

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, 0, f"{self.path.name}::{self.name}: {self.command}"
