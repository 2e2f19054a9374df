"""`make spike` in an output dir: run its model on Spike + libgemmini and check the outputs.

Usage: python -m dlac.tools.spike_run DIR  (DIR holds model.c, gemmini_params.h, inputs.bin
and expected.bin, as `dlac MODEL -o DIR --validate spike` writes them). Exit 0 when every
output byte matches.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from dlac.errors import DlacError
from dlac.flow.validate_spike import run_output_dir


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m dlac.tools.spike_run DIR", file=sys.stderr)
        return 2
    try:
        with tempfile.TemporaryDirectory(prefix="dlac-spike-") as build:
            rep = run_output_dir(Path(args[0]), Path(build))
    except DlacError as err:
        print(f"spike: {err}", file=sys.stderr)
        return 1
    verdict = "bit-exact" if rep.spike_bit_exact else f"{rep.spike_mismatched_bytes} bytes differ"
    print(f"Spike + libgemmini: {verdict}; {rep.spike_instructions:,} instructions, "
          f"{rep.spike_wall_s} s")
    return 0 if rep.spike_bit_exact else 1


if __name__ == "__main__":
    raise SystemExit(main())
