"""How close the int8 program is to the float model: SQNR of the bit-exact int8 reference
against onnxruntime's fp32 run of the original ONNX file on the same inputs.

The int8 reference is what the simulator reproduces bit for bit, so this is also the
accuracy of the emitted C. All outputs count together (their signal and noise summed).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from dlac.ir.core import Operation
from dlac.ir.semantics.qgraph import run_reference


def sqnr_db(want: list[np.ndarray], got: list[np.ndarray]) -> float:
    """10 log10(signal power / noise power) over all outputs."""
    signal = sum(float((np.asarray(w, np.float64) ** 2).sum()) for w in want)
    noise = sum(float(((np.asarray(w, np.float64) - np.asarray(g, np.float64)) ** 2).sum())
                for w, g in zip(want, got, strict=True))
    return float(10 * np.log10(max(signal, 1e-300) / max(noise, 1e-300)))


def onnx_sqnr(model: str | Path, quantized: Operation, inputs: list[np.ndarray]) -> float:
    """SQNR (dB) of `quantized`'s int8 reference vs onnxruntime fp32 on `inputs` (in the
    order of the model's inputs)."""
    import onnxruntime as ort

    sess = ort.InferenceSession(str(model), providers=["CPUExecutionProvider"])
    feeds = {i.name: x for i, x in zip(sess.get_inputs(), inputs, strict=True)}
    want = sess.run(None, feeds)
    return sqnr_db(want, run_reference(quantized, inputs))
