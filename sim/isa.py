"""Python encoders for Gemmini's RoCC instructions (same fields as gemmini.h's macros).

Each function returns (funct, rs1, rs2) for `Simulator.issue`.
"""

from __future__ import annotations

import struct

CONFIG, MVIN2, MVIN, MVOUT = 0, 1, 2, 3
COMPUTE_PRELOADED, COMPUTE_ACCUMULATED, PRELOAD, FLUSH = 4, 5, 6, 7
LOOP_WS, MVIN3, LOOP_CONV_WS, FENCE = 8, 14, 15, 127
GARBAGE = 0xFFFFFFFF
OS, WS = 0, 1
NO_ACTIVATION, RELU = 0, 1
ACC_BIT, ACCUMULATE_BIT, FULL_BIT = 1 << 31, 1 << 30, 1 << 29

Instr = tuple[int, int, int]


def f32_bits(x: float) -> int:
    return struct.unpack("<I", struct.pack("<f", x))[0]


def operand(addr: int, cols: int, rows: int) -> int:
    return (rows << 48) | (cols << 32) | (addr & 0xFFFFFFFF)


def acc_addr(row: int, accumulate: bool = False, full: bool = False) -> int:
    return ACC_BIT | (ACCUMULATE_BIT if accumulate else 0) | (FULL_BIT if full else 0) | row


def mvin(dram: int, spad: int, cols: int, rows: int, which: int = 0) -> Instr:
    return ((MVIN, MVIN2, MVIN3)[which], dram, operand(spad, cols, rows))


def mvout(dram: int, spad: int, cols: int, rows: int) -> Instr:
    return (MVOUT, dram, operand(spad, cols, rows))


def preload(bd: int, c: int, bd_cols: int, bd_rows: int, c_cols: int, c_rows: int) -> Instr:
    return (PRELOAD, operand(bd, bd_cols, bd_rows), operand(c, c_cols, c_rows))


def compute(a: int, bd: int, a_cols: int, a_rows: int, bd_cols: int, bd_rows: int, *,
            preloaded: bool) -> Instr:
    return (COMPUTE_PRELOADED if preloaded else COMPUTE_ACCUMULATED,
            operand(a, a_cols, a_rows), operand(bd, bd_cols, bd_rows))


def config_ex(dataflow: int, act: int = 0, shift: int = 0, a_stride: int = 1, c_stride: int = 1,
              a_transpose: bool = False, b_transpose: bool = False,
              set_only_strides: bool = False) -> Instr:
    rs1 = ((f32_bits(1.0) << 32) | (a_stride << 16) | (int(b_transpose) << 9)
           | (int(a_transpose) << 8) | (int(set_only_strides) << 7) | (act << 3)
           | (dataflow << 2))
    return (CONFIG, rs1, (c_stride << 48) | (shift & 0xFFFFFFFF))


def config_ld(stride: int, scale: float = 1.0, shrunk: bool = False, block_stride: int = 0,
              which: int = 0, pixel_repeats: int = 1) -> Instr:
    rs1 = ((f32_bits(scale) << 32) | (block_stride << 16) | (pixel_repeats << 8) | (which << 3)
           | (int(shrunk) << 2) | 1)
    return (CONFIG, rs1, stride)


def config_st(stride: int, act: int = 0, scale: float = 1.0) -> Instr:
    return (CONFIG, (act << 2) | 2, (f32_bits(scale) << 32) | (stride & 0xFFFFFFFF))


def loop_ws(I: int, J: int, K: int, pad_I: int, pad_J: int, pad_K: int,  # noqa: E741, N803
            A: int, B: int, D: int, C: int, A_stride: int, B_stride: int, D_stride: int,  # noqa: N803
            C_stride: int, A_transpose: bool = False, B_transpose: bool = False,  # noqa: N803
            full_C: bool = False, low_D: bool = False, ex_accumulate: bool = False,  # noqa: N803
            act: int = 0, a_spad_id: int = 0, b_spad_id: int = 0,
            is_resadd: bool = False) -> list[Instr]:
    return [
        (9, (pad_K << 32) | (pad_J << 16) | pad_I, (K << 32) | (J << 16) | I),
        (10, A, B), (11, D, C), (12, A_stride, B_stride), (13, D_stride, C_stride),
        (LOOP_WS,
         (a_spad_id << 18) | (b_spad_id << 16) | (act << 8) | (int(low_D) << 2)
         | (int(full_C) << 1) | int(ex_accumulate),
         (int(is_resadd) << 2) | (int(B_transpose) << 1) | int(A_transpose)),
    ]
