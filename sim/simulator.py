"""Python API of the simulator: DRAM buffers, instruction issue, library calls, results.

The instruction semantics live only in the C core (sim/csrc); this module drives it via
ctypes on the per-target library built by dlac.sim.build.
"""

from __future__ import annotations

import ctypes
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import numpy as np
from dlac.ir.target import Target
from dlac.sim.build import build_library
from dlac.sim.errors import SimError
from dlac.sim.native import CLASS_NAMES, SimConfig, SimStatsC, make_config
from dlac.sim.timing import DEFAULT_TIMING, TimingParams

_u64, _i32, _f32, _sz, _vp = (ctypes.c_uint64, ctypes.c_int, ctypes.c_float, ctypes.c_size_t,
                              ctypes.c_void_p)
# Timing-only runs never dereference DRAM, but the library still needs non-null pointers.
_FAKE_BASE = 0x10000000
_DRAM_ALIGN = 0x10000


@cache
def load_library(target: Target) -> ctypes.CDLL:
    """Load (building if needed) the simulator library for `target`."""
    lib = ctypes.CDLL(str(build_library(target)))
    lib.dlac_sim_new.restype = _vp
    lib.dlac_sim_new.argtypes = [_vp]
    lib.dlac_sim_free.argtypes = [_vp]
    lib.dlac_sim_issue.argtypes = [_vp, ctypes.c_uint32, _u64, _u64]
    lib.dlac_sim_fence.argtypes = [_vp]
    lib.dlac_sim_error.restype = ctypes.c_char_p
    lib.dlac_sim_error.argtypes = [_vp]
    lib.dlac_sim_get_stats.argtypes = [_vp, _vp]
    lib.dlac_sim_read_spad_row.argtypes = [_vp, ctypes.c_uint32, _vp]
    lib.dlac_sim_read_acc_row.argtypes = [_vp, ctypes.c_uint32, _vp]
    lib.dlac_py_matmul.argtypes = [_vp, _sz, _sz, _sz, _vp, _vp, _vp, _vp, _sz, _sz, _sz, _sz,
                                   _f32, _f32, _i32, _f32, _i32, _sz, _sz, _sz, _i32, _i32,
                                   _i32, _i32, _i32, ctypes.c_char_p]
    lib.dlac_py_conv.argtypes = [_vp] + [_i32] * 11 + [_vp, _vp, _vp, _vp, _i32, _f32, _vp,
                                                        ctypes.c_char_p] + [_i32] * 4
    lib.dlac_py_conv_pool.argtypes = [_vp] + [_i32] * 10 + [_vp, _vp, _vp, _vp] + [_i32] * 3 \
        + [_vp]
    lib.dlac_py_conv_dw.argtypes = [_vp] + [_i32] * 11 + [_vp, _vp, _vp, _vp, _i32, _f32,
                                                           _vp, ctypes.c_char_p]
    lib.dlac_py_conv_dw_flat.argtypes = [_vp] + [_i32] * 9 + [_vp, _vp, _vp, _vp, _i32, _f32,
                                                                _i32, _i32]
    lib.dlac_py_resadd.argtypes = [_vp, _sz, _sz, _f32, _f32, _f32, _vp, _vp, _vp, _i32]
    lib.dlac_py_global_average.argtypes = [_vp, _vp, _vp, _i32, _i32, _i32]
    lib.dlac_py_matmul_tiles.argtypes = [_sz, _sz, _sz, _i32, _vp]
    lib.dlac_py_conv_tiles.argtypes = [_i32] * 8 + [_vp]
    if lib.dlac_sim_config_size() != ctypes.sizeof(SimConfig):
        raise SimError("simulator library and dlac.sim.native disagree on dlac_sim_config")
    if lib.dlac_sim_stats_size() != ctypes.sizeof(SimStatsC):
        raise SimError("simulator library and dlac.sim.native disagree on dlac_sim_stats")
    return lib


@dataclass
class SimStats:
    cycles: float
    host_cycles: float
    energy_pj: float
    instructions: int
    macs: int
    counters: dict[str, int] = field(default_factory=dict)
    accesses: dict[str, int] = field(default_factory=dict)

    @property
    def utilization(self) -> float:
        return 0.0 if not self.cycles else self.macs / self.cycles


