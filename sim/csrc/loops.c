/* The CISC loop instructions (LOOP_WS, LOOP_CONV_WS), expanded into primitive
 * mvin / preload / compute / mvout instructions the way Gemmini's LoopMatmul and LoopConv
 * FSMs do.  Every primitive goes through sim_exec, so loops share the primitives'
 * semantics and timing.  Each FSM sub-unit (load, execute, store) has its own issue clock,
 * because the hardware issues the three streams concurrently; the row scoreboard orders
 * them.
 */
#include <string.h>

#include "loop_common.h"
#include "sim_internal.h"
#include "timing.h"

/* ---- LOOP_WS --------------------------------------------------------------------- */

int sim_loop_ws(dlac_sim *s, double clocks[3]) {
    fsm f;
    fsm_init(s, &f, clocks, s->cfg.loops_on_cpu != 0.0);
    const uint32_t dim = (uint32_t)s->dim;
    const uint64_t b1 = s->ws_rs1[0], b2 = s->ws_rs2[0];
    const uint32_t I = (uint32_t)(b2 & 0xFFFF), J = (uint32_t)((b2 >> 16) & 0xFFFF),
                   K = (uint32_t)((b2 >> 32) & 0xFFFF);
    const uint32_t pad_I = (uint32_t)(b1 & 0xFFFF), pad_J = (uint32_t)((b1 >> 16) & 0xFFFF),
                   pad_K = (uint32_t)((b1 >> 32) & 0xFFFF);
    const uint64_t A = s->ws_rs1[1], B = s->ws_rs2[1], D = s->ws_rs1[2], C = s->ws_rs2[2];
    const uint64_t A_stride = s->ws_rs1[3], B_stride = s->ws_rs2[3];
    const uint64_t D_stride = s->ws_rs1[4], C_stride = s->ws_rs2[4];
    const uint64_t r1 = s->ws_rs1[5], r2 = s->ws_rs2[5];
    const int ex_acc = (int)(r1 & 1), full_C = (int)((r1 >> 1) & 1), low_D = (int)((r1 >> 2) & 1);
    const int b_spad_id = (int)((r1 >> 16) & 3), a_spad_id = (int)((r1 >> 18) & 3);
    const int a_tr = (int)(r2 & 1), b_tr = (int)((r2 >> 1) & 1), resadd = (int)((r2 >> 2) & 1);

    if (!I || !J || !K) return sim_assert_fail(s, "loop_ws with a zero bound");
    if (pad_I >= dim || pad_J >= dim || pad_K >= dim)
        return sim_assert_fail(s, "loop_ws padding must be < DIM");
    const uint32_t half_sp = (uint32_t)s->sp_rows / 2, half_acc = (uint32_t)s->acc_rows / 2;
    if ((uint64_t)I * J * dim > half_acc)
        return sim_assert_fail(s, "loop_ws: I*J*DIM = %u exceeds half the accumulator (%u)",
                               I * J * dim, half_acc);
    if (!resadd && ((uint64_t)I * K + (uint64_t)K * J) * dim > half_sp)
        return sim_assert_fail(s, "loop_ws: (I*K + K*J)*DIM exceeds half the scratchpad (%u)",
                               half_sp);
    const uint32_t sel_a = a_spad_id ? (uint32_t)(a_spad_id - 1) : (uint32_t)s->loop_slot;
    const uint32_t sel_b = b_spad_id ? (uint32_t)(b_spad_id - 1) : (uint32_t)s->loop_slot;
    const uint32_t a_base = sel_a * half_sp;
    const uint32_t b_base = (sel_b + 1) * half_sp - K * J * dim;
    const uint32_t c_base = (uint32_t)s->ws_acc_half * half_acc;
    const uint32_t acc_bit = 1u << 31, accum_bit = 1u << 30, full_bit = 1u << 29;
    const uint32_t mbl = (uint32_t)s->mbl, mbl_acc = (uint32_t)s->mbl_acc;
    const uint32_t colsJ = J * dim - pad_J, colsK = K * dim - pad_K, rowsI = I * dim - pad_I;
#define ROWS_I(i) umin(dim, rowsI - (i) * dim)
#define COLS_J(j, n) umin((n) * dim, colsJ - (j) * dim)
#define COLS_K(k, n) umin((n) * dim, colsK - (k) * dim)

    if (resadd) {
        /* A then B into the accumulator (overwrite, accumulate), then scaled mvout. */
        for (uint32_t i = 0; i < I; i++)
            for (uint32_t j = 0; j < J; j += mbl) {
                uint32_t nb = umin(mbl, J - j), row = c_base + (i * J + j) * dim;
                uint64_t off = (F(i) * dim * A_stride + F(j) * dim);
                if (sim_exec(s, F_MVIN, A + off, operand(ROWS_I(i), COLS_J(j, nb), acc_bit | row),
                             &f.ld))
                    return -1;
                off = (F(i) * dim * B_stride + F(j) * dim);
                if (sim_exec(s, F_MVIN2, B + off,
                             operand(ROWS_I(i), COLS_J(j, nb), acc_bit | accum_bit | row), &f.ld))
                    return -1;
                if (C && sim_exec(s, F_MVOUT, C + F(i) * dim * C_stride + F(j) * dim,
                                  operand(ROWS_I(i), COLS_J(j, nb), acc_bit | row), &f.st))
                    return -1;
            }
        if (C) s->ws_acc_half ^= 1;
        return 0;
    }

    if (D) {
        const uint32_t step = low_D ? mbl : mbl_acc;
        const uint64_t esz = low_D ? 1 : 4;
        for (uint32_t i = 0; i < I; i++)
            for (uint32_t j = 0; j < J; j += step) {
                uint32_t nb = umin(step, J - j);
                uint64_t addr = D + (F(i) * dim * D_stride + F(j) * dim) * esz;
                if (sim_exec(s, F_MVIN3, addr,
                             operand(ROWS_I(i), COLS_J(j, nb), acc_bit | (c_base + (i * J + j) * dim)),
                             &f.ld))
                    return -1;
            }
    }
    const uint32_t a_step = a_tr ? 1 : mbl;
    for (uint32_t k0 = 0; k0 < K; k0 += a_step) {
        const uint32_t kn = umin(a_step, K - k0);
        if (A)
            for (uint32_t i = 0; i < I; i++) {
                uint32_t dst = a_base + (i * K + k0) * dim;
                uint64_t r;
                if (!a_tr) {
                    r = operand(ROWS_I(i), COLS_K(k0, kn), dst);
                    if (sim_exec(s, F_MVIN, A + F(i) * dim * A_stride + F(k0) * dim, r, &f.ld))
                        return -1;
                } else {
                    r = operand(umin(dim, colsK - k0 * dim), ROWS_I(i) < dim ? ROWS_I(i) : dim, dst);
                    if (sim_exec(s, F_MVIN, A + F(k0) * dim * A_stride + F(i) * dim, r, &f.ld))
                        return -1;
                }
            }
        if (B)
            for (uint32_t k = k0; k < k0 + kn; k++) {
                const uint32_t b_step = b_tr ? 1 : mbl;
                for (uint32_t j = 0; j < J; j += b_step) {
                    uint32_t nb = umin(b_step, J - j), dst = b_base + (k * J + j) * dim;
                    uint64_t r, addr;
                    if (!b_tr) {
                        r = operand(umin(dim, colsK - k * dim), COLS_J(j, nb), dst);
                        addr = B + F(k) * dim * B_stride + F(j) * dim;
                    } else {
                        r = operand(umin(dim, colsJ - j * dim), umin(dim, colsK - k * dim), dst);
                        addr = B + F(j) * dim * B_stride + F(k) * dim;
                    }
                    if (sim_exec(s, F_MVIN2, addr, r, &f.ld)) return -1;
                }
            }
        for (uint32_t k = k0; k < k0 + kn; k++)
            for (uint32_t j = 0; j < J; j++)
                for (uint32_t i = 0; i < I; i++) {
                    const uint32_t kr = umin(dim, colsK - k * dim), jc = COLS_J(j, 1), ir = ROWS_I(i);
                    const uint32_t b_addr = b_base + (k * J + j) * dim;
                    const uint64_t bd = i == 0 ? (b_tr ? operand(jc, kr, b_addr) : operand(kr, jc, b_addr))
                                               : operand(dim, dim, GARBAGE_LADDR);
                    const int overwrite = k == 0 && !ex_acc; /* even over a moved-in D */
                    const uint32_t c_addr = acc_bit | (overwrite ? 0 : accum_bit) |
                                            (c_base + (i * J + j) * dim);
                    const uint32_t a_addr = a_base + (i * K + k) * dim;
                    const uint64_t a = a_tr ? operand(kr, ir, a_addr) : operand(ir, kr, a_addr);
                    if (sim_exec(s, F_PRELOAD, bd, operand(ir, jc, c_addr), &f.ex)) return -1;
                    if (sim_exec(s, i == 0 ? F_COMPUTE_PRELOADED : F_COMPUTE_ACCUMULATED, a,
                                 operand(dim, dim, GARBAGE_LADDR), &f.ex))
                        return -1;
                }
    }
    if (C) {
        const uint32_t step = full_C ? 1 : mbl;
        const uint64_t esz = full_C ? 4 : 1;
        for (uint32_t i = 0; i < I; i++)
            for (uint32_t j = 0; j < J; j += step) {
                uint32_t nb = umin(step, J - j);
                uint32_t src = acc_bit | (full_C ? full_bit : 0) | (c_base + (i * J + j) * dim);
                uint64_t addr = C + (F(i) * dim * C_stride + F(j) * dim) * esz;
                if (sim_exec(s, F_MVOUT, addr, operand(ROWS_I(i), COLS_J(j, nb), src), &f.st))
                    return -1;
            }
        s->ws_acc_half ^= 1;
    }
#undef ROWS_I
#undef COLS_J
#undef COLS_K
    return 0;
}

