"""What the ops mean: fp32 numpy semantics of the `graph` dialect (`graph`) and the
bit-exact integer reference of the `qgraph` dialect (`qgraph`), on Gemmini's arithmetic
(`arith`). Every layer that needs an op's meaning (constant folding, calibration, the
quantizer, data-movement lowering, validation of emitted C) imports it from here.
"""
