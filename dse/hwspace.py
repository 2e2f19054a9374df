"""The Gemmini hardware design space: ranges, presets, encoding, feasibility and budgets.

A design point is (array DIM, scratchpad KiB, accumulator KiB, dataflow, DMA bus bits).
Bank counts are not searched: for each capacity the space picks the legal bank count
closest to Gemmini's default (4 scratchpad banks, 2 accumulator banks), since the generator
requires power-of-two bank rows that are a multiple of DIM in both buffers
(`dlac.ir.target.legal_banks`), and keeps only pairs whose accumulator fits the scratchpad's
tiles (`Target.validate`). Every other Target field (timing knobs) comes from a base Target.

Feasibility has two parts, both checked before anything is evaluated: the area budget
(`dlac.ir.hwcost.area_mm2`, default = Gemmini's default config) and the workload (every
layer must have at least one legal mapping: its smallest tile fits the buffers, and a
convolution needs a weight-stationary array). The whole grid is enumerated once, as numpy
arrays, so the searchers only ever see feasible points, and of designs that differ only in
their bus width only the widest (`HwGrid.widest_bus`).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from dlac.ir import hwcost
from dlac.ir.hwcost import area_mm2
from dlac.ir.target import Target, TargetError, pick_banks
from dlac.passes.mapping import capacity
from dlac.passes.mapping.layer import BLOCK_DIMS_CANON, CANON, ConvLayer, Layer

from .errors import DseError

DATAFLOWS = ("WS", "OS", "BOTH")


def default_area_mm2() -> float:
    """The default area budget: Gemmini's default configuration."""
    return area_mm2(Target())


