"""The compile flow's front half as functions: import, float graph clean-up, quantize, lower.

Each stage takes and returns a module and verifies it, so the CLI can stop after any of
them (`--emit graph|qgraph|loops`) and tests can drive them one at a time.
"""

from __future__ import annotations

from pathlib import Path

from dlac.frontend.importer import import_onnx
from dlac.ir.core import Operation
from dlac.ir.verifier import verify
from dlac.passes.equalize import Equalize
from dlac.passes.fold_batchnorm import FoldBatchNorm
from dlac.passes.fold_constants import FoldConstants
from dlac.passes.fold_qdq import FoldQdq
from dlac.passes.fuse_epilogue import FuseEpilogue
from dlac.passes.fuse_gelu import FuseGelu
from dlac.passes.fuse_layernorm import FuseLayerNorm
from dlac.passes.fuse_lrn import FuseLrn
from dlac.passes.legalize_conv import LegalizeConv
from dlac.passes.lower_to_loops import LowerToLoops
from dlac.passes.pass_base import run_pass
from dlac.passes.permute_channels import PermuteChannels
from dlac.passes.quantize import Quantize
from dlac.passes.unroll_rnn import UnrollRnn

STAGES = ("graph", "qgraph", "loops")


def import_stage(path: str | Path, input_shapes: dict[str, tuple[int, ...]] | None = None,
                 load_weights: bool = True) -> Operation:
    """ONNX file -> `graph` dialect, exactly as the model says (no folding)."""
    module = import_onnx(path, input_shapes, load_weights)
    verify(module)
    return module


def prepare_stage(module: Operation) -> Operation:
    """Float clean-up before quantization: constants, QDQ, LSTM/GRU unrolled, BatchNorm,
    GELU, layer norms, decomposed LRN, epilogues."""
    for p in (FoldConstants(), FoldQdq(), FoldConstants(), UnrollRnn(), FoldBatchNorm(),
              FuseGelu(),
              FuseLayerNorm(), FuseLrn(), FuseEpilogue()):
        run_pass(p, module)
    verify(module)
    return module


def quantize_stage(module: Operation, calib: str | None = None, samples: int = 2,
                   seed: int = 0, method: str = "minmax", weight_groups: int = 1,
                   bias_correction: bool = False, equalize: bool = False,
                   sensitivity: int = 0, weight_splits: int = 1,
                   int16_host: bool = True, wide_activations: int = 0) -> Operation:
    """int8 `qgraph` ops: activation ranges by `method` on `calib` (or seeded inputs),
    conv weights with up to `weight_groups` scales per layer (see passes/channel_groups),
    with `bias_correction`, unpadded convs' biases corrected for the weights' rounding;
    `equalize` first equalises channel ranges across conv pairs (passes/equalize);
    `weight_splits` > 1 lets a dense conv's runs of consecutive output channels have
    their own weight scales (one call each, no regrouping); `sensitivity` > 0 records
    that many layers' estimated SQNR gains (passes/sensitivity); `int16_host` carries
    host-only residual streams at int16 (passes/wide_tensors); `wide_activations` > 0
    carries that many table outputs into Gemmini convs/matmuls as two int8 digits
    (passes/wide_activations)."""
    if equalize:
        run_pass(Equalize(), module)
    if weight_splits > 1:
        run_pass(PermuteChannels(max_splits=weight_splits), module)
    run_pass(Quantize(calib=str(calib or ""), samples=samples, seed=seed, method=method,
                      weight_groups=weight_groups, bias_correction=bias_correction,
                      sensitivity=sensitivity, weight_splits=weight_splits,
                      wide=int16_host, wide_activations=wide_activations), module)
    run_pass(LegalizeConv(), module)
    verify(module)
    return module


def lower_stage(module: Operation) -> Operation:
    run_pass(LowerToLoops(), module)
    verify(module)
    return module


def run_to(stage: str, path: str | Path, input_shapes: dict[str, tuple[int, ...]] | None = None,
           calib: str | None = None, load_weights: bool = True, method: str = "minmax",
           weight_groups: int = 1, bias_correction: bool = False, equalize: bool = False,
           weight_splits: int = 1, int16_host: bool = True,
           wide_activations: int = 0) -> Operation:
    """Run the frontend up to and including `stage`."""
    module = import_stage(path, input_shapes, load_weights)
    if stage == "graph":
        return module
    module = quantize_stage(prepare_stage(module), calib, method=method,
                            weight_groups=weight_groups, bias_correction=bias_correction,
                            equalize=equalize, weight_splits=weight_splits,
                            int16_host=int16_host, wide_activations=wide_activations)
    if stage == "qgraph":
        return module
    return lower_stage(module)
