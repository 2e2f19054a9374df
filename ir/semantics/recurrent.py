"""Float semantics of ONNX LSTM and GRU (default activations, no sequence_lens), in the
time-major layout: the reference the unrolled graph (passes/unroll_rnn) must reproduce.

Gate order is ONNX's: LSTM i, o, f, c; GRU z, r, h. Weights are per direction:
W [D, G*H, I], R [D, G*H, H], B [D, 2*G*H] (input bias, then recurrent bias).
"""

from __future__ import annotations

import numpy as np

Arr = np.ndarray


def _sigmoid(x: Arr) -> Arr:
    return 1.0 / (1.0 + np.exp(-x))


def directions(direction: str) -> list[bool]:
    """Per direction: does it run backwards in time."""
    return {"forward": [False], "reverse": [True], "bidirectional": [False, True]}[direction]


def lstm(x: Arr, w: Arr, r: Arr, b: Arr | None, h0: Arr | None, c0: Arr | None,
         direction: str) -> tuple[Arr, Arr, Arr]:
    """x [T, B, I] -> (Y [T, D, B, H], Y_h [D, B, H], Y_c [D, B, H])."""
    t_len, batch, _ = x.shape
    n_dir, hidden = w.shape[0], r.shape[-1]
    ys = np.zeros((t_len, n_dir, batch, hidden), np.float32)
    yh = np.zeros((n_dir, batch, hidden), np.float32)
    yc = np.zeros((n_dir, batch, hidden), np.float32)
    for d, backwards in enumerate(directions(direction)):
        bias = np.zeros(8 * hidden, np.float32) if b is None else b[d]
        bias = bias[:4 * hidden] + bias[4 * hidden:]
        h = np.zeros((batch, hidden), np.float32) if h0 is None else h0[d]
        c = np.zeros((batch, hidden), np.float32) if c0 is None else c0[d]
        for t in (range(t_len - 1, -1, -1) if backwards else range(t_len)):
            g = x[t] @ w[d].T + h @ r[d].T + bias
            i, o, f, cc = (g[:, k * hidden:(k + 1) * hidden] for k in range(4))
            c = _sigmoid(f) * c + _sigmoid(i) * np.tanh(cc)
            h = _sigmoid(o) * np.tanh(c)
            ys[t, d] = h
        yh[d], yc[d] = h, c
    return ys, yh, yc


def gru(x: Arr, w: Arr, r: Arr, b: Arr | None, h0: Arr | None, direction: str,
        linear_before_reset: bool) -> tuple[Arr, Arr]:
    """x [T, B, I] -> (Y [T, D, B, H], Y_h [D, B, H])."""
    t_len, batch, _ = x.shape
    n_dir, hidden = w.shape[0], r.shape[-1]
    ys = np.zeros((t_len, n_dir, batch, hidden), np.float32)
    yh = np.zeros((n_dir, batch, hidden), np.float32)
    for d, backwards in enumerate(directions(direction)):
        bias = np.zeros(6 * hidden, np.float32) if b is None else b[d]
        wb, rb = bias[:3 * hidden], bias[3 * hidden:]
        h = np.zeros((batch, hidden), np.float32) if h0 is None else h0[d]
        for t in (range(t_len - 1, -1, -1) if backwards else range(t_len)):
            xg = x[t] @ w[d].T + wb
            z = _sigmoid(xg[:, :hidden] + h @ r[d, :hidden].T + rb[:hidden])
            rr = _sigmoid(xg[:, hidden:2 * hidden] + h @ r[d, hidden:2 * hidden].T
                          + rb[hidden:2 * hidden])
            if linear_before_reset:
                hh = rr * (h @ r[d, 2 * hidden:].T + rb[2 * hidden:])
            else:
                hh = (rr * h) @ r[d, 2 * hidden:].T + rb[2 * hidden:]
            n = np.tanh(xg[:, 2 * hidden:] + hh)
            h = (1 - z) * n + z * h
            ys[t, d] = h
        yh[d] = h
    return ys, yh


_DEFAULTS = {"lstm": ["sigmoid", "tanh", "tanh"], "gru": ["sigmoid", "tanh"]}


def unsupported(kind: str, attr: dict, seq_lens: Arr | None, peepholes: Arr | None,
                t_len: int) -> str | None:
    """Why an LSTM/GRU node is outside what dlac runs (None if it is inside): default
    activations only, no clip, no coupled input/forget gate, no peepholes, and
    sequence_lens absent or all equal to the sequence length."""
    n_dir = len(directions(str(attr.get("direction") or "forward")))
    acts = [str(a).lower() for a in attr.get("activations") or _DEFAULTS[kind] * n_dir]
    if acts != _DEFAULTS[kind] * n_dir:
        return f"activations {acts} (only the defaults {_DEFAULTS[kind]})"
    if attr.get("clip") is not None:
        return "clip"
    if int(attr.get("input_forget") or 0):
        return "input_forget = 1"
    if peepholes is not None and np.any(peepholes):
        return "peephole weights"
    if seq_lens is not None and np.any(np.asarray(seq_lens) != t_len):
        return "sequence_lens shorter than the sequence"
    return None
