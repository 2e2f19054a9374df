"""Starlight's input: one (hardware, layer, mapping) point as a vector of numbers.

Section 5.2.1 of the dissertation feeds the array size, the buffer sizes, the tile factors
and one loop position per DRAM loop to the model, min-max scaled. Here every size is
log2-scaled first (EDP is a product of sizes, so its log is near-linear in their logs) and
the columns are standardised with the statistics of Starlight-Low's training set
(`Standardizer`), so one scaling serves the pre-training and every transfer.

Beyond the raw parameters (which `decode` inverts exactly), the vector carries quantities
that make the EDP trend easier to learn from few samples: each dim's DRAM trip count and
spatial factor (the factor of every level of the nest), how full one tile makes the
scratchpad and the accumulator, how much of the array the channel tiles use, and the
compute floor. `analytical=True` appends the analytical model's own log cycles and log
energy, the low-fidelity estimate that the high-fidelity model then only has to correct.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from dlac.ir.target import Target
from dlac.passes.mapping import CANON, ConvLayer, Layer, MappingBatch, capacity

from ..errors import DseError
from ..evaluators import AnalyticalEvaluator, LayerCost

HW_FEATURES = ("log2_dim", "log2_sp_kib", "log2_acc_kib", "has_ws", "has_os",
               "log2_bus_bits")
LAYER_FEATURES = (*(f"log2_size_{d}" for d in CANON), "log2_stride", "is_conv")
MAPPING_FEATURES = (*(f"log2_tile_{d}" for d in CANON), *(f"dram_pos_{d}" for d in CANON),
                    "os", "double_buffer")
DERIVED_FEATURES = (*(f"log2_trips_{d}" for d in CANON), "log2_spatial_rows",
                    "log2_spatial_cols", "log2_sp_fill", "log2_acc_fill", "log2_row_use",
                    "log2_col_use", "log2_macs", "log2_compute_floor")
ANALYTICAL_FEATURES = ("analytical_log2_cycles", "analytical_log2_energy")

#: Columns `decode` reads back (the raw parameters, in this order at the front).
RAW_FEATURES = HW_FEATURES + LAYER_FEATURES + MAPPING_FEATURES


def features(analytical: bool = True) -> tuple[str, ...]:
    """Column names of `encode`'s output."""
    return RAW_FEATURES + DERIVED_FEATURES + (ANALYTICAL_FEATURES if analytical else ())


def width(analytical: bool = True) -> int:
    return len(features(analytical))


def _log2(a: np.ndarray | float) -> np.ndarray:
    return np.log2(np.maximum(np.asarray(a, dtype=np.float64), 1e-30))