class Simulator:
    """One simulated Gemmini plus its DRAM (numpy buffers the core reads and writes)."""

    def __init__(self, target: Target | None = None, timing: TimingParams = DEFAULT_TIMING,
                 *, timing_only: bool = False) -> None:
        self.target = target or Target()
        self.timing = timing
        self.timing_only = timing_only
        self._lib = load_library(self.target)
        self._cfg = make_config(self.target, timing, timing_only=timing_only)
        self._sim = self._lib.dlac_sim_new(ctypes.byref(self._cfg))
        if not self._sim:
            raise SimError("could not allocate the simulator")
        self._buffers: list[np.ndarray] = []
        self._fake_next = _FAKE_BASE

    def close(self) -> None:
        if getattr(self, "_sim", None):
            self._lib.dlac_sim_free(self._sim)
            self._sim = None

    def __del__(self) -> None:
        self.close()

    def __enter__(self) -> Simulator:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # ---- DRAM ---------------------------------------------------------------------
    def dram(self, data: np.ndarray) -> np.ndarray:
        """A C-contiguous copy of `data` that stays alive as long as the simulator.

        Buffers start on a _DRAM_ALIGN boundary, as timing-only runs' fake addresses do, so
        the DMA's page (TLB) pattern and hence the cycles do not depend on the mode."""
        src = np.ascontiguousarray(data)
        raw = np.empty(src.nbytes + _DRAM_ALIGN, dtype=np.uint8)
        start = -raw.ctypes.data % _DRAM_ALIGN
        buf = raw[start:start + src.nbytes].view(src.dtype).reshape(src.shape)
        buf[...] = src
        self._buffers.append(buf)
        return buf

    def alloc(self, shape: tuple[int, ...] | int, dtype: Any = np.int8) -> np.ndarray:
        return self.dram(np.zeros(shape, dtype=dtype))

    @staticmethod
    def addr(buf: np.ndarray | None, offset_elems: int = 0) -> int:
        if buf is None:
            return 0
        return int(buf.ctypes.data) + offset_elems * buf.itemsize

    def _ptr(self, buf: np.ndarray | None, nbytes: int) -> int | None:
        """Host pointer of `buf`, or a fake address in timing-only mode."""
        if buf is None:
            return None
        if not self.timing_only:
            return self.addr(buf)
        return self._fake(nbytes)

    # ---- instructions ------------------------------------------------------------------
    def _check(self, rc: int) -> None:
        if rc:
            msg = self._lib.dlac_sim_error(self._sim).decode()
            index = None
            if msg.startswith("instruction "):
                index = int(msg.split(":", 1)[0].split()[1])
            raise SimError(f"gemmini-sim: {msg}", index)

    def issue(self, funct: int, rs1: int, rs2: int) -> None:
        """Execute one RoCC instruction; raises SimError on a hardware assertion."""
        self._check(self._lib.dlac_sim_issue(self._sim, funct, rs1 & (2**64 - 1),
                                             rs2 & (2**64 - 1)))

    def run(self, program: list[tuple[int, int, int]]) -> None:
        for funct, rs1, rs2 in program:
            self.issue(funct, rs1, rs2)

    def fence(self) -> None:
        self._check(self._lib.dlac_sim_fence(self._sim))

    def spad_row(self, row: int) -> np.ndarray:
        out = np.zeros(self.target.dim, dtype=np.int8)
        if self._lib.dlac_sim_read_spad_row(self._sim, row, out.ctypes.data):
            raise SimError(f"scratchpad row {row} is not readable")
        return out

    def acc_row(self, row: int) -> np.ndarray:
        out = np.zeros(self.target.dim, dtype=np.int32)
        if self._lib.dlac_sim_read_acc_row(self._sim, row, out.ctypes.data):
            raise SimError(f"accumulator row {row} is not readable")
        return out

    @property
    def stats(self) -> SimStats:
        st = SimStatsC()
        self._lib.dlac_sim_get_stats(self._sim, ctypes.byref(st))
        accesses = {n: int(getattr(st, n)) for n in
                    ("array_macs", "reg_writes", "spad_reads", "spad_writes", "acc_reads",
                     "acc_writes", "dram_reads", "dram_writes")}
        return SimStats(st.cycles, st.host_cycles, st.energy_pj, int(st.instructions),
                        int(st.macs), dict(zip(CLASS_NAMES, map(int, st.counts), strict=True)),
                        accesses)

    @property
    def cycles(self) -> float:
        return self.stats.cycles

    @property
    def energy_pj(self) -> float:
        return self.stats.energy_pj

    # ---- C library calls ---------------------------------------------------------------
    def matmul_tiles(self, I: int, J: int, K: int, dataflow: str = "WS") -> tuple[int, int, int]:  # noqa: E741, N803
        """Gemmini's default tiling (tile_I, tile_J, tile_K in DIM blocks)."""
        out = (ctypes.c_size_t * 3)()
        self._lib.dlac_py_matmul_tiles(I, J, K, int(dataflow == "WS"), out)
        return (out[0], out[1], out[2])

    def conv_tiles(self, batch: int, out_rows: int, out_cols: int, in_ch: int, out_ch: int,
                   kernel: int, stride: int = 1, dilation: int = 1) -> tuple[int, ...]:
        out = (ctypes.c_int * 7)()
        self._lib.dlac_py_conv_tiles(batch, out_rows, out_cols, in_ch, out_ch, kernel, stride,
                                     dilation, out)
        return tuple(out)

    def matmul(self, A: np.ndarray, B: np.ndarray, D: np.ndarray | None = None, *,  # noqa: N803
               act: int = 0, scale: float = 1.0, full_C: bool = False,  # noqa: N803
               repeating_bias: bool = False, dataflow: str = "WS",
               tiles: tuple[int, int, int] | None = None, perm: str | None = None,
               transpose_A: bool = False, transpose_B: bool = False,  # noqa: N803
               a_scale: float = 1.0, b_scale: float = 1.0) -> np.ndarray:
        """tiled_matmul(_auto): C = act(ACC_SCALE(A @ B + D)); int8 or int32 (full_C) out."""
        A = self.dram(np.asarray(A, dtype=np.int8))  # noqa: N806
        B = self.dram(np.asarray(B, dtype=np.int8))  # noqa: N806
        I, K = (A.shape[1], A.shape[0]) if transpose_A else A.shape  # noqa: E741, N806
        J = B.shape[0] if transpose_B else B.shape[1]  # noqa: N806
        low_D = D is not None and np.asarray(D).dtype == np.int8  # noqa: N806
        if D is not None:
            D = self.dram(np.asarray(D, dtype=np.int8 if low_D else np.int32))  # noqa: N806
        C = self.alloc((I, J), np.int32 if full_C else np.int8)  # noqa: N806
        tI, tJ, tK = tiles or (0, 0, 0)
        rc = self._lib.dlac_py_matmul(
            self._sim, I, J, K, self._ptr(A, A.nbytes), self._ptr(B, B.nbytes),
            self._ptr(D, D.nbytes) if D is not None else None, self._ptr(C, C.nbytes),
            A.shape[1], B.shape[1], D.shape[-1] if D is not None else 0, J, a_scale, b_scale,
            act, scale, int(repeating_bias), tI, tJ, tK, int(transpose_A), int(transpose_B),
            int(full_C), int(low_D), int(dataflow == "WS"), perm.encode() if perm else None)
        self._check(rc)
        return C

    def conv(self, x: np.ndarray, w: np.ndarray, bias: np.ndarray | None = None, *,
             stride: int = 1, padding: int = 0, dilation: int = 1, act: int = 0,
             scale: float = 1.0, out_dims: tuple[int, int] | None = None,
             tiles: tuple[int, ...] | None = None, perm: str | None = None) -> np.ndarray:
        """tiled_conv(_auto): x NHWC int8, w [kh][kw][cin][cout] int8, bias int32[cout]."""
        x = self.dram(np.asarray(x, dtype=np.int8))
        w = self.dram(np.asarray(w, dtype=np.int8))
        n, h, wd, cin = x.shape
        k, _, _, cout = w.shape
        if out_dims is None:
            dk = (k - 1) * dilation + 1
            out_dims = ((h + 2 * padding - dk) // stride + 1, (wd + 2 * padding - dk) // stride + 1)
        if bias is not None:
            bias = self.dram(np.asarray(bias, dtype=np.int32))
        out = self.alloc((n, out_dims[0], out_dims[1], cout), np.int8)
        tile_arr = (ctypes.c_int * 7)(*tiles) if tiles else None
        rc = self._lib.dlac_py_conv(
            self._sim, n, h, wd, cin, cout, out_dims[0], out_dims[1], stride, dilation, padding, k,
            self._ptr(x, x.nbytes), self._ptr(w, w.nbytes),
            self._ptr(bias, bias.nbytes) if bias is not None else None,
            self._ptr(out, out.nbytes), act, scale, tile_arr, perm.encode() if perm else None, 0,
            0, 0, 0)
        self._check(rc)
        return out

    def matmul_shape(self, I: int, J: int, K: int, *, bias: bool = False,  # noqa: E741, N803
                     tiles: tuple[int, int, int] | None = None, perm: str | None = None,
                     dataflow: str = "WS", repeating_bias: bool = False) -> None:
        """Timing-only tiled matmul of the given shape (no data; fake DRAM addresses).
        `bias` is a full I x J int32 matrix D, or with `repeating_bias` one row that every
        output row adds (what the emitted code passes for a layer's bias)."""
        self._require_timing_only()
        tI, tJ, tK = tiles or (0, 0, 0)
        d_elems = J if repeating_bias else I * J
        rc = self._lib.dlac_py_matmul(
            self._sim, I, J, K, self._fake(I * K), self._fake(K * J),
            self._fake(d_elems * 4) if bias else None, self._fake(I * J), K, J, J, J, 1.0, 1.0,
            0, 1.0, int(repeating_bias and bias), tI, tJ, tK, 0, 0, 0, 0, int(dataflow == "WS"),
            perm.encode() if perm else None)
        self._check(rc)

    def conv_shape(self, n: int, in_rows: int, in_cols: int, cin: int, cout: int,
                   out_rows: int, out_cols: int, kernel: int, *, stride: int = 1,
                   padding: int = 0, bias: bool = True, tiles: tuple[int, ...] | None = None,
                   perm: str | None = None, gemmini_pads: bool = False,
                   strides: tuple[int, int, int] | None = None) -> None:
        """Timing-only tiled conv of the given shape (no data; fake DRAM addresses).

        `gemmini_pads` passes each tile's padding unclamped, as gemmini.h's tiled_conv does
        (DOSA's FireSim harness): a tile whose padding exceeds its window then costs what
        LoopConv's wrapped loader does on the RTL (sim/csrc/loop_conv_wrap.c). `strides`:
        the (input, weight, output) row strides of a conv on channel slices of wider
        buffers (default: dense)."""
        self._require_timing_only()
        in_s, w_s, out_s = strides or (cin, cout, cout)
        tile_arr = (ctypes.c_int * 7)(*tiles) if tiles else None
        rc = self._lib.dlac_py_conv(
            self._sim, n, in_rows, in_cols, cin, cout, out_rows, out_cols, stride, 1, padding,
            kernel, self._fake(n * in_rows * in_cols * in_s),
            self._fake(kernel * kernel * cin * w_s),
            self._fake(cout * 4) if bias else None, self._fake(n * out_rows * out_cols * out_s),
            0, 1.0, tile_arr, perm.encode() if perm else None, int(gemmini_pads), in_s, w_s,
            out_s)
        self._check(rc)

    def conv_pool_shape(self, n: int, in_rows: int, in_cols: int, cin: int, cout: int,
                        out_rows: int, out_cols: int, kernel: int, pool: tuple[int, int, int],
                        *, stride: int = 1, padding: int = 0, bias: bool = True,
                        tiles: tuple[int, ...] | None = None) -> None:
        """Timing-only conv whose store max-pools its output, `pool` = (size, stride,
        padding), as the emitted code runs a conv with a fused max pool: `tiles` count
        pooled outputs (None: Gemmini's pooled heuristic), the library's own loop order."""
        self._require_timing_only()
        size, pstride, ppad = pool
        pooled = ((out_rows + 2 * ppad - size) // pstride + 1,
                  (out_cols + 2 * ppad - size) // pstride + 1)
        tile_arr = (ctypes.c_int * 7)(*tiles) if tiles else None
        rc = self._lib.dlac_py_conv_pool(
            self._sim, n, in_rows, in_cols, cin, cout, out_rows, out_cols, stride, padding,
            kernel, self._fake(n * in_rows * in_cols * cin),
            self._fake(kernel * kernel * cin * cout),
            self._fake(cout * 4) if bias else None, self._fake(n * pooled[0] * pooled[1] * cout),
            size, pstride, ppad, tile_arr)
        self._check(rc)

    def conv_dw_shape(self, n: int, in_size: int, channels: int, width: int, out_size: int,
                      kernel: int, *, stride: int = 1, padding: int = 0, bias: bool = True,
                      tiles: tuple[int, ...] | None = None, perm: str | None = None) -> None:
        """Timing-only depthwise conv (square images) as dlac runs it: block-diagonal dense
        convs over groups of `width` channels in one library call. `tiles`: (batches,
        porows, pocols, krows, kcols), or None for Gemmini's heuristic per group."""
        self._require_timing_only()
        tile_arr = (ctypes.c_int * 5)(*tiles) if tiles else None
        rc = self._lib.dlac_py_conv_dw(
            self._sim, n, in_size, in_size, channels, width, out_size, out_size, stride, 1,
            padding, kernel, self._fake(n * in_size * in_size * channels),
            self._fake(kernel * kernel * width * channels),
            self._fake(channels * 4) if bias else None,
            self._fake(n * out_size * out_size * channels), 0, 1.0, tile_arr,
            perm.encode() if perm else None)
        self._check(rc)

    def conv_dw_flat(self, x: np.ndarray, w: np.ndarray, bias: np.ndarray | None = None, *,
                     stride: int = 1, padding: int = 0, act: int = 0, scale: float = 1.0,
                     tiles: tuple[int, int] = (1, 1)) -> np.ndarray:
        """Depthwise conv on flattened rows (dlac_conv_dw_flat): x NHWC int8, w the
        [groups][kh][kw][w][w] diagonal weight blocks (w = min(DIM, channels)), bias
        int32[channels]; `tiles`: (output rows, groups of DIM channels) per tile."""
        x = self.dram(np.asarray(x, dtype=np.int8))
        w = self.dram(np.asarray(w, dtype=np.int8))
        n, h, wd, ch = x.shape
        k = w.shape[1]
        out_dims = ((h + 2 * padding - k) // stride + 1, (wd + 2 * padding - k) // stride + 1)
        if bias is not None:
            bias = self.dram(np.asarray(bias, dtype=np.int32))
        out = self.alloc((n, *out_dims, ch), np.int8)
        self._check(self._lib.dlac_py_conv_dw_flat(
            self._sim, n, h, wd, ch, *out_dims, stride, padding, k, self._ptr(x, x.nbytes),
            self._ptr(w, w.nbytes), self._ptr(bias, bias.nbytes) if bias is not None else None,
            self._ptr(out, out.nbytes), act, scale, *tiles))
        return out

    def conv_dw_flat_shape(self, n: int, in_size: int, channels: int, out_size: int,
                           kernel: int, *, stride: int = 1, padding: int = 0,
                           bias: bool = True, tiles: tuple[int, int] = (1, 1)) -> None:
        """Timing-only `conv_dw_flat` of the given shape (square images)."""
        self._require_timing_only()
        width = min(self.target.dim, channels)
        self._check(self._lib.dlac_py_conv_dw_flat(
            self._sim, n, in_size, in_size, channels, out_size, out_size, stride, padding, kernel,
            self._fake(n * in_size * in_size * channels),
            self._fake(-(-channels // width) * kernel * kernel * width * width),
            self._fake(channels * 4) if bias else None,
            self._fake(n * out_size * out_size * channels), 0, 1.0, *tiles))

    def _require_timing_only(self) -> None:
        if not self.timing_only:
            raise SimError("shape-only runs need Simulator(timing_only=True)")

    def _fake(self, nbytes: int) -> int:
        base = self._fake_next
        self._fake_next += -(-nbytes // _DRAM_ALIGN) * _DRAM_ALIGN
        return base

    def resadd_shape(self, I: int, J: int, *, relu: bool = False) -> None:  # noqa: E741, N803
        """Timing-only tiled_resadd_auto of two I x J int8 matrices (fake DRAM addresses)."""
        self._require_timing_only()
        self._check(self._lib.dlac_py_resadd(self._sim, I, J, 1.0, 1.0, 1.0, self._fake(I * J),
                                             self._fake(I * J), self._fake(I * J), int(relu)))

    def resadd(self, A: np.ndarray, B: np.ndarray, *, a_scale: float = 1.0,  # noqa: N803
               b_scale: float = 1.0, c_scale: float = 1.0, relu: bool = False) -> np.ndarray:
        A = self.dram(np.asarray(A, dtype=np.int8))  # noqa: N806
        B = self.dram(np.asarray(B, dtype=np.int8))  # noqa: N806
        C = self.alloc(A.shape, np.int8)  # noqa: N806
        self._check(self._lib.dlac_py_resadd(self._sim, A.shape[0], A.shape[1], a_scale, b_scale,
                                             c_scale, self.addr(A), self.addr(B), self.addr(C),
                                             int(relu)))
        return C

    def global_average(self, x: np.ndarray) -> np.ndarray:
        """x NHWC (square images) -> [batch][channel] mean, requantised by ACC_SCALE."""
        x = self.dram(np.asarray(x, dtype=np.int8))
        n, h, _, c = x.shape
        out = self.alloc((n, c), np.int8)
        self._check(self._lib.dlac_py_global_average(self._sim, self.addr(x), self.addr(out), n,
                                                     c, h))
        return out
