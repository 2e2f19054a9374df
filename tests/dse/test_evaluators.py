"""Both evaluators behind one interface; the sim one runs the timing-only simulator."""

from __future__ import annotations

import numpy as np
import pytest
from dlac.dse.errors import DseError
from dlac.dse.evaluators import make_evaluator
from dlac.ir.target import Target
from dlac.passes.mapping import ConvLayer, MappingBatch, MatmulLayer, heuristic_mapping

MM = MatmulLayer("fc", i=64, j=64, k=64)
CONV = ConvLayer("conv", batch=1, in_channels=16, out_channels=16, in_rows=8, in_cols=8,
                 kernel_rows=3, kernel_cols=3, padding=1)


@pytest.mark.parametrize("layer", [MM, CONV], ids=["matmul", "conv"])
def test_sim_and_analytical_agree_roughly(layer) -> None:
    target = Target()
    batch = MappingBatch.from_mappings(layer, [heuristic_mapping(layer, target)])
    ana = make_evaluator("analytical").evaluate(layer, target, batch)
    sim = make_evaluator("sim").evaluate(layer, target, batch)
    for cost in (ana, sim):
        assert cost.cycles.shape == (1,) and np.isfinite(cost.cycles).all()
        assert (cost.energy_pj > 0).all() and (cost.edp > 0).all()
    assert 0.2 < sim.cycles[0] / ana.cycles[0] < 5.0
    assert 0.2 < sim.energy_pj[0] / ana.energy_pj[0] < 5.0


def test_sim_rejects_depthwise_with_clear_error() -> None:
    dw = ConvLayer("dw", batch=1, in_channels=16, out_channels=16, in_rows=8, in_cols=8,
                   kernel_rows=3, kernel_cols=3, padding=1, groups=16)
    batch = MappingBatch.from_mappings(dw, [heuristic_mapping(dw, Target())])
    with pytest.raises(DseError, match="depthwise"):
        make_evaluator("sim").evaluate(dw, Target(), batch)


def test_unknown_evaluator() -> None:
    with pytest.raises(DseError, match="unknown evaluator"):
        make_evaluator("rtl")