def encode(target: Target, layer: Layer, batch: MappingBatch, analytical: bool = True,
           cost: LayerCost | None = None) -> np.ndarray:
    """(len(batch), width) float64 log-scaled features of every mapping of `batch`;
    `cost`: the batch's analytical cost when the caller already has it."""
    b = len(batch)
    sizes = layer.canonical()
    size = np.array([sizes[d] for d in CANON], dtype=np.float64)
    tiles = batch.tiles.astype(np.float64)
    dim = target.dim
    stride = layer.stride if isinstance(layer, ConvLayer) else 1

    def full(v: float) -> np.ndarray:
        return np.full(b, float(v))

    hw = [full(np.log2(dim)), full(np.log2(target.sp_kib)), full(np.log2(target.acc_kib)),
          full(target.supports_ws), full(target.supports_os), full(np.log2(target.dma_bus_bits))]
    shape = [full(v) for v in _log2(size)] + [full(np.log2(stride)),
                                              full(isinstance(layer, ConvLayer))]
    mapping = (list(_log2(tiles)) + list(batch.rank.astype(np.float64))
               + [batch.os.astype(np.float64), batch.double_buffer.astype(np.float64)])
    cols = {s: batch.tiles[i] for i, s in enumerate(CANON)}
    sp_rows, acc_rows = capacity.tile_rows(layer, cols, dim)
    sp_lim = np.where(batch.double_buffer, target.sp_rows // 2, target.sp_rows)
    acc_lim = np.where(batch.double_buffer, target.acc_rows // 2, target.acc_rows)
    c_t, k_t = tiles[CANON.index("C")], tiles[CANON.index("K")]
    if isinstance(layer, ConvLayer) and layer.depthwise:
        c_t, k_t = np.ones(b), tiles[CANON.index("G")]
    rows, cols_used = np.minimum(c_t, dim), np.minimum(k_t, dim)
    row_use = c_t / (np.ceil(c_t / dim) * dim)
    col_use = k_t / (np.ceil(k_t / dim) * dim)
    macs = float(layer.macs)
    derived = (list(_log2(np.ceil(size[:, None] / tiles)))
               + [_log2(rows), _log2(cols_used), _log2(sp_rows / sp_lim),
                  _log2(acc_rows / acc_lim), _log2(row_use), _log2(col_use),
                  full(np.log2(macs)), _log2(macs / (dim * dim * row_use * col_use))])
    out = hw + shape + mapping + derived
    if analytical:
        cost = cost or AnalyticalEvaluator().evaluate(layer, target, batch)
        out += [_log2(cost.cycles), _log2(cost.energy_pj)]
    x = np.stack([np.broadcast_to(c, (b,)) for c in out], axis=1)
    if not np.all(np.isfinite(x)):
        raise DseError(f"layer {layer.name!r} on {target.name}: the analytical model gave "
                       "a non-finite cost; Starlight cannot encode the point")
    return x


@dataclass(frozen=True)
class Decoded:
    """The raw parameters of encoded points (arrays over the batch)."""

    dim: np.ndarray
    sp_kib: np.ndarray
    acc_kib: np.ndarray
    has_ws: np.ndarray
    has_os: np.ndarray
    bus_bits: np.ndarray
    sizes: np.ndarray
    stride: np.ndarray
    is_conv: np.ndarray
    batch: MappingBatch


def decode(x: np.ndarray) -> Decoded:
    """Invert the raw columns of `encode` (log2 sizes rounded back to integers)."""
    x = np.atleast_2d(x)
    col = {n: x[:, i] for i, n in enumerate(RAW_FEATURES)}

    def ints(name: str) -> np.ndarray:
        return np.rint(np.exp2(col[name])).astype(np.int64)

    def flag(name: str) -> np.ndarray:
        return col[name] > 0.5

    tiles = np.stack([ints(f"log2_tile_{d}") for d in CANON])
    rank = np.stack([np.rint(col[f"dram_pos_{d}"]).astype(np.int64) for d in CANON])
    return Decoded(ints("log2_dim"), ints("log2_sp_kib"), ints("log2_acc_kib"),
                   flag("has_ws"), flag("has_os"), ints("log2_bus_bits"),
                   np.stack([ints(f"log2_size_{d}") for d in CANON]), ints("log2_stride"),
                   flag("is_conv"),
                   MappingBatch(tiles, rank, flag("os"), flag("double_buffer")))


@dataclass(frozen=True)
class Standardizer:
    """Per-column affine map to zero mean, unit spread (constant columns pass unscaled)."""

    mean: np.ndarray
    std: np.ndarray

    @classmethod
    def fit(cls, x: np.ndarray) -> Standardizer:
        std = x.std(axis=0)
        return cls(x.mean(axis=0), np.where(std > 1e-9, std, 1.0))

    def apply(self, x: np.ndarray) -> np.ndarray:
        if x.ndim != 2 or x.shape[1] != len(self.mean):
            raise DseError(f"Starlight input has {x.shape[-1]} columns, its encoding "
                           f"{len(self.mean)}")
        return (x - self.mean) / self.std

    def invert(self, z: np.ndarray) -> np.ndarray:
        return z * self.std + self.mean
