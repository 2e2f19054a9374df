"""Where Spike, libgemmini and Gemmini's software headers live on this machine.

Everything the Spike flow needs sits in one cache outside the repository (default
`~/.cache/dlac`, or `$DLAC_CACHE`) so that CI without network access can run it once
`python -m dlac.tools.setup_spike` has filled it.
"""

from __future__ import annotations

import os
from pathlib import Path

SETUP_HINT = "run `python -m dlac.tools.setup_spike` first"
SPIKE_COMMIT = "55b4658"
LIBGEMMINI_COMMIT = "5b1254a"
ROCC_TESTS_COMMIT = "180c468"
SPIKE_REPO = "https://github.com/riscv-software-src/riscv-isa-sim"
LIBGEMMINI_REPO = "https://github.com/ucb-bar/libgemmini"
ROCC_TESTS_REPO = "https://github.com/ucb-bar/gemmini-rocc-tests"


def cache_root() -> Path:
    """The cache folder: `$DLAC_CACHE` or `~/.cache/dlac`."""
    return Path(os.environ.get("DLAC_CACHE", Path.home() / ".cache" / "dlac"))


def spike_prefix() -> Path:
    """The install prefix holding bin/spike, include/ and lib/."""
    return cache_root() / "spike"


def libgemmini_src() -> Path:
    """libgemmini's sources at the pinned commit."""
    return cache_root() / "src" / "libgemmini"


def rocc_tests_src() -> Path:
    """gemmini-rocc-tests at the pinned commit (Gemmini's include/gemmini.h, bareMetalC)."""
    return cache_root() / "src" / "gemmini-rocc-tests"


def missing() -> list[str]:
    """What of the cache is absent (empty when the Spike flow can run)."""
    need = {"spike": spike_prefix() / "bin" / "spike",
            "libgemmini sources": libgemmini_src() / "gemmini.cc",
            "gemmini-rocc-tests": rocc_tests_src() / "include" / "gemmini.h"}
    return [name for name, path in need.items() if not path.exists()]
