"""Write a compiled model's C sources, headers and Makefile into an output directory.

Everything is rendered into a temporary directory next to the destination first and only
moved into place once complete, so a failure leaves the destination as it was.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path

import jinja2
from dlac import __version__
from dlac.backends.c_emit import BLOB_FILE, CEmitter, ProgramView
from dlac.backends.errors import BackendError
from dlac.ir.core import Operation
from dlac.ir.gemmini_params import render_params_header
from dlac.ir.target import Target

RUNTIME_DIR = Path(__file__).resolve().parent / "runtime"


@lru_cache(maxsize=1)
def _env() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.PackageLoader("dlac.backends", "templates"),
                              undefined=jinja2.StrictUndefined, keep_trailing_newline=True,
                              trim_blocks=True, lstrip_blocks=False, autoescape=False)


@dataclass(frozen=True)
class SimRuntime:
    """What the output's `make sim` builds against: the simulator's headers and C core, and
    its per-target config header (the caller, which knows the simulator, supplies them)."""

    include_dir: Path
    core_dir: Path
    config_header: str


@dataclass
class Emitted:
    out_dir: Path
    view: ProgramView

    @property
    def model_c(self) -> Path:
        return self.out_dir / "model.c"


def render_files(module: Operation, target: Target, model: str, sim: SimRuntime
                 ) -> tuple[dict[str, str | bytes], ProgramView]:
    emitter = CEmitter(module, target, model)
    view = emitter.run()
    common = {"version": __version__, "target_name": target.name}
    files: dict[str, str | bytes] = {
        "model.c": _env().get_template("model.c.j2").render(**common, **asdict(view)),
        "dlac_host.h": (RUNTIME_DIR / "dlac_host.h").read_text(),
        "dlac_gemmini_ext.h": (RUNTIME_DIR / "dlac_gemmini_ext.h").read_text(),
        "dlac_gemmini_tiles.h": (RUNTIME_DIR / "dlac_gemmini_tiles.h").read_text(),
        "gemmini_params.h": render_params_header(target),
        "dlac_sim_config.h": sim.config_header,
        "Makefile": _env().get_template("Makefile.j2").render(
            **common, model=view.model, sim_include=str(sim.include_dir),
            sim_core=str(sim.core_dir), python=sys.executable),
        "model.json": json.dumps({
            "model": model, "target": target.to_dict(),
            "inputs": [asdict(io) for io in view.inputs],
            "outputs": [asdict(io) for io in view.outputs],
            "steps": [{"name": s.name, "kind": s.kind, "what": s.comment} for s in view.steps],
        }, indent=2),
    }
    if emitter.blob:
        files[BLOB_FILE] = bytes(emitter.blob)
    return files, view


def emit(module: Operation, target: Target, out_dir: str | Path, sim: SimRuntime,
         model: str = "model") -> Emitted:
    """Render the model's files and move them into `out_dir` (created if needed)."""
    out = Path(out_dir)
    files, view = render_files(module, target, model, sim)
    parent = out.resolve().parent
    if not parent.is_dir():
        raise BackendError(f"output directory's parent {parent} does not exist")
    staging = Path(tempfile.mkdtemp(prefix=".dlac-emit-", dir=parent))
    try:
        for name, data in files.items():
            path = staging / name
            path.write_bytes(data) if isinstance(data, bytes) else path.write_text(data)
        out.mkdir(exist_ok=True)
        for name in files:
            os.replace(staging / name, out / name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return Emitted(out, view)
