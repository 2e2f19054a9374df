"""Build the simulator core with the host C compiler: a shared library for Python and
compiled Gemmini C programs, both from the same sources (sim/csrc, sim/include).

Builds are cached under the per-user cache directory, keyed by a hash of the sources,
generated headers and flags; each build writes to a temporary name and renames it into
place, so parallel test processes never see a half-written file.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from dlac.ir.gemmini_params import render_params_header
from dlac.ir.target import Target
from dlac.sim.errors import BuildError
from dlac.sim.native import CLASS_NAMES, render_config_header
from dlac.sim.timing import DEFAULT_TIMING, TimingParams

SIM_DIR = Path(__file__).resolve().parent
INCLUDE_DIR = SIM_DIR / "include"
CSRC_DIR = SIM_DIR / "csrc"
PYLIB_SOURCE = SIM_DIR / "libsrc" / "pylib.c"
# dlac's extensions of Gemmini's library (the files every emitted model carries): the tile
# loops the simulator's tiled_matmul / tiled_conv share, and the Python entry points' calls.
EXT_DIR = SIM_DIR.parent / "backends" / "runtime"
CC = "cc"
# IEEE float semantics are part of bit-exactness: no fast-math, no FMA contraction.
SAFE_FLAGS = ("-ffp-contract=off", "-fno-fast-math", "-std=gnu11")
LIB_FLAGS = ("-O3", "-march=native", "-fPIC", "-shared") + SAFE_FLAGS
PROGRAM_FLAGS = ("-O2", "-march=native", "-Wall", "-Werror") + SAFE_FLAGS
STATS_FILE = "sim_stats.json"


def core_sources() -> list[Path]:
    return sorted(CSRC_DIR.glob("*.c"))


def source_files() -> list[Path]:
    """Every file a simulator library is built from (the core, headers, the C library)."""
    return core_sources() + sorted(CSRC_DIR.glob("*.h")) + sorted(INCLUDE_DIR.glob("*.h")) + [
        EXT_DIR / "dlac_gemmini_tiles.h", EXT_DIR / "dlac_gemmini_ext.h", PYLIB_SOURCE]


def cache_dir() -> Path:
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "dlac" / "sim"


def _digest(parts: list[bytes]) -> str:
    h = hashlib.sha256()
    for p in parts:
        h.update(len(p).to_bytes(8, "little"))
        h.update(p)
    return h.hexdigest()[:24]


def write_headers(target: Target, include_dir: Path,
                  timing: TimingParams = DEFAULT_TIMING) -> None:
    """Write gemmini_params.h and dlac_sim_config.h for `target` into `include_dir`."""
    include_dir.mkdir(parents=True, exist_ok=True)
    (include_dir / "gemmini_params.h").write_text(render_params_header(target))
    (include_dir / "dlac_sim_config.h").write_text(render_config_header(target, timing))


def _run_cc(args: list[str], what: str) -> None:
    proc = subprocess.run(args, capture_output=True, text=True)
    if proc.returncode != 0:
        first = (proc.stderr.strip().splitlines() or ["(no output)"])[0]
        raise BuildError(f"{what}: {CC} failed: {first}")


def build_library(target: Target) -> Path:
    """The shared library (core + C library entry points) for `target`, built on demand."""
    params = render_params_header(target).encode()
    key = _digest([params, " ".join(LIB_FLAGS).encode()]
                  + [p.read_bytes() for p in source_files()])
    out_dir = cache_dir() / key
    lib = out_dir / "libdlacsim.so"
    if lib.exists():
        return lib
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out_dir) as tmp:
        inc = Path(tmp) / "include"
        write_headers(target, inc)
        tmp_lib = Path(tmp) / "libdlacsim.so"
        _run_cc([CC, *LIB_FLAGS, f"-I{inc}", f"-I{INCLUDE_DIR}", f"-I{CSRC_DIR}",
                 f"-I{EXT_DIR}", str(PYLIB_SOURCE), *map(str, core_sources()),
                 "-lm", "-o", str(tmp_lib)],
                f"building the simulator library for {target.name}")
        os.replace(tmp_lib, lib)
    return lib


def compile_program(sources: list[Path | str], target: Target, out_dir: Path | str, *,
                    timing: TimingParams = DEFAULT_TIMING, name: str = "program",
                    extra_flags: tuple[str, ...] = ()) -> Path:
    """Compile a Gemmini C program against the simulator (`cc -Wall -Werror`).

    The program's simulator writes its cycles/energy/counters to `out_dir/sim_stats.json`
    at exit; `run_program` reads them.
    """
    out = Path(out_dir).resolve()
    inc = out / "include"
    write_headers(target, inc, timing)
    binary = out / name
    stats = out / STATS_FILE
    _run_cc([CC, *PROGRAM_FLAGS, *extra_flags, f"-I{inc}", f"-I{INCLUDE_DIR}", f"-I{EXT_DIR}",
             f'-DDLAC_SIM_STATS_PATH="{stats}"', *map(str, sources),
             *map(str, core_sources()), "-lm", "-o", str(binary)],
            f"compiling {', '.join(Path(s).name for s in sources)}")
    return binary


@dataclass
class ProgramResult:
    returncode: int
    stdout: str
    stderr: str
    cycles: float | None = None
    host_cycles: float | None = None
    energy_pj: float | None = None
    instructions: int | None = None
    counters: dict[str, int] = field(default_factory=dict)


def run_program(binary: Path | str, args: list[str] | None = None,
                timeout: float | None = None) -> ProgramResult:
    """Run a program built by `compile_program`; returns its output and simulator stats."""
    binary = Path(binary)
    stats = binary.parent / STATS_FILE
    stats.unlink(missing_ok=True)
    proc = subprocess.run([str(binary), *(args or [])], capture_output=True, text=True,
                          timeout=timeout)
    result = ProgramResult(proc.returncode, proc.stdout, proc.stderr)
    if stats.exists():
        data = json.loads(stats.read_text())
        result.cycles = data["cycles"]
        result.host_cycles = data["host_cycles"]
        result.energy_pj = data["energy_pj"]
        result.instructions = data["instructions"]
        result.counters = dict(zip(CLASS_NAMES, data["counts"], strict=True))
    return result
