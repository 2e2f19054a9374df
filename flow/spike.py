"""Run C programs on Spike with libgemmini: the Gemmini authors' functional model.

A program is cross-compiled bare metal with dlac's Spike runtime (backends/runtime/spike)
against gemmini-rocc-tests' own `include/gemmini.h` and the target's `gemmini_params.h`;
libgemmini is rebuilt for that params file (cached by its hash) because its array size,
types and scratchpad geometry are compile-time constants. Everything comes from the cache
that `dlac.tools.setup_spike` fills; anything missing is a one-line error naming it.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from dlac.backends.emit import RUNTIME_DIR
from dlac.errors import DlacError
from dlac.flow import spike_cache as sc

SPIKE_RUNTIME = RUNTIME_DIR / "spike"
PICOLIBC = Path("/usr/lib/picolibc/riscv64-unknown-elf")
CROSS_CC = "riscv64-unknown-elf-gcc"
ISA = "rv64gc_zicntr"
_INSTRET = re.compile(r"\nspike-instret (\d+)\n")
_BANNER = re.compile(r"^Gemmini extension configured with:\n(    .*\n)*", re.MULTILINE)


class SpikeError(DlacError):
    """Spike, libgemmini or the cross compiler is missing or a Spike run failed."""


@dataclass(frozen=True)
class SpikeRun:
    returncode: int
    output: str
    instructions: int


def require_cache() -> None:
    """Raise a one-line SpikeError when the cache or the cross toolchain is incomplete."""
    absent = sc.missing()
    if shutil.which(CROSS_CC) is None:
        absent.append(CROSS_CC)
    if not (PICOLIBC / "include").is_dir():
        absent.append("picolibc-riscv64-unknown-elf")
    if absent:
        raise SpikeError(f"Spike flow: missing {', '.join(absent)}; {sc.SETUP_HINT}")


def _key(params_h: str) -> str:
    return hashlib.sha256(params_h.encode()).hexdigest()[:16]


def gemmini_include(params_h: str) -> Path:
    """A folder laid out as Gemmini's header expects: include/gemmini.h (gemmini-rocc-tests')
    with this `gemmini_params.h`, and rocc-software/src/xcustom.h (dlac's RoCC macros)."""
    dest = sc.cache_root() / "gemmini_include" / _key(params_h)
    if (dest / "include" / "gemmini_params.h").exists():
        return dest
    stage = Path(tempfile.mkdtemp(dir=dest.parent.parent if dest.parent.exists() else None))
    try:
        shutil.copytree(sc.rocc_tests_src() / "include", stage / "include")
        (stage / "include" / "gemmini_params.h").write_text(params_h)
        (stage / "rocc-software" / "src").mkdir(parents=True)
        shutil.copy(SPIKE_RUNTIME / "xcustom.h", stage / "rocc-software" / "src")
        dest.parent.mkdir(parents=True, exist_ok=True)
        os.replace(stage, dest)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    return dest


def libgemmini(params_h: str) -> Path:
    """The folder holding libgemmini.so built for `params_h` (built once per header)."""
    dest = sc.cache_root() / "libgemmini" / _key(params_h)
    if (dest / "libgemmini.so").exists():
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(dir=dest.parent))
    try:
        shutil.copytree(sc.libgemmini_src(), stage, dirs_exist_ok=True)
        (stage / "gemmini_params.h").write_text(params_h)
        done = subprocess.run(["make", f"RISCV={sc.spike_prefix()}", "libgemmini.so"],
                              cwd=stage, capture_output=True, text=True)
        if done.returncode != 0:
            first = next((ln for ln in done.stderr.splitlines() if "error" in ln),
                         done.stderr.strip()[:200])
            raise SpikeError(f"libgemmini does not build for this gemmini_params.h: {first}")
        os.replace(stage, dest)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    return dest


def cross_compile(sources: list[Path], include: Path, binary: Path,
                  extra_flags: tuple[str, ...] = ()) -> Path:
    """Build a bare-metal rv64gc ELF for Spike from `sources` and dlac's Spike runtime."""
    rt = SPIKE_RUNTIME
    cmd = [CROSS_CC, "-march=rv64gc", "-mabi=lp64d", "-mcmodel=medany", "-O2", "-fno-common",
           "-ffp-contract=off", "-std=gnu11", "-isystem", str(PICOLIBC / "include"),
           f"-I{include}", f"-I{include / 'include'}", "-DBAREMETAL=1", *extra_flags,
           "-nostdlib", "-nostartfiles", "-static", "-Wl,--no-warn-rwx-segments",
           "-T", str(rt / "link.ld"), str(rt / "crt0.S"), str(rt / "htif.c"),
           str(rt / "stdio_htif.c"), *map(str, sources), "-o", str(binary),
           f"-L{PICOLIBC / 'lib/release/rv64imafdc/lp64d'}", "-lc", "-lm", "-lgcc", "-lc"]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        first = next((ln for ln in done.stderr.splitlines() if "error" in ln),
                     done.stderr.strip()[:200])
        raise SpikeError(f"cross-compiling for Spike failed: {first}")
    return binary


def run(binary: Path, lib_dir: Path, timeout: float = 600.0,
        args: tuple[str, ...] = ()) -> SpikeRun:
    """Run `binary` on Spike with the libgemmini in `lib_dir`; its console and exit code."""
    spike = sc.spike_prefix() / "bin" / "spike"
    env = dict(os.environ, LD_LIBRARY_PATH=f"{sc.spike_prefix() / 'lib'}:{lib_dir}")
    try:
        done = subprocess.run([str(spike), f"--isa={ISA}", "--extension=gemmini", *args,
                               str(binary)], capture_output=True, text=True, env=env,
                              timeout=timeout)
    except subprocess.TimeoutExpired as err:
        raise SpikeError(f"Spike run of {binary.name} timed out after {timeout:g} s") from err
    stdout = _BANNER.sub("", done.stdout)
    found = _INSTRET.search(stdout)
    if found is None:
        why = (done.stderr.strip().splitlines() or ["no exit through the runtime"])[-1]
        raise SpikeError(f"Spike run of {binary.name} trapped or aborted: {why}")
    return SpikeRun(done.returncode, stdout[:found.start()], int(found.group(1)))
