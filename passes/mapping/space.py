"""The legal mappings of one layer on one target: count, enumerate, sample, encode.

An element of the space is (tiles, DRAM loop order, dataflow option). Tiles of channel
and matmul dims move in DIM blocks (a partial block only at the edge of a dim); batch,
pixel and kernel dims take any size. With `divisors_only` a tile must split its dim (in
blocks for block dims) evenly; otherwise non-divisor tiles are legal, since tiled_matmul
and tiled_conv shrink the last tile. Loops whose trip count is 1 do not reorder anything,
so a mapping is counted once, in the canonical form where they sit outermost.

DRAM loop orders keep the reduction loops (C, R, S; K of a matmul) inside the output
loops: Gemmini's library accumulates one output tile over consecutive tile calls and
stores it at the last reduction tile, so an order that interleaves another output tile
would clobber the partial sums (tiled_matmul / tiled_conv have no int32 spill path).
Such orders are illegal here; the analytical model can still price them (as spills).

Legality is capacity (any tile up to its dim; see `check`): one tile's rows (capacity.py)
within the scratchpad and the accumulator, halved when double-buffered (loop_ws and
loop_conv_ws keep two tiles in flight).
Dataflow options: WS (double-buffered) where the target has WS; OS (full capacity, the
library's software-unrolled tiled_matmul_os) for matmuls where it has OS. The library has
no OS convolution, so a conv on an OS-only target has no legal mapping.

The numeric encoding for searchers is a fixed-length vector in [0, 1)^17, the same for
every layer: 8 tile slots (choice index as (i + 0.5) / n), 8 random-key slots for the DRAM
order (moving loops sorted by key, reduction loops kept inside), and 1 dataflow-option
slot. Slots a layer lacks are ignored.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator

import numpy as np
from dlac.ir.target import Target

from . import capacity
from .batch import MappingBatch
from .errors import MappingError, NoLegalMapping
from .layer import BLOCK_DIMS_CANON, CANON, ConvLayer, Layer
from .mapping import Mapping

VECTOR_LEN = 2 * len(CANON) + 1
_FACT = np.array([math.factorial(i) for i in range(len(CANON) + 1)], dtype=np.float64)
_SLOT = {d: i for i, d in enumerate(CANON)}
#: Reduction dims (canonical). The accumulator keeps an output tile only across
#: consecutive tile calls, so every moving reduction loop must sit inside every moving
#: output loop.
REDUCTION = frozenset({"C", "R", "S"})
_IS_RED = np.array([d in REDUCTION for d in CANON])


def _divisors(n: int) -> list[int]:
    return [d for d in range(1, n + 1) if n % d == 0]


class MappingSpace:
    """Legal mappings of `layer` on `target`."""

    def __init__(self, layer: Layer, target: Target, *, divisors_only: bool = False,
                 dataflows: tuple[str, ...] = ("WS", "OS")) -> None:
        self.layer = layer
        self.target = target
        self.divisors_only = divisors_only
        self.sizes = layer.canonical()
        self.options = self._options(dataflows)
        self.choices = {s: self._choices(s) for s in CANON}
        self._check_not_empty()

    # ----------------------------------------------------------------- construction
    def _options(self, dataflows: tuple[str, ...]) -> list[tuple[str, bool]]:
        out: list[tuple[str, bool]] = []
        if "WS" in dataflows and self.target.supports_ws:
            out.append(("WS", True))
        if ("OS" in dataflows and self.target.supports_os
                and not isinstance(self.layer, ConvLayer)):
            out.append(("OS", False))
        if not out:
            why = ("Gemmini's library runs convolutions only weight-stationary"
                   if isinstance(self.layer, ConvLayer) else "no allowed dataflow")
            raise NoLegalMapping(self.layer.name, self.layer.describe(), self.target.name,
                                 f"target dataflow {self.target.dataflow} with allowed "
                                 f"{list(dataflows)}: {why}")
        return out

    def _choices(self, slot: str) -> np.ndarray:
        size = self.sizes[slot]
        dim = self.target.dim
        block = slot in BLOCK_DIMS_CANON or not isinstance(self.layer, ConvLayer)
        if block:
            nb = -(-size // dim)
            blocks = _divisors(nb) if self.divisors_only else range(1, nb + 1)
            return np.array([min(b * dim, size) for b in blocks], dtype=np.int64)
        vals = _divisors(size) if self.divisors_only else range(1, size + 1)
        return np.array(list(vals), dtype=np.int64)

    def _check_not_empty(self) -> None:
        smallest = {s: int(self.choices[s][0]) for s in CANON}
        for _, db in self.options:
            sp, acc = capacity.tile_rows(self.layer, smallest, self.target.dim)
            sp_lim, acc_lim = capacity.limits(self.target, db)
            if sp <= sp_lim and acc <= acc_lim:
                return
        db = self.options[0][1]
        sp, acc = capacity.tile_rows(self.layer, smallest, self.target.dim)
        sp_lim, acc_lim = capacity.limits(self.target, db)
        sp_kib, acc_kib = capacity.min_buffers_kib(self.layer, self.target, db)
        raise NoLegalMapping(
            self.layer.name, self.layer.describe(), self.target.name,
            f"its smallest tile needs {sp} scratchpad rows (limit {sp_lim}) and {acc} "
            f"accumulator rows (limit {acc_lim})", sp_kib, acc_kib)

    # ----------------------------------------------------------------- legality
    def legal_mask(self, tiles: np.ndarray, double_buffer: np.ndarray) -> np.ndarray:
        """Capacity check of canonical tiles (8, B) under per-mapping double buffering."""
        cols = {s: tiles[i] for i, s in enumerate(CANON)}
        sp, acc = capacity.tile_rows(self.layer, cols, self.target.dim)
        half_sp, half_acc = capacity.limits(self.target, True)
        full_sp, full_acc = capacity.limits(self.target, False)
        sp_lim = np.where(double_buffer, half_sp, full_sp)
        acc_lim = np.where(double_buffer, half_acc, full_acc)
        return (sp <= sp_lim) & (acc <= acc_lim)

    def check(self, mapping: Mapping) -> None:
        """Raise MappingError naming why `mapping` is illegal. Legality is wider than the
        sampled choice set: a conv channel tile need not be whole DIM blocks (Gemmini's
        own heuristic grows kchs one channel at a time), it just wastes array rows."""
        mapping.check_layer(self.layer)
        if (mapping.dataflow, mapping.double_buffer) not in self.options:
            raise MappingError(f"layer {self.layer.name!r}: dataflow {mapping.dataflow} "
                               f"with double_buffer={mapping.double_buffer} is not available "
                               f"on {self.target.name}")
        trips = mapping.trips(self.layer)
        moving = [d for d in mapping.perm if trips[d] > 1]
        red = [self.layer.to_canon(d) in REDUCTION for d in moving]
        if any(r and not r2 for r, r2 in zip(red, red[1:], strict=False)):
            raise MappingError(f"layer {self.layer.name!r}: DRAM order {mapping.perm} puts a "
                               "reduction loop outside an output loop; the accumulator holds "
                               "partial sums only across consecutive tile calls")
        canon = mapping.canonical_tiles(self.layer)
        if not isinstance(self.layer, ConvLayer):
            for d, t in mapping.tile.items():
                if t % self.target.dim and t != self.layer.dims[d]:
                    raise MappingError(f"layer {self.layer.name!r}: matmul tile {d}={t} is "
                                       f"neither whole DIM={self.target.dim} blocks nor the "
                                       "full dim")
        sp, acc = capacity.tile_rows(self.layer, canon, self.target.dim)
        sp_lim, acc_lim = capacity.limits(self.target, mapping.double_buffer)
        if sp > sp_lim or acc > acc_lim:
            raise MappingError(f"layer {self.layer.name!r}: mapping {mapping} needs {sp} "
                               f"scratchpad rows (limit {sp_lim}) and {acc} accumulator rows "
                               f"(limit {acc_lim})")

    def is_legal(self, mapping: Mapping) -> bool:
        try:
            self.check(mapping)
        except MappingError:
            return False
        return True

    # ----------------------------------------------------------------- counting
    def count(self) -> int:
        """Number of distinct legal mappings (canonical DRAM orders)."""
        return sum(self._count_option(db) for _, db in self.options)

    def _column_slot(self) -> str | None:
        """The dim on the array columns (an output dim), whose rows grow linearly with
        its blocks."""
        if isinstance(self.layer, ConvLayer) and self.layer.depthwise:
            return None
        return "K"

    def _count_option(self, db: bool) -> int:
        sp_lim, acc_lim = capacity.limits(self.target, db)
        ycol = self._column_slot()
        rest = [s for s in CANON if s != ycol]
        outer = max(rest, key=lambda s: len(self.choices[s]))
        inner = [s for s in rest if s != outer]
        grids = np.meshgrid(*(self.choices[s] for s in inner), indexing="ij")
        cols = {s: g.ravel() for s, g in zip(inner, grids, strict=True)}
        mo_inner = sum((cols[s] < self.sizes[s]).astype(np.int64) for s in inner
                       if s not in REDUCTION)
        mr_inner = sum((cols[s] < self.sizes[s]).astype(np.int64) for s in inner
                       if s in REDUCTION)
        total = 0
        for t_outer in self.choices[outer]:
            cols[outer] = np.full_like(mo_inner, t_outer)
            moves = int(t_outer < self.sizes[outer])
            m_o = mo_inner + (0 if outer in REDUCTION else moves)
            m_r = mr_inner + (moves if outer in REDUCTION else 0)
            if ycol is None:
                sp, acc = capacity.tile_rows(self.layer, cols, self.target.dim)
                ok = (sp <= sp_lim) & (acc <= acc_lim)
                total += int((_FACT[m_o] * _FACT[m_r])[ok].sum())
                continue
            cols[ycol] = np.zeros_like(mo_inner)
            sp0, _ = capacity.tile_rows(self.layer, cols, self.target.dim)
            cols[ycol] = np.ones_like(mo_inner)
            sp1, acc1 = capacity.tile_rows(self.layer, cols, self.target.dim)
            b1 = np.maximum(sp1 - sp0, 1)
            colb_max = np.minimum((sp_lim - sp0) // b1, acc_lim // np.maximum(acc1, 1))
            colb_max = np.where(sp0 > sp_lim, -1, colb_max)
            yblocks = -(-self.choices[ycol] // self.target.dim)
            n_legal = np.searchsorted(yblocks, colb_max, side="right")
            full = (yblocks[-1] <= colb_max).astype(np.int64)
            weight = ((n_legal - full) * _FACT[m_o + 1] + full * _FACT[m_o]) * _FACT[m_r]
            total += int(weight.sum())
        return total

    # ----------------------------------------------------------------- enumeration
    def enumerate(self, limit: int = 200_000) -> Iterator[Mapping]:
        """Every legal mapping, canonical form; refuses spaces larger than `limit`."""
        n = self.count()
        if n > limit:
            raise MappingError(f"layer {self.layer.name!r}: {n} mappings exceed the "
                               f"enumeration limit {limit}")
        layer = self.layer
        names = layer.dim_names
        slots = [layer.to_canon(d) for d in names]
        for df, db in self.options:
            sp_lim, acc_lim = capacity.limits(self.target, db)
            for combo in itertools.product(*(self.choices[s] for s in slots)):
                canon = dict.fromkeys(CANON, 1)
                canon.update({s: int(t) for s, t in zip(slots, combo, strict=True)})
                sp, acc = capacity.tile_rows(layer, canon, self.target.dim)
                if sp > sp_lim or acc > acc_lim:
                    continue
                tiles = {d: canon[s] for d, s in zip(names, slots, strict=True)}
                idle = [d for d in layer.default_perm
                        if tiles[d] >= layer.dims[d]]
                active = [d for d in names if tiles[d] < layer.dims[d]]
                outs = [d for d in active if layer.to_canon(d) not in REDUCTION]
                reds = [d for d in active if layer.to_canon(d) in REDUCTION]
                for o in itertools.permutations(outs):
                    for r in itertools.permutations(reds):
                        yield Mapping.create(tiles, "".join(idle + list(o) + list(r)), df, db)

    # ----------------------------------------------------------------- sampling
    def _idle_keys(self) -> np.ndarray:
        """Sort keys that put idle loops outermost: slots the layer lacks first (as
        MappingBatch.from_mappings does), then its idle dims in its default order. Moving
        loops get keys in [0, 1) (outputs) or [1, 2) (reductions, kept innermost)."""
        keys = np.arange(len(CANON)) - 100.0
        default = [self.layer.to_canon(d) for d in self.layer.default_perm]
        for pos, s in enumerate(default):
            keys[_SLOT[s]] = -1.0 - len(default) + pos
        return keys

    def _batch(self, tiles: np.ndarray, keys: np.ndarray, opt: np.ndarray) -> MappingBatch:
        sizes = np.array([self.sizes[s] for s in CANON], dtype=np.int64)
        keys = np.where(tiles < sizes[:, None], keys + _IS_RED[:, None],
                        self._idle_keys()[:, None])
        order = np.argsort(keys, axis=0, kind="stable")
        rank = np.empty_like(order)
        np.put_along_axis(rank, order, np.arange(len(CANON))[:, None], axis=0)
        os_flags = np.array([df == "OS" for df, _ in self.options])[opt]
        db_flags = np.array([db for _, db in self.options])[opt]
        return MappingBatch(tiles, rank, os_flags, db_flags)

    def sample(self, n: int, seed: int = 0, max_draws: int = 200_000_000) -> MappingBatch:
        """n mappings drawn uniformly (with replacement) from the distinct legal ones.

        Rejection from the box of tile choices, accepting tiles with m_o moving output
        loops and m_r moving reduction loops with probability m_o! m_r! / max, then
        drawing one of their m_o! m_r! orders, so every (tiles, order) pair is equally
        likely."""
        rng = np.random.default_rng(seed)
        n_choice = np.array([len(self.choices[s]) for s in CANON])
        live = [i for i in range(len(CANON)) if n_choice[i] > 1]
        red_live = _IS_RED[live]
        w_max = _FACT[int((~red_live).sum())] * _FACT[int(red_live.sum())]
        sizes = np.array([self.sizes[s] for s in CANON], dtype=np.int64)
        db_of = np.array([d for _, d in self.options])
        parts: list[MappingBatch] = []
        got = drawn = 0
        chunk = max(4 * n, 1 << 15)
        while got < n:
            if drawn >= max_draws:
                raise MappingError(f"layer {self.layer.name!r}: fewer than {n} legal "
                                   f"mappings found in {drawn} draws")
            tiles = np.empty((len(CANON), chunk), dtype=np.int64)
            for i, s in enumerate(CANON):
                ch = self.choices[s]
                tiles[i] = ch[rng.integers(0, len(ch), chunk)] if i in live else ch[0]
            opt = rng.integers(0, len(self.options), chunk)
            keep = np.flatnonzero(self.legal_mask(tiles, db_of[opt]))
            moving = tiles[live][:, keep] < sizes[live][:, None]
            weight = _FACT[moving[~red_live].sum(axis=0)] * _FACT[moving[red_live].sum(axis=0)]
            keep = keep[rng.random(len(keep)) * w_max < weight]
            keys = rng.random((len(CANON), len(keep)))
            parts.append(self._batch(tiles[:, keep], keys, opt[keep]))
            got += len(keep)
            drawn += chunk
        return MappingBatch.concat(parts).take(np.arange(n))

    def sobol(self, n: int, seed: int = 0, max_points: int = 1 << 24) -> MappingBatch:
        """n legal mappings decoded from a scrambled Sobol sequence over the encoding
        cube (illegal points skipped), deterministic for a seed."""
        from scipy.stats import qmc

        engine = qmc.Sobol(d=VECTOR_LEN, scramble=True, seed=seed)
        parts: list[MappingBatch] = []
        got = drawn = 0
        m = max(10, int(math.ceil(math.log2(max(2 * n, 2)))))
        while got < n:
            if drawn >= max_points:
                raise MappingError(f"layer {self.layer.name!r}: fewer than {n} legal "
                                   f"mappings among {drawn} Sobol points")
            pts = engine.random_base2(m) if drawn == 0 else engine.random(1 << m)
            batch = self.decode_batch(pts)
            keep = self.legal_mask(batch.tiles, batch.double_buffer)
            parts.append(batch.take(np.flatnonzero(keep)))
            got += int(keep.sum())
            drawn += len(pts)
        return MappingBatch.concat(parts).take(np.arange(n))

    # ----------------------------------------------------------------- encoding
    def encode(self, mapping: Mapping) -> np.ndarray:
        vec = np.full(VECTOR_LEN, 0.5)
        canon = mapping.canonical_tiles(self.layer)
        for i, s in enumerate(CANON):
            ch = self.choices[s]
            hit = np.flatnonzero(ch == canon[s])
            if hit.size == 0:
                raise MappingError(f"tile {canon[s]} is not a choice of dim {s}")
            vec[i] = (hit[0] + 0.5) / len(ch)
        n = len(mapping.perm)
        for pos, d in enumerate(mapping.perm):
            vec[len(CANON) + _SLOT[self.layer.to_canon(d)]] = (pos + 0.5) / n
        key = (mapping.dataflow, mapping.double_buffer)
        if key not in self.options:
            raise MappingError(f"dataflow option {key} is not in this space")
        vec[-1] = (self.options.index(key) + 0.5) / len(self.options)
        return vec

    def decode_batch(self, vecs: np.ndarray) -> MappingBatch:
        """Mappings (canonical form, not necessarily legal) of points of [0, 1)^17."""
        vecs = np.clip(np.atleast_2d(vecs), 0.0, np.nextafter(1.0, 0.0))
        tiles = np.empty((len(CANON), len(vecs)), dtype=np.int64)
        for i, s in enumerate(CANON):
            ch = self.choices[s]
            tiles[i] = ch[(vecs[:, i] * len(ch)).astype(np.int64)]
        opt = (vecs[:, -1] * len(self.options)).astype(np.int64)
        return self._batch(tiles, vecs[:, len(CANON):2 * len(CANON)].T.copy(), opt)

    def decode(self, vec: np.ndarray) -> Mapping:
        return self.decode_batch(vec).mapping(self.layer, 0)
