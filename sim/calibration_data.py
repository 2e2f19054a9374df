"""Read RTL-measured calibration rows (DOSA's FireSim CSV schema) into simulator cases.

One row is (hardware, layer, mapping, measured cycles). The mapping string is DOSA's:
`L3[WIO] K8 Q28 - L2[WI] N1 K4X - L1[O] ... - L0[W] P16`, levels outermost first, loops
outermost first within a level, `X` marking spatial factors. FireSim ran Gemmini's tiled
conv/matmul with tile = product of the L0..L2 factors (clamped to the layer) and a DRAM loop
order of the L3 loops reversed (innermost first) with missing dims appended in CRSKPQN order.
The data's README says the harness multiplied the L0 P and Q factors in twice; the measured
cycles say otherwise: on the train layers, rows with an L0 P/Q factor > 1 ran 1.5x slower than
the doubled (bigger, fewer) tiles predict, and in line with the other rows with single tiles
(docs/calibration.md).
"""

from __future__ import annotations

import csv
import math
import re
from dataclasses import dataclass
from pathlib import Path

from dlac.ir.target import Target, TargetError, buildable_kib, pick_banks
from dlac.sim.errors import SimError

DIMS = "NCKPQRS"
_TOKEN = re.compile(r"^([NCKPQRS])(\d+)(X?)$")
_LEVEL = re.compile(r"^L(\d)\[\w+\]$")
REQUIRED = ("target.gemmini_cycle", "mapping.mapping", "arch.mem2_depth", "arch.mem2_width",
            "arch.mem1_depth", "arch.mem1_instances", "prob.C", "prob.K", "prob.N", "prob.P",
            "prob.Q", "prob.R", "prob.S", "prob.Hstride", "prob.Wstride")


@dataclass(frozen=True)
class CalCase:
    """One measured run, ready to re-run on the simulator."""

    index: int
    layer: str
    kind: str                      # "conv" or "matmul"
    dims: dict[str, int]           # N C K P Q R S
    stride: int
    dim: int                       # array side
    sp_kib: int
    acc_kib: int
    sp_banks: int
    acc_banks: int
    tiles: dict[str, int]          # element tile per dim
    perm: str                      # DRAM loop order, outermost first, over NQPKSRC
    measured: float

    def target(self, base: Target) -> Target:
        return base.replace(dim=self.dim, sp_kib=self.sp_kib, sp_banks=self.sp_banks,
                            acc_kib=self.acc_kib, acc_banks=self.acc_banks)


class UnbuildableRow(SimError):
    """A measured row whose buffers no Gemmini generator run could have built."""


def parse_mapping(text: str) -> dict[int, list[tuple[str, int, bool]]]:
    """Levels (3 = DRAM .. 0 = registers) -> loops outermost first as (dim, factor, spatial)."""
    levels: dict[int, list[tuple[str, int, bool]]] = {}
    for part in text.split(" - "):
        words = part.split()
        if not words or not _LEVEL.match(words[0]):
            raise SimError(f"bad mapping level {part!r} in {text!r}")
        level = int(_LEVEL.match(words[0]).group(1))  # type: ignore[union-attr]
        loops = []
        for w in words[1:]:
            m = _TOKEN.match(w)
            if not m:
                raise SimError(f"bad mapping token {w!r} in {text!r}")
            loops.append((m.group(1), int(m.group(2)), m.group(3) == "X"))
        levels[level] = loops
    return levels


def _pow2_ceil(n: int) -> int:
    return 1 << max(2, math.ceil(math.log2(max(n, 1))))