/* ---- LOOP_CONV_WS ---------------------------------------------------------------- */

int sim_loop_conv_ws(dlac_sim *s, double clocks[3]) {
    fsm f;
    fsm_init(s, &f, clocks, 0);
    const conv_args c = decode_conv(s);
    const uint32_t dim = (uint32_t)s->dim;
    if (!c.no_pool || c.transforms || c.dw || c.input_dilated || c.downsample)
        return sim_loop_conv_ws_ext(s, &c, &f);
    if (!c.batches || !c.orows || !c.ocols || !c.pochs || !c.krows || !c.kcols || !c.kchs)
        return sim_assert_fail(s, "loop_conv_ws with a zero tile bound");
    const uint32_t stride = c.stride ? c.stride : 1, kdil = c.kernel_dilation ? c.kernel_dilation : 1;
    /* the input window as Gemmini's LoopConv sizes it (the last stride - 1 rows/cols are
     * moved in but never read) */
    const uint32_t irows = c.orows * stride + (c.krows - 1) * kdil;
    const uint32_t icols = c.ocols * stride + (c.kcols - 1) * kdil;
    /* more padding than window: the RTL's loader count wraps (loop_conv_wrap.c) */
    const int wrapped = c.upad + c.dpad > irows || c.lpad + c.rpad > icols;
    const uint32_t kch_blocks = (c.kchs + dim - 1) / dim, och_blocks = (c.pochs + dim - 1) / dim;
    const uint64_t a_rows = (uint64_t)kch_blocks * c.batches * irows * icols;
    const uint64_t b_rows = (uint64_t)och_blocks * c.krows * c.kcols * c.kchs;
    const uint64_t pix = (uint64_t)c.batches * c.orows * c.ocols;
    const uint32_t half_sp = (uint32_t)s->sp_rows / 2, half_acc = (uint32_t)s->acc_rows / 2;
    if (a_rows + b_rows > half_sp)
        return sim_assert_fail(s, "loop_conv_ws: tile needs %llu scratchpad rows > half (%u)",
                               (unsigned long long)(a_rows + b_rows), half_sp);
    if (och_blocks * pix > half_acc)
        return sim_assert_fail(s, "loop_conv_ws: tile needs %llu accumulator rows > half (%u)",
                               (unsigned long long)(och_blocks * pix), half_acc);
    const uint32_t a_plane = (uint32_t)(c.batches * irows * icols);
    const uint32_t b_plane = c.krows * c.kcols * c.kchs;
    if (a_plane > 0xFFFF || b_plane > 0xFFFF)
        return sim_assert_fail(s, "loop_conv_ws: block stride exceeds 16 bits");
    const uint32_t sel_a = c.a_spad_id ? (uint32_t)(c.a_spad_id - 1) : (uint32_t)s->loop_slot;
    const uint32_t sel_b = c.b_spad_id ? (uint32_t)(c.b_spad_id - 1) : (uint32_t)s->loop_slot;
    const uint32_t a_base = sel_a * half_sp;
    const uint32_t b_base = (sel_b + 1) * half_sp - (uint32_t)b_rows;
    const uint32_t c_base = (uint32_t)s->conv_acc_half * half_acc;
    const uint32_t acc_bit = 1u << 31, accum_bit = 1u << 30;
    const uint32_t mbl = (uint32_t)s->mbl;
    const int load_bias = c.bias && !c.no_bias;

    /* The FSM programs its own load configs and A stride, as LoopConv does. */
    if (load_bias && sim_exec(s, F_CONFIG, config_ld_rs1(2, 0, dim), 0, &f.ld)) return -1;
    if (sim_exec(s, F_CONFIG, config_ld_rs1(0, 0, a_plane), c.in_stride, &f.ld)) return -1;
    if (sim_exec(s, F_CONFIG, config_ld_rs1(1, 0, b_plane), c.weight_stride, &f.ld)) return -1;
    if (sim_exec(s, F_CONFIG, (F(stride) << 16) | (1u << 7) | 0u, F(1) << 48, &f.ex)) return -1;

    if (load_bias)
        for (uint32_t ob = 0; ob < och_blocks; ob++) {
            uint32_t oc = umin(dim, c.pochs - ob * dim);
            for (uint32_t b = 0; b < c.batches; b++)
                for (uint32_t orow = 0; orow < c.orows; orow++)
                    for (uint32_t ocol = 0; ocol < c.ocols; ocol += dim) {
                        uint32_t n = umin(dim, c.ocols - ocol);
                        uint32_t row = c_base + (uint32_t)(ob * pix) + (b * c.orows + orow) * c.ocols + ocol;
                        if (sim_exec(s, F_MVIN3, c.bias + F(ob) * dim * 4, operand(n, oc, acc_bit | row),
                                     &f.ld))
                            return -1;
                    }
        }
    if (wrapped) {
        if (sim_conv_wrapped_input(s, &f, &c, irows, icols, a_base,
                                   half_sp - (uint32_t)b_rows)) return -1;
    } else {
        for (uint32_t b = 0; b < c.batches; b++)
            for (uint32_t r = 0; r < irows; r++) {
                const int pad_row = r < c.upad || r >= irows - c.dpad;
                for (uint32_t kb = 0; kb < kch_blocks; kb += mbl) {
                    const uint32_t ncols = umin(umin(mbl, kch_blocks - kb) * dim, c.kchs - kb * dim);
                    uint32_t col = 0;
                    while (col < icols) {
                        uint32_t seg_end;
                        int zero;
                        if (pad_row) { seg_end = icols; zero = 1; }
                        else if (col < c.lpad) { seg_end = c.lpad; zero = 1; }
                        else if (col < icols - c.rpad) { seg_end = icols - c.rpad; zero = 0; }
                        else { seg_end = icols; zero = 1; }
                        const uint32_t n = umin(dim, seg_end - col);
                        const uint32_t dst = a_base + kb * a_plane + (b * irows + r) * icols + col;
                        uint64_t addr = 0;
                        if (!zero)
                            addr = c.input + ((F(b) * c.in_row_dim + (r - c.upad)) * c.in_col_dim +
                                              (col - c.lpad)) * c.in_stride + F(kb) * dim;
                        if (sim_exec(s, F_MVIN, addr, operand(n, ncols, dst), &f.ld)) return -1;
                        col += n;
                    }
                }
            }
    }
    for (uint32_t ob = 0; ob < och_blocks; ob += mbl) {
        const uint32_t ncols = umin(umin(mbl, och_blocks - ob) * dim, c.pochs - ob * dim);
        for (uint32_t kr = 0; kr < c.krows; kr++)
            for (uint32_t kc = 0; kc < c.kcols; kc++)
                for (uint32_t kb = 0; kb < kch_blocks; kb++) {
                    const uint32_t nrows = umin(dim, c.kchs - kb * dim);
                    const uint32_t dst = b_base + ob * b_plane + (kr * c.kcols + kc) * c.kchs + kb * dim;
                    const uint64_t addr = c.weights + ((F(kr) * c.kernel_dim + kc) * c.in_channels +
                                                       F(kb) * dim) * c.weight_stride + F(ob) * dim;
                    if (sim_exec(s, F_MVIN2, addr, operand(nrows, ncols, dst), &f.ld)) return -1;
                }
    }
    fsm_ex_after_loads(&f);
    for (uint32_t ob = 0; ob < och_blocks; ob++) {
        const uint32_t oc = umin(dim, c.pochs - ob * dim);
        for (uint32_t kr = 0; kr < c.krows; kr++)
            for (uint32_t kc = 0; kc < c.kcols; kc++)
                for (uint32_t kb = 0; kb < kch_blocks; kb++) {
                    const uint32_t kn = umin(dim, c.kchs - kb * dim);
                    const int first = kr == 0 && kc == 0 && kb == 0;
                    const uint32_t b_addr = b_base + ob * b_plane + (kr * c.kcols + kc) * c.kchs + kb * dim;
                    int new_weights = 1;
                    for (uint32_t b = 0; b < c.batches; b++)
                        for (uint32_t orow = 0; orow < c.orows; orow++)
                            for (uint32_t ocol = 0; ocol < c.ocols; ocol += dim) {
                                const uint32_t n = umin(dim, c.ocols - ocol);
                                const uint32_t crow = c_base + (uint32_t)(ob * pix) +
                                                      (b * c.orows + orow) * c.ocols + ocol;
                                /* no_bias with a bias address moves zeros in; address 0
                                 * skips the load and accumulates (libgemmini) */
                                const int overwrite = first && c.no_bias && c.bias;
                                const uint32_t caddr = acc_bit | (overwrite ? 0 : accum_bit) | crow;
                                const uint32_t arow = a_base + kb * a_plane +
                                                      (b * irows + orow * stride + kr * kdil) * icols +
                                                      ocol * stride + kc * kdil;
                                const uint64_t bd = new_weights ? operand(kn, oc, b_addr)
                                                                : operand(dim, dim, GARBAGE_LADDR);
                                if (sim_exec(s, F_PRELOAD, bd, operand(n, oc, caddr), &f.ex)) return -1;
                                if (sim_exec(s, new_weights ? F_COMPUTE_PRELOADED : F_COMPUTE_ACCUMULATED,
                                             operand(n, kn, arow), operand(dim, dim, GARBAGE_LADDR), &f.ex))
                                    return -1;
                                new_weights = 0;
                            }
                }
    }
    if (c.output) {
        fsm_st_after_ex(&f);
        for (uint32_t ob = 0; ob < och_blocks; ob++) {
            const uint32_t oc = umin(dim, c.pochs - ob * dim);
            for (uint32_t b = 0; b < c.batches; b++)
                for (uint32_t orow = 0; orow < c.orows; orow++)
                    for (uint32_t ocol = 0; ocol < c.ocols; ocol += dim) {
                        const uint32_t n = umin(dim, c.ocols - ocol);
                        const uint32_t row = c_base + (uint32_t)(ob * pix) + (b * c.orows + orow) * c.ocols + ocol;
                        const uint64_t addr = c.output + ((F(b) * c.out_row_dim + orow) * c.out_col_dim + ocol) *
                                                             c.out_stride + F(ob) * dim;
                        if (sim_exec(s, F_MVOUT, addr, operand(n, oc, acc_bit | row), &f.st)) return -1;
                    }
        }
        s->conv_acc_half ^= 1;
    }
    return 0;
}
