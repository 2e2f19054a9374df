"""Sampled legal mappings of zoo layers lower to verifying Gemmini IR and stay bit-exact."""

from __future__ import annotations

import tempfile
from functools import cache
from pathlib import Path

import pytest
from dlac.ir.dialects import gemmini
from dlac.ir.dialects.loop import KernelOp
from dlac.ir.target import PRESETS, Target
from dlac.ir.verifier import verify
from dlac.tools.compile_flow import map_and_lower, seeded_inputs

TARGETS = [Target.parse(name) for name in PRESETS]
QUICK = ("tiny_cnn", "mlp", "unet")
SLOW = ("mobilenetv2", "resnet50", "bert_layer")


@cache
def quantized(model: str):  # noqa: ANN201
    from dlac.flow.stages import import_stage, prepare_stage, quantize_stage
    from dlac.tools.zoo import build

    return quantize_stage(prepare_stage(import_stage(build(model))))


def emitted_bit_exact(lowered, target: Target, model: str, q) -> str:  # noqa: ANN001
    """Emit `lowered`, run it on the simulator against the quantized model's reference on
    seeded inputs, assert bit-exact outputs; returns the emitted C for further checks."""
    from dlac.flow.emit import emit
    from dlac.flow.validate import validate
    from dlac.ir.semantics.qgraph import run_reference

    inputs = seeded_inputs(q, 0)
    with tempfile.TemporaryDirectory() as tmp:
        emitted = emit(lowered, target, Path(tmp) / "out", model)
        code = "".join(p.read_text() for p in sorted((Path(tmp) / "out").glob("*.c")))
        report = validate(emitted, lowered, run_reference(q, inputs), inputs, target,
                          Path(tmp) / "b")
    assert report.bit_exact, (model, target.name, report.outputs)
    return code


def _lower_samples(model: str, target: Target, seeds: range) -> None:
    for seed in seeds:
        lowered = map_and_lower(quantized(model), target, "random", seed)
        verify(lowered)
        ops = list(lowered.walk())
        assert not any(isinstance(op, KernelOp) for op in ops)
        tiled = [op for op in ops if isinstance(op, gemmini.TiledConvOp | gemmini.TiledMatmulOp)]
        assert any(op.attr("tiles") is not None for op in tiled), "no layer got a mapping"


@pytest.mark.parametrize("target", TARGETS, ids=lambda t: t.name)
@pytest.mark.parametrize("model", QUICK)
def test_random_mappings_lower_and_verify(model: str, target: Target) -> None:
    _lower_samples(model, target, range(3))


@pytest.mark.slow
@pytest.mark.parametrize("target", TARGETS, ids=lambda t: t.name)
@pytest.mark.parametrize("model", SLOW)
def test_random_mappings_lower_and_verify_big_models(model: str, target: Target) -> None:
    _lower_samples(model, target, range(2))


@pytest.mark.slow
@pytest.mark.parametrize("target", TARGETS, ids=lambda t: t.name)
@pytest.mark.parametrize("model", QUICK)
def test_random_mappings_bit_exact_on_simulator(model: str, target: Target) -> None:
    q = quantized(model)
    for seed in (1, 2):
        emitted_bit_exact(map_and_lower(q, target, "random", seed), target, model, q)