def case_from_row(index: int, row: dict[str, str], notes: list[str] | None = None) -> CalCase:
    """One row as a simulator case. DOSA ran every row on one prebuilt FireSim image (its
    README's single hwdb entry); a row's buffer sizes only bound its mapping, so sizes the
    generator cannot build are simulated at the smallest buildable size holding them, with a
    line in `notes`."""
    notes = [] if notes is None else notes
    dims = {d: int(float(row[f"prob.{d}"])) for d in DIMS}
    levels = parse_mapping(row["mapping.mapping"])
    spatial = {d: f for lv in levels.values() for d, f, sp in lv if sp}
    dim = _pow2_ceil(max(spatial.get("C", 1), spatial.get("K", 1)))
    tiles = {d: 1 for d in DIMS}
    for level in (0, 1, 2):
        for d, f, _ in levels.get(level, []):
            tiles[d] *= f
    tiles = {d: min(tiles[d], dims[d]) for d in DIMS}
    l3 = [d for d, _, _ in levels.get(3, [])]
    inner_first = list(dict.fromkeys(reversed(l3)))
    inner_first += [d for d in "CRSKPQN" if d not in inner_first]
    letters = {"N": "N", "Q": "Q", "P": "P", "K": "K", "S": "S", "R": "R", "C": "C"}
    perm = "".join(letters[d] for d in reversed(inner_first))
    sp_bytes = int(float(row["arch.mem2_depth"])) * int(float(row["arch.mem2_width"])) // 8
    acc_bytes = int(float(row["arch.mem1_depth"])) * int(float(row["arch.mem1_instances"])) * 4
    is_matmul = dims["R"] == 1 and dims["S"] == 1 and dims["Q"] == 1
    stride = int(float(row["prob.Wstride"]))
    layer = "_".join(str(v) for v in (dims["R"], dims["S"], dims["P"], dims["Q"], dims["C"],
                                      dims["K"], dims["N"], stride,
                                      int(float(row["prob.Hstride"]))))
    defaults = Target()
    sizes = {}
    for what, size, row_bytes, banks in (
            ("scratchpad", sp_bytes, dim * defaults.input_bits // 8, defaults.sp_banks),
            ("accumulator", acc_bytes, dim * defaults.acc_bits // 8, defaults.acc_banks)):
        if size <= 0:
            raise SimError(f"{what} size {size} bytes is not positive")
        asked = -(-size // 1024)
        kib = buildable_kib(asked, row_bytes, dim)
        if kib * 1024 != size:
            notes.append(f"{what} of {size / 1024:g} KiB at DIM {dim} simulated as {kib} KiB, "
                         f"the smallest the generator builds (power-of-two rows per bank, a "
                         f"multiple of DIM: LocalAddr.scala, GemminiConfigs.scala)")
        sizes[what] = (kib, pick_banks(kib, row_bytes, dim, banks))
    (sp_kib, sp_banks), (acc_kib, acc_banks) = sizes["scratchpad"], sizes["accumulator"]
    try:
        Target(dim=dim, sp_kib=sp_kib, sp_banks=sp_banks, acc_kib=acc_kib,  # type: ignore[arg-type]
               acc_banks=acc_banks)  # type: ignore[arg-type]
    except TargetError as err:
        raise UnbuildableRow(str(err)) from None
    return CalCase(index, layer, "matmul" if is_matmul else "conv", dims, stride, dim,
                   sp_kib, acc_kib, sp_banks, acc_banks, tiles, perm,  # type: ignore[arg-type]
                   float(row["target.gemmini_cycle"]))


def load_cases(path: Path | str, notes: list[str] | None = None) -> list[CalCase]:
    """Every usable row of a calibration CSV; raises SimError naming the first malformed row.

    `notes` (when given) gets one line per distinct adjustment or rejection, naming its rows
    and the generator rule: a row whose design Gemmini cannot build is left out, not fatal.
    """
    path = Path(path)
    by_note: dict[str, list[int]] = {}
    try:
        with path.open(newline="") as fh:
            reader = csv.DictReader(fh)
            missing = [c for c in REQUIRED if c not in (reader.fieldnames or [])]
            if missing:
                raise SimError(f"{path}: missing column(s): {', '.join(missing)}")
            cases = []
            for i, row in enumerate(reader):
                row_notes: list[str] = []
                try:
                    cases.append(case_from_row(i, row, row_notes))
                except UnbuildableRow as err:
                    row_notes.append(f"{err}; skipped")
                except (ValueError, KeyError, SimError) as err:
                    raise SimError(f"{path}: row {i + 2}: {err}") from None
                for note in row_notes:
                    by_note.setdefault(note, []).append(i + 2)
    except OSError as err:
        raise SimError(f"{path}: {err.strerror}") from None
    if notes is not None:
        for note, lines in by_note.items():
            shown = ", ".join(map(str, lines[:5])) + (", ..." if len(lines) > 5 else "")
            notes.append(f"{path}: {len(lines)} row(s) (line {shown}): {note}")
    if not cases:
        raise SimError(f"{path}: no usable data rows")
    return cases
