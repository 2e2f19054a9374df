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
from dlac.passes.sqnr import sqnr_db


def onnx_sqnr(model: str | Path, quantized: Operation, inputs: list[np.ndarray]) -> float:
    """SQNR (dB) of `quantized`'s int8 reference vs onnxruntime fp32 on `inputs` (in the
    order of the model's inputs)."""
    import onnxruntime as ort

    sess = ort.InferenceSession(str(model), providers=["CPUExecutionProvider"])
    feeds = {i.name: x for i, x in zip(sess.get_inputs(), inputs, strict=True)}
    want = sess.run(None, feeds)
    return sqnr_db(want, run_reference(quantized, inputs))
