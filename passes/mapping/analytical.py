"""A fast analytical cost model of Gemmini mappings, vectorised over a batch.

It models what dlac's Gemmini library executes for a mapping: the DRAM loop nest over
tiles (`perm`), one loop_ws / loop_conv_ws per tile (or the software-unrolled OS matmul),
with the simulator's timing rules and knobs (`ModelParams` mirrors dlac.sim.timing), so
that it ranks mappings the way the simulator times them, about a million times faster.

Traffic. By default every tile call loads its A and B (the library's behaviour; a matmul
operand with at most two tiles is pinned in WS), the bias once per output tile, and stores
the output once as int8. With `reuse_unchanged_operands` an operand is reloaded only when
its tile changed since the previous call (Timeloop's rule: fetched once per iteration of
the DRAM loops down to the innermost loop relevant to it). Orders that put a moving
reduction loop outside a moving output loop (illegal in MappingSpace) cost int32 partial
sums: each revisit of an output tile stores and reloads them.

Per tile. DMA time per mvin/mvout as the loop FSMs issue them: bytes against the bus
(DRAM bandwidth for the share of the layer that misses the LLC), 64-byte TileLink requests
against the in-flight window (each held one memory latency), a fixed cost per
instruction. Compute: one preload+compute pair per (weight block, pixel chunk), at least
DIM cycles each (the FSMs pass a DIM-row garbage BD operand; results reach the accumulator
in issue order, so consecutive weight blocks into the same rows pipeline), and scratchpad
bank conflicts between A and B; summed exactly over full and edge tiles of N, Q, P. Issue:
loop-FSM and CPU (host) cycles.

Sequence. Conv tiles double-buffer pairwise (a tile's loads overlap the previous tile's
compute; the edge tile of the innermost moving loop is handled explicitly); at most two
tile loops are in flight, so a tile's whole latency is spread over two slots. loop_ws
frees rows block by block, so matmul loads and computes only compete as totals. The OS
path reuses the same rows every tile: loads overlap computes only while a tile has one
output block. Plus the library call, first load, last store and fence.

Energy is access counts times per-access energies (energy.py): MACs, register reads and
weight fills, accumulator updates/reads/bias writes, scratchpad reads/writes, DRAM
elements. Non-divisor tiles enter through exact per-dim means of block and row-chunk
counts. Everything is float32 numpy over struct-of-arrays chunks of 8192 mappings.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
from dlac.ir.hwcost import access_energies
from dlac.ir.target import Target

from .batch import MappingBatch
from .layer import CANON, ConvLayer, Layer

_I = {d: i for i, d in enumerate(CANON)}
_REL_W = np.array([d in "GKCRS" for d in CANON])
_REL_I = np.array([d in "NGCPQRS" for d in CANON])
_REL_O = np.array([d in "NGKPQ" for d in CANON])
_IS_RED = np.array([d in "CRS" for d in CANON])
_CHUNK = 1 << 13


@dataclass(frozen=True)
class ModelParams:
    """Timing constants, named and defaulted as the simulator's (dlac.sim.timing) knobs, so
    the search ranks what the calibrated simulator measures (a test keeps the defaults
    equal); `from_timing` copies another fitted set."""

    host_issue_cycles: float = 4.0
    host_tile_cycles: float = 106.75
    host_call_cycles: float = 1902.0
    host_conv_tile_cycles: float = 213.5
    """tiled_conv's per-tile and per-call CPU costs (its own, larger than tiled_matmul's)."""
    host_conv_call_cycles: float = 7608.0
    loop_fsm_cycles: float = 1.0
    dma_req_cycles: float = 1.0
    mvin_fixed_cycles: float = 0.3
    mvout_fixed_cycles: float = 2.0
    compute_fixed_cycles: float = 0.0
    fill_cycles: float = 3.0
    os_drain_cycles: float = 4.0
    fence_cycles: float = 20.0
    min_compute_rows: float = 4.0
    bank_conflict_cycles: float = 1.0
    """Extra cycles per row when A and B come from the same scratchpad bank."""
    garbage_bd_rows: bool = True
    """The loop FSMs pass a DIM-row garbage BD operand with every compute, so a compute
    of a partial pixel chunk still takes DIM cycles (as the simulator charges it)."""
    llc_kib: float = 4096.0
    """Last-level cache between the DMA and DRAM (FireSim's SoC has 4 MB)."""
    llc_latency: float = 17.7
    l2_kib: float = 512.0
    """The SoC's L2 in front of the LLC: the share of a call's working set beyond it misses
    on first touch (the simulator also models its sets; this model only that share)."""
    l2_miss_cycles: float = 200.0
    tlb_miss_cycles: float = 1.0
    """DMA stall per TLB miss (the flat depthwise model counts pages; the tile model
    does not yet)."""
    reuse_unchanged_operands: bool = False
    """False: every tile call loads its A and B (the library's behaviour, except the
    matmul operand pinning when one operand has <= 2 tiles). True: Timeloop's rule, an
    operand is reloaded only when its tile changed since the previous call."""

    @classmethod
    def from_timing(cls, timing: object, **changes: object) -> ModelParams:
        """Copy the same-named knobs of a simulator TimingParams (or any object)."""
        values = {f.name: getattr(timing, f.name) for f in fields(cls)
                  if hasattr(timing, f.name)}
        values.update(changes)
        return cls(**values)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Cost:
    """Per-mapping results (arrays of the batch length)."""

    cycles: np.ndarray
    energy_pj: np.ndarray
    edp: np.ndarray
    utilization: np.ndarray
    compute_cycles: np.ndarray
    dram_reads: np.ndarray
    dram_writes: np.ndarray
    spad_accesses: np.ndarray
    acc_accesses: np.ndarray
    reg_accesses: np.ndarray
    macs: float

    def row(self, i: int) -> dict[str, float]:
        out = {f.name: float(getattr(self, f.name)[i]) for f in fields(self)
               if f.name != "macs"}
        out["macs"] = self.macs
        return out


def llc_miss(working_set: float, llc_kib: float) -> float:
    """Share of a layer's bytes that miss the LLC: none when its tensors fit."""
    llc = llc_kib * 1024.0
    return 0.0 if working_set <= llc else 1.0 - llc / working_set


def cycles_per_byte(miss: np.ndarray | float, bus_bytes: np.ndarray | float,
                    dram_bytes_per_cycle: float) -> np.ndarray | float:
    """DMA cycles per byte: LLC hits stream at the bus rate, misses at the lower of the
    bus and DRAM bandwidth."""
    return (1.0 - miss) / bus_bytes + miss / np.minimum(bus_bytes, dram_bytes_per_cycle)


@dataclass(frozen=True)
class MemoryPath:
    """How the DMA reaches memory for one call: cycles per byte, latency, and cycles per
    request (each request holds an in-flight slot for one latency)."""

    byte_cycles: float
    latency: float
    req_cycles: float
    cmds: int = 1
    """mvins (mvouts) in flight at once (`Target.dma_tracked_cmds`): each holds its slot
    for its transfer and one latency."""

    @classmethod
    def of(cls, working_set: float, target: Target, p: ModelParams) -> MemoryPath:
        """The LLC serves what of `working_set` bytes fits; the rest misses to DRAM, whose
        bandwidth caps those bytes and whose latency is averaged in."""
        miss = llc_miss(working_set, p.llc_kib)
        per_byte = float(cycles_per_byte(miss, float(target.dma_beat_bytes),
                                         target.dram_bytes_per_cycle))
        latency = (p.llc_latency + miss * (target.dram_latency - p.llc_latency)
                   + llc_miss(working_set, p.l2_kib) * p.l2_miss_cycles)
        return cls(per_byte, latency, max(p.dma_req_cycles, latency / target.max_in_flight_reqs),
                   target.dma_tracked_cmds)

    def transfer(self, nbytes: np.ndarray, reqs: np.ndarray, moves: np.ndarray,
                 fixed: float) -> np.ndarray:
        """Cycles of moving `nbytes` in `reqs` requests issued as `moves` instructions of
        `fixed` cycles each: bytes against the bus, requests against the in-flight window,
        instructions against the command tracker (`cmds` at a time, each one latency more)."""
        busy = np.maximum(nbytes * self.byte_cycles, reqs * self.req_cycles) + moves * fixed
        return np.maximum(busy, (busy + moves * self.latency) / self.cmds)


def _cdiv(a: np.ndarray, b: float) -> np.ndarray:
    return np.ceil(a / b)


class AnalyticalModel:
    """Scores batches of mappings of one layer on one target."""

    def __init__(self, layer: Layer, target: Target, params: ModelParams | None = None) -> None:
        self.layer = layer
        self.target = target
        self.params = params or ModelParams()
        self.sizes = np.array([layer.canonical()[d] for d in CANON], dtype=np.float32)[:, None]
        # dims with more than one iteration; a 1x1x1 problem keeps one so every per-dim
        # reduction below has something to reduce over
        self.live = np.flatnonzero(self.sizes[:, 0] > 1)
        if not self.live.size:
            self.live = np.array([0])
        self.energy = access_energies(target)
        conv = isinstance(layer, ConvLayer)
        self.stride = layer.stride if conv else 1
        self.dilation = layer.dilation if conv else 1
        self.conv = conv
        self.has_bias = layer.has_bias
        self.instr_per_tile = 7.0 if conv else 6.0
        p = self.params
        self.tile_cycles = p.host_conv_tile_cycles if conv else p.host_tile_cycles
        self.call_cycles = p.host_conv_call_cycles if conv else p.host_call_cycles
        self.memory = self._memory(layer, target, self.params)

    @staticmethod
    def _memory(layer: Layer, target: Target, p: ModelParams) -> MemoryPath:
        """The memory path of the layer's tensors (input, weights, bias, output)."""
        c = layer.canonical()
        if isinstance(layer, ConvLayer):
            ws = (layer.batch * layer.in_rows * layer.in_cols * layer.in_channels
                  + c["R"] * c["S"] * c["C"] * c["K"] * c["G"]
                  + 4.0 * layer.out_channels * layer.has_bias
                  + layer.batch * layer.out_rows * layer.out_cols * layer.out_channels)
        else:
            ws = (layer.i * layer.k + layer.k * layer.j + layer.i * layer.j
                  + 4.0 * layer.j * layer.has_bias)
        return MemoryPath.of(ws, target, p)

    def _bank_overlap(self, a_rows: np.ndarray, b_start: np.ndarray, b_rows: np.ndarray,
                      banks: int) -> np.ndarray:
        """Chance that a random A row and a random B row share a bank, for A at rows
        [0, a_rows) and B at [b_start, b_start + b_rows) of a region of `banks` banks."""
        br = float(self.target.sp_bank_rows)
        out = np.zeros_like(a_rows)
        for k in range(banks):
            lo, hi = k * br, (k + 1) * br
            a_in = np.clip(np.minimum(a_rows, hi) - lo, 0.0, None)
            b_in = np.clip(np.minimum(b_start + b_rows, hi) - np.maximum(b_start, lo), 0.0, None)
            out = out + a_in * b_in
        return out / np.maximum(a_rows * b_rows, 1.0)

    def evaluate(self, batch: MappingBatch) -> Cost:
        parts = [self._evaluate(batch.take(slice(i, i + _CHUNK)))
                 for i in range(0, len(batch), _CHUNK)]
        if len(parts) == 1:
            return parts[0]
        return Cost(**{f.name: (parts[0].macs if f.name == "macs" else
                                np.concatenate([getattr(p, f.name) for p in parts]))
                       for f in fields(Cost)})

    def _evaluate(self, b: MappingBatch) -> Cost:
        p, tg, dim = self.params, self.target, float(self.target.dim)
        mbl, mbl_acc = float(tg.max_block_len), float(tg.max_block_len_acc)
        tiles = b.tiles.astype(np.float32)
        trips = np.ceil(self.sizes / tiles)
        mean = self.sizes / trips
        last = self.sizes - (trips - 1.0) * tiles
        blocks = ((trips - 1.0) * np.ceil(tiles / dim) + np.ceil(last / dim)) / trips

        def col(a: np.ndarray, d: str) -> np.ndarray:
            return a[_I[d]]

        n, q, pp, r, s = (col(mean, d) for d in "NQPRS")
        k, c, g = col(mean, "K"), col(mean, "C"), col(mean, "G")
        kb, cb, gb, pb = (col(blocks, d) for d in "KCGP")
        kg = k * g  # output channels of the tile (one of the two is 1)
        cg = c * g  # input channels held per pixel row

        # --- per-tile transfers: rows, bytes, requests, mvins -----------------------
        # Counts follow what loop_ws / loop_conv_ws issue: block mvins of up to
        # MAX_BLOCK_LEN DIM-wide blocks, one TileLink request per <= 64-byte row chunk.
        ir = (q - 1.0) * self.stride + (s - 1.0) * self.dilation + 1.0
        ic = (pp - 1.0) * self.stride + (r - 1.0) * self.dilation + 1.0
        chunk = dim * mbl

        def per_row(d: str, width: float) -> np.ndarray:
            """Exact mean over a dim's tiles of ceil(tile / width) (pieces per row)."""
            i = _I[d]
            return ((trips[i] - 1.0) * np.ceil(tiles[i] / width)
                    + np.ceil(last[i] / width)) / trips[i]

        c_chunks = per_row("C", chunk) * per_row("G", chunk)
        k_chunks = per_row("K", chunk) * per_row("G", chunk)
        k_words = per_row("K", tg.dma_max_bytes / 4.0) * per_row("G", tg.dma_max_bytes / 4.0)
        a_rows = n * ir * ic
        a_elems = a_rows * cg
        a_req = a_rows * c_chunks
        a_mv = n * ir * _cdiv(ic, dim) * c_chunks
        w_rows = r * s * c
        w_elems = w_rows * kg
        w_req = w_rows * k_chunks
        w_mv = r * s * cb * k_chunks
        o_rows = n * q * pp
        o_elems = o_rows * kg
        bias_on = float(self.has_bias)
        if self.conv:
            # one mvout per (och block, pixel chunk); bias repeated from one DRAM row
            # (stride 0) per pixel chunk.
            o_mv8 = o_mv32 = kb * gb * n * q * pb
            o_req8 = o_rows * kb * gb
            bias_mv = o_mv8 * bias_on
            bias_bytes = bias_mv * 4.0 * np.minimum(kg, dim)
            bias_req = bias_mv
        else:
            o_mv8 = pb * _cdiv(kb, mbl)
            o_mv32 = pb * kb
            o_req8 = o_rows * k_chunks
            # a layer's bias is one row that tiled_matmul repeats (repeating_bias, a
            # stride-0 mvin per output block), as the emitted code passes it
            bias_mv = pb * _cdiv(kb, mbl_acc) * bias_on
            bias_bytes = bias_mv * 4.0 * np.minimum(kg, dim * mbl_acc)
            bias_req = bias_mv
        o_req32 = o_rows * k_words

        dma = self.memory.transfer
        if not self.conv:
            # OS moves single DIM x DIM blocks: one request per block row
            a_req = np.where(b.os, a_rows * cb, a_req)
            a_mv = np.where(b.os, pb * cb, a_mv)
            w_req = np.where(b.os, w_rows * kb, w_req)
            w_mv = np.where(b.os, cb * kb, w_mv)
            o_req8 = np.where(b.os, o_rows * kb, o_req8)
            o_mv8 = np.where(b.os, pb * kb, o_mv8)
        ld_a = dma(a_elems, a_req, a_mv, p.mvin_fixed_cycles)
        ld_w = dma(w_elems, w_req, w_mv, p.mvin_fixed_cycles)
        ld_bias = dma(bias_bytes, bias_req, bias_mv, p.mvin_fixed_cycles)
        ld_part = dma(4.0 * o_elems, o_req32, o_mv32, p.mvin_fixed_cycles)
        st_fin = dma(o_elems, o_req8, o_mv8, p.mvout_fixed_cycles)
        st_part = dma(4.0 * o_elems, o_req32, o_mv32, p.mvout_fixed_cycles)

        # --- compute -------------------------------------------------------------------
        # WS: per weight block (och block, krow, kcol, kch block) the pixels stream past
        # in chunks of <= DIM output columns, one preload+compute pair each. A tile's
        # compute is (weight blocks) x f(N, Q, P tile), so its sum over all tiles splits
        # into per-dim sums, with f summed exactly over full and edge tiles.
        live = self.live
        n_tiles = np.prod(trips[live], axis=0)
        floor = dim if p.garbage_bd_rows else p.min_compute_rows
        fill = 2.0 * dim + tg.spad_read_delay + tg.acc_latency + p.fill_cycles
        wblocks = kb * cb * gb * r * s
        n_comp = n * q * pb

        def per_comp(size: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            chunks = np.ceil(size / dim)
            return chunks, np.maximum(size / chunks, floor) + p.compute_fixed_cycles

        f_sum = np.zeros(len(b), dtype=np.float32)
        f_dims = [d for d in "NQ" if _I[d] in live]
        sizes_of = {d: (tiles[_I[d]], last[_I[d]], trips[_I[d]] - 1.0) for d in "NQP"}
        t_p, r_p, c_p = sizes_of["P"]
        for p_size, p_count in ((t_p, c_p), (r_p, 1.0)):
            chunks, cost = per_comp(p_size)
            for pick in range(1 << len(f_dims)):
                pix, count = chunks, p_count
                for bit, d in enumerate(f_dims):
                    t_d, r_d, c_d = sizes_of[d]
                    pix = pix * (r_d if pick >> bit & 1 else t_d)
                    count = count * (1.0 if pick >> bit & 1 else c_d)
                f_sum = f_sum + count * pix * cost
        wb_sum = wblocks * trips[_I["K"]] * trips[_I["C"]] * trips[_I["G"]] * (
            trips[_I["R"]] * trips[_I["S"]])
        rows = np.maximum(pp / pb, floor)
        weight_rows = np.minimum(c, dim)
        comp_ws = wb_sum * f_sum / n_tiles + wblocks * np.maximum(weight_rows - rows, 0.0)
        comp_os = pb * kb * (cb * (np.maximum(pp / pb, floor) + p.compute_fixed_cycles)
                             + dim + p.os_drain_cycles)
        # Scratchpad bank conflicts: a compute whose A rows and B rows sit in the same
        # bank pays extra cycles per row (WS: the compute that preloads new weights; OS:
        # every compute). A sits at the bottom of its region, B at the top (WS, one half
        # per tile in flight) or right after A (OS).
        if self.conv:
            a_sp, b_sp = cb * gb * n * ir * ic, kb * gb * r * s * c
        else:
            a_sp, b_sp = pb * cb * dim, cb * kb * dim
        half = tg.sp_rows / 2.0
        clash_ws = self._bank_overlap(a_sp, half - b_sp, b_sp, max(tg.sp_banks // 2, 1))
        clash_os = self._bank_overlap(a_sp, a_sp, b_sp, tg.sp_banks)
        conflict = p.bank_conflict_cycles * np.where(
            b.os, clash_os * pb * kb * cb * floor, clash_ws * wblocks * np.maximum(rows, dim))
        comp = np.where(b.os, comp_os, comp_ws) + conflict
        n_pairs = np.where(b.os, pb * kb * cb, wblocks * n_comp)
        # Bias loads and output stores happen only on a tile that starts or ends its
        # output tile's reduction (legal orders: one in every reduction-trips tiles).
        out_frac = 1.0 / (trips[_I["C"]] * trips[_I["R"]] * trips[_I["S"]])
        mv_ld = a_mv + w_mv + bias_mv * out_frac
        mv_st = o_mv8 * out_frac
        fsm = np.maximum(np.maximum(mv_ld, 2.0 * n_pairs), mv_st) * p.loop_fsm_cycles
        host_ws = self.instr_per_tile * p.host_issue_cycles + self.tile_cycles
        # The OS path is unrolled on the CPU: one instruction per DIM x DIM block moved
        # and two per block product.
        os_instr = mv_ld + mv_st + 2.0 * n_pairs
        host = np.where(b.os, os_instr * p.host_issue_cycles + self.tile_cycles, host_ws)

        # --- DRAM loop nest: fetch counts ----------------------------------------------
        # Only dims larger than 1 can have a trip count above 1 (the rest never move).
        rank = b.rank[live].astype(np.float32)
        trips_l = trips[live]
        rank_act = np.where(trips_l > 1.0, rank, -1.0)

        def innermost(rel: np.ndarray) -> np.ndarray:
            hit = rank_act[rel[live]]
            return np.max(hit, axis=0) if len(hit) else np.full(len(b), -1.0, dtype=np.float32)

        def fetches(lx: np.ndarray) -> np.ndarray:
            return np.prod(np.where(rank <= lx, trips_l, 1.0), axis=0)

        lo = innermost(_REL_O)
        if p.reuse_unchanged_operands:
            lw, li = innermost(_REL_W), innermost(_REL_I)
        else:
            lw = li = np.full(len(b), float(len(CANON)), dtype=np.float32)
        f_w, f_i, f_o = fetches(lw), fetches(li), fetches(lo)
        if not self.conv and not p.reuse_unchanged_operands:
            # tiled_matmul pins an operand with <= 2 distinct tiles to a scratchpad half
            # (WS only) and loads it once; spread its loads over the calls.
            t_i, t_j, t_k = col(trips, "P"), col(trips, "K"), col(trips, "C")
            pin_a = ~b.os & (t_i * t_k <= 2.0)
            pin_b = ~b.os & (t_j * t_k <= 2.0)
            ld_a = np.where(pin_a, ld_a * t_i * t_k / n_tiles, ld_a)
            ld_w = np.where(pin_b, ld_w * t_j * t_k / n_tiles, ld_w)
            f_i = np.where(pin_a, t_i * t_k, f_i)
            f_w = np.where(pin_b, t_j * t_k, f_w)
        u_o = np.prod(trips_l[_REL_O[live]], axis=0)
        part_frac = (f_o - u_o) / f_o
        ld_out = part_frac * ld_part + (1.0 - part_frac) * ld_bias
        st_out = part_frac * st_part + (1.0 - part_frac) * st_fin

        # Tiles differ mostly along the innermost moving loop: each sweep of it is full
        # tiles then one edge tile, whose compute and loads (of the tensors that dim
        # touches) scale with its size. Loads skipped by reuse (and bias/partial
        # traffic) are spread over the calls.
        inner = live[np.argmax(rank_act, axis=0)]
        moving = np.max(rank_act, axis=0) >= 0
        cols = np.arange(len(b))

        def at_inner(a: np.ndarray) -> np.ndarray:
            return a[inner, cols]

        m_in = at_inner(mean)
        r_full, r_edge = at_inner(tiles) / m_in, at_inner(last) / m_in
        t_in = np.where(moving, at_inner(trips), 1.0)
        parts_ld = ((ld_w * f_w / n_tiles, _REL_W), (ld_a * f_i / n_tiles, _REL_I),
                    (ld_out * f_o / n_tiles, _REL_O))
        ld_full = np.zeros(len(b), dtype=np.float32)
        ld_edge = np.zeros(len(b), dtype=np.float32)
        for ld_x, rel in parts_ld:
            touches = rel[inner]
            ld_full = ld_full + ld_x * np.where(touches, r_full, 1.0)
            ld_edge = ld_edge + ld_x * np.where(touches, r_edge, 1.0)
        # Tiles alternate between the two scratchpad halves and at most two loops are in
        # flight, so a tile's computes can start only after the tile two back (same
        # half) finished computing, the CPU issued the loop, and the operands of its first
        # computes landed (loop_conv_ws loads all of A first; loop_ws one MAX_BLOCK_LEN
        # k-step of A and B). Besides the compute and DMA totals, each half is a chain of
        # (compute + first loads + latency) links; with an even sweep one half gets only
        # full tiles.
        other = np.maximum(fsm, host)
        lat = host + self.memory.latency + fill
        if self.conv:
            ld_first = ld_a + ld_w / np.maximum(wblocks, 1.0)
        else:
            ld_first = (ld_a + ld_w) * np.minimum(1.0, mbl / cb)
        c_full = np.maximum(comp * r_full, other)
        c_edge = np.maximum(comp * r_edge, other)
        link_full = c_full + ld_first * r_full + lat
        link_edge = c_edge + ld_first * r_edge + lat
        # A loop also stays in flight until its mvouts are issued (all but a store
        # queue's worth), so stores join the chain of the half they land in: with an even
        # reduction sweep all of them land in the half of the sweep's last tile.
        store_all = f_o * st_out
        slack = tg.rs_st * st_fin / np.maximum(o_mv8, 1.0)  # mvouts still queued
        sweep_st = np.maximum(store_all * t_in / n_tiles - slack, 0.0)
        odd = np.mod(t_in, 2.0) > 0.0
        chain = np.where(odd, 0.5 * ((t_in - 1.0) * link_full + link_edge),
                         0.5 * t_in * link_full) + 0.5 * sweep_st
        one_half = ~odd & _IS_RED[inner]
        chain = np.where(one_half, np.maximum(
            0.5 * t_in * link_full, (0.5 * t_in - 1.0) * link_full + link_edge + sweep_st),
            chain)
        sweep = np.maximum(np.maximum((t_in - 1.0) * c_full + c_edge,
                                      (t_in - 1.0) * ld_full + ld_edge), chain)
        ld_all = ld_w * f_w + ld_a * f_i + ld_out * f_o
        if self.conv:
            db_time = np.maximum(n_tiles / t_in * sweep, store_all)
        else:
            # loop_ws frees its A/B rows block by block (k outer), so the next tile's
            # loads stream right behind the computes: loads and computes only compete
            # as totals.
            busy_mean = np.maximum(np.maximum(comp, other),
                                   0.5 * (lat + ld_first + comp))
            db_time = np.maximum(np.maximum(n_tiles * busy_mean, ld_all), store_all)
        # Single-buffered (OS): every tile reuses the same scratchpad rows. The next
        # tile's loads (k-major) overwrite B blocks the current tile's computes (one
        # output block at a time) still have to read, so they only overlap while the
        # tile has a single output block; with many, loads and computes serialise.
        ld_tile = ld_all / n_tiles
        overlap = 1.0 / np.maximum(pb * kb, 1.0)
        sb_tile = (np.maximum(np.maximum(ld_tile, comp), host)
                   + np.minimum(ld_tile, comp) * (1.0 - overlap))
        sb_time = np.maximum(n_tiles * sb_tile, store_all)
        first_ld = ld_w + ld_a + ld_out
        steady = np.where(b.double_buffer, db_time, sb_time)
        cycles = (self.call_cycles + first_ld + self.memory.latency + steady + st_fin + fill
                  + p.fence_cycles)

        # --- access counts and energy --------------------------------------------------
        macs = float(self.layer.macs)
        cs = np.minimum(c, dim)
        ks = np.minimum(kg, dim)
        partials = f_o - u_o
        dram_rd = f_w * w_elems + f_i * a_elems + partials * o_elems
        dram_rd = dram_rd + u_o * (bias_bytes / 4.0)
        dram_wr = f_o * o_elems
        weight_fill = n_tiles * wblocks * dim * dim
        reg = macs + weight_fill
        acc = macs / cs + (f_o + partials) * o_elems + u_o * o_elems * bias_on
        spad = macs / ks + weight_fill + f_w * w_elems + f_i * a_elems
        e = self.energy
        energy = (macs * e.mac + reg * e.register + acc * e.accumulator + spad * e.scratchpad
                  + (dram_rd + dram_wr) * e.dram)
        util = macs / (cycles * dim * dim)
        return Cost(cycles=cycles, energy_pj=energy, edp=energy * cycles, utilization=util,
                    compute_cycles=n_tiles * comp, dram_reads=dram_rd, dram_writes=dram_wr,
                    spad_accesses=spad, acc_accesses=acc, reg_accesses=reg, macs=macs)


def evaluate(layer: Layer, target: Target, batch: MappingBatch,
             params: ModelParams | None = None) -> Cost:
    return AnalyticalModel(layer, target, params).evaluate(batch)