@dataclass(frozen=True)
class HwSpace:
    """Ranges of the hardware parameters plus the budgets that bound them."""

    dims: tuple[int, ...] = (4, 8, 16, 32, 64)
    sp_kib: tuple[int, int, int] = (8, 512, 8)
    acc_kib: tuple[int, int, int] = (8, 256, 8)
    dataflows: tuple[str, ...] = DATAFLOWS
    bus_bits: tuple[int, ...] = (64, 128, 256)
    area_budget_mm2: float = field(default_factory=default_area_mm2)
    base: Target = field(default_factory=Target)
    fixed: bool = False
    """Software-only DSE: the grid is `base` alone (its own bank counts), see `fixed_space`."""

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Reject empty or inverted ranges and non-positive budgets with one line."""
        if not self.dims:
            raise DseError("hardware space: the list of array dims is empty")
        for d in self.dims:
            if d < 2 or d & (d - 1):
                raise DseError(f"hardware space: array dim {d} is not a power of two >= 2")
        for name in ("sp_kib", "acc_kib"):
            lo, hi, step = getattr(self, name)
            if step <= 0:
                raise DseError(f"hardware space: {name} step must be positive, got {step}")
            if lo <= 0 or hi <= 0:
                raise DseError(f"hardware space: {name} range [{lo}, {hi}] must be positive")
            if lo > hi:
                raise DseError(f"hardware space: {name} range [{lo}, {hi}] is inverted")
        if not self.dataflows or any(df not in DATAFLOWS for df in self.dataflows):
            raise DseError(f"hardware space: dataflows must be a non-empty subset of "
                           f"{list(DATAFLOWS)}, got {list(self.dataflows)}")
        if not self.bus_bits or any(b <= 0 or b % 8 for b in self.bus_bits):
            raise DseError(f"hardware space: DMA bus widths must be positive multiples of 8, "
                           f"got {list(self.bus_bits)}")
        if not self.area_budget_mm2 > 0:
            raise DseError(f"area budget must be positive, got {self.area_budget_mm2} mm^2")

    # ----------------------------------------------------------------- description
    def to_dict(self) -> dict[str, Any]:
        out = {"dims": list(self.dims), "sp_kib": list(self.sp_kib),
               "acc_kib": list(self.acc_kib), "dataflows": list(self.dataflows),
               "bus_bits": list(self.bus_bits), "area_budget_mm2": self.area_budget_mm2}
        if self.fixed:
            out["fixed"] = self.base.to_dict()
        return out

    def with_area_budget(self, mm2: float | None) -> HwSpace:
        if mm2 is None:
            return self
        return dataclasses.replace(self, area_budget_mm2=float(mm2))

    # ----------------------------------------------------------------- grid
    def grid(self) -> HwGrid:
        """Every legal design point of the ranges (bank counts chosen), with its area."""
        if self.fixed:
            b = self.base
            return HwGrid(self, np.array([[0, b.sp_kib, b.sp_banks, b.acc_kib, b.acc_banks,
                                           0, 0]], dtype=np.int64))
        rows: list[tuple[int, int, int, int, int, int, int]] = []
        sp_values = range(self.sp_kib[0], self.sp_kib[1] + 1, self.sp_kib[2])
        acc_values = range(self.acc_kib[0], self.acc_kib[1] + 1, self.acc_kib[2])
        for di, dim in enumerate(self.dims):
            row = dim * self.base.input_bits // 8
            acc_row = dim * self.base.acc_bits // 8
            sp_ok = [(kib, pick_banks(kib, row, dim, Target().sp_banks)) for kib in sp_values]
            acc_ok = [(kib, pick_banks(kib, acc_row, dim, Target().acc_banks))
                      for kib in acc_values]
            for sp, spb in sp_ok:
                if spb is None:
                    continue
                sp_tiles = sp * 1024 // (row * dim)
                for acc, accb in acc_ok:
                    # GemminiConfigs.scala: the accumulator's tiles fit the scratchpad's - 2.
                    if accb is None or acc * 1024 // (acc_row * dim) > sp_tiles - 2:
                        continue
                    for fi in range(len(self.dataflows)):
                        for bi in range(len(self.bus_bits)):
                            rows.append((di, sp, spb, acc, accb, fi, bi))
        if not rows:
            raise DseError("hardware space holds no legal Gemmini configuration (no bank "
                           "split of any scratchpad/accumulator size fits the array dims)")
        return HwGrid(self, np.array(rows, dtype=np.int64))

    def target(self, dim: int, sp_kib: int, sp_banks: int, acc_kib: int, acc_banks: int,
               dataflow: str, bus_bits: int) -> Target:
        try:
            return self.base.replace(dim=dim, sp_kib=sp_kib, sp_banks=sp_banks,
                                     acc_kib=acc_kib, acc_banks=acc_banks, dataflow=dataflow,
                                     dma_bus_bits=bus_bits)
        except TargetError as err:
            raise DseError(f"hardware space: {err}") from None


@dataclass(frozen=True)
class HwGrid:
    """The enumerated grid: one row per point (dim index, sp KiB, sp banks, acc KiB,
    acc banks, dataflow index, bus index)."""

    space: HwSpace
    rows: np.ndarray

    def __len__(self) -> int:
        return len(self.rows)

    @property
    def dims(self) -> np.ndarray:
        return np.array(self.space.dims)[self.rows[:, 0]]

    @property
    def bus_bits(self) -> np.ndarray:
        return np.array(self.space.bus_bits)[self.rows[:, 6]]

    def area(self) -> np.ndarray:
        """Area of every point: dlac.ir.hwcost.area_mm2, vectorised over the grid."""
        d = self.dims.astype(np.float64)
        return (hwcost.FIXED_AREA_MM2 + hwcost.PE_AREA_MM2 * d * d
                + hwcost.SPAD_AREA_MM2_PER_KIB * self.rows[:, 1]
                + hwcost.ACC_AREA_MM2_PER_KIB * self.rows[:, 3])

    def target(self, i: int) -> Target:
        di, sp, spb, acc, accb, fi, bi = (int(v) for v in self.rows[i])
        s = self.space
        return s.target(s.dims[di], sp, spb, acc, accb, s.dataflows[fi], s.bus_bits[bi])

    def widest_bus(self, index: np.ndarray) -> np.ndarray:
        """The points of `index` that no other point of `index` matches in everything but a
        wider DMA bus.

        The bus width enters only the DMA byte rate (the analytical model's MemoryPath and
        the simulator's DMA occupancy), never the per-access energies, so of two designs
        that differ only there the wider one is never slower and costs no more energy.
        Searching the narrower ones would spend evaluations on designs that cannot win:
        with the bus width free to choose, a searcher had to learn that it matters, and
        daBO's linear surrogate, seeing its effect (a few percent on U-Net) drowned by
        larger ones, often settled on a 64- or 128-bit bus (docs/codesign.md)."""
        index = np.asarray(index, dtype=np.int64)
        width = self.bus_bits[index]
        designs, group = np.unique(self.rows[index, :6], axis=0, return_inverse=True)
        group = group.reshape(-1)
        widest = np.zeros(len(designs), dtype=width.dtype)
        np.maximum.at(widest, group, width)
        return index[width == widest[group]]

    def encode(self, index: np.ndarray) -> np.ndarray:
        """Raw parameters of points, normalised to [0, 1] (vanilla BO's input space)."""
        s = self.space
        r = self.rows[np.asarray(index)]

        def unit(v: np.ndarray, lo: float, hi: float) -> np.ndarray:
            return (v - lo) / (hi - lo) if hi > lo else np.zeros(len(v))

        return np.stack([unit(r[:, 0], 0, len(s.dims) - 1),
                         unit(r[:, 1], s.sp_kib[0], s.sp_kib[1]),
                         unit(r[:, 3], s.acc_kib[0], s.acc_kib[1]),
                         unit(r[:, 5], 0, len(s.dataflows) - 1),
                         unit(r[:, 6], 0, len(s.bus_bits) - 1)], axis=1).astype(np.float64)

    def feasible(self, layers: Sequence[Layer]) -> np.ndarray:
        """Indices of points within the area budget on which every layer has a legal
        mapping. Raises DseError naming the budget or layer that rules everything out."""
        s = self.space
        area = self.area()
        in_budget = area <= s.area_budget_mm2 * (1 + 1e-12)
        if not in_budget.any():
            raise DseError(f"area budget {s.area_budget_mm2:g} mm^2 is below the smallest "
                           f"design in the hardware space ({area.min():.4g} mm^2)")
        ok = in_budget.copy()
        dims = self.dims
        sp_rows = self.rows[:, 1] * 1024 // dims
        acc_rows = self.rows[:, 3] * 1024 // (dims * s.base.acc_bits // 8)
        df = np.array(s.dataflows)[self.rows[:, 5]]
        has_ws = df != "OS"
        has_os = df != "WS"
        for layer in layers:
            fits = np.zeros(len(self), dtype=bool)
            for dim in s.dims:
                sp_need, acc_need = smallest_tile_rows(layer, dim)
                at = dims == dim
                ws_fit = has_ws & (sp_need <= sp_rows // 2) & (acc_need <= acc_rows // 2)
                os_fit = (has_os & (sp_need <= sp_rows) & (acc_need <= acc_rows)
                          & (not isinstance(layer, ConvLayer)))
                fits |= at & (ws_fit | os_fit)
            if not (ok & fits).any():
                raise DseError(f"no design within the area budget ({s.area_budget_mm2:g} mm^2) "
                               f"has a legal mapping for layer {layer.name!r} "
                               f"({layer.describe()})")
            ok &= fits
        return np.flatnonzero(ok)


def smallest_tile_rows(layer: Layer, dim: int) -> tuple[int, int]:
    """(scratchpad rows, accumulator rows) of the layer's smallest tile on a DIM array:
    MappingSpace's first tile choice of every dim (one DIM block of block dims)."""
    sizes = layer.canonical()
    block_all = not isinstance(layer, ConvLayer)
    smallest = {s: (min(dim, sizes[s]) if (block_all or s in BLOCK_DIMS_CANON) else 1)
                for s in CANON}
    sp, acc = capacity.tile_rows(layer, smallest, dim)
    return int(sp), int(acc)


def fixed_space(target: Target) -> HwSpace:
    """The space of `target` alone (software-only DSE: only the mappings are searched);
    its area is the budget."""
    return HwSpace(dims=(target.dim,), sp_kib=(target.sp_kib, target.sp_kib, 8),
                   acc_kib=(target.acc_kib, target.acc_kib, 8), dataflows=(target.dataflow,),
                   bus_bits=(target.dma_bus_bits,), area_budget_mm2=area_mm2(target),
                   base=target, fixed=True)


# --------------------------------------------------------------------- presets and files
def preset(name: str) -> HwSpace:
    """`edge`: DIM 4-64, buffers up to 512/256 KiB, default-area budget. `cloud`: DIM
    16-64 with 64-512 KiB scratchpads, budget = a 32x32 array with full buffers."""
    if name == "edge":
        return HwSpace()
    if name == "cloud":
        budget = area_mm2(Target(dim=32, sp_kib=512, acc_kib=256))
        return HwSpace(dims=(16, 32, 64), sp_kib=(64, 512, 8), acc_kib=(32, 256, 8),
                       area_budget_mm2=budget)
    raise DseError(f"unknown hardware-space preset {name!r} (expected edge, cloud or a "
                   "JSON file)")


_FILE_KEYS = {"dims", "sp_kib", "acc_kib", "dataflows", "bus_bits", "area_budget_mm2"}


def load_space(spec: str) -> HwSpace:
    """A preset name or a JSON file of HwSpace fields (missing fields from `edge`);
    ranges are [lo, hi] or [lo, hi, step] (step 8 KiB by default)."""
    if spec in ("edge", "cloud"):
        return preset(spec)
    path = Path(spec)
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise DseError(f"{spec}: no such hardware-space file (or preset: edge, cloud)") from None
    except OSError as err:
        raise DseError(f"{spec}: {err.strerror}") from None
    except json.JSONDecodeError as err:
        raise DseError(f"{spec}:{err.lineno}: invalid JSON: {err.msg}") from None
    if not isinstance(data, dict):
        raise DseError(f"{spec}: a hardware space must be a JSON object")
    unknown = sorted(set(data) - _FILE_KEYS)
    if unknown:
        raise DseError(f"{spec}: unknown hardware-space key(s): {', '.join(unknown)}")
    kw: dict[str, Any] = {}
    try:
        if "dims" in data:
            kw["dims"] = tuple(int(v) for v in data["dims"])
        for key in ("sp_kib", "acc_kib"):
            if key in data:
                vals = [int(v) for v in data[key]]
                if len(vals) not in (2, 3):
                    raise DseError(f"{spec}: {key} must be [lo, hi] or [lo, hi, step]")
                kw[key] = (vals[0], vals[1], vals[2] if len(vals) == 3 else 8)
        if "dataflows" in data:
            kw["dataflows"] = tuple(str(v).upper() for v in data["dataflows"])
        if "bus_bits" in data:
            kw["bus_bits"] = tuple(int(v) for v in data["bus_bits"])
        if "area_budget_mm2" in data:
            kw["area_budget_mm2"] = float(data["area_budget_mm2"])
    except (TypeError, ValueError) as err:
        raise DseError(f"{spec}: bad hardware-space value: {err}") from None
    try:
        return HwSpace(**kw)
    except DseError as err:
        raise DseError(f"{spec}: {err}") from None
