"""Re-measure chosen designs on the simulator (the search itself runs on the model).

The co-design loop ranks designs with the analytical evaluator; the few designs that
matter (the chosen one and the default-Gemmini baselines) are then timed on the bundled
simulator, layer by layer, with exactly the chosen mappings. A layer the simulator cannot
run yet is listed in `skipped` and its model gets no simulated total. Bit-exact validation
of the emitted model C is the backends' job (`report.write_outputs(emit_model=...)`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from dlac.passes.mapping import MappingBatch
from dlac.passes.mapping.flat_depthwise import from_mapping

from .errors import DseError
from .evaluators import Evaluator, SimEvaluator
from .lowering import FLAT, overhead
from .nested import HwResult, NestedEvaluator


def measure(nested: NestedEvaluator, result: HwResult,
            evaluator: Evaluator | None = None) -> dict[str, Any]:
    """Per-layer and per-model cycles/energy/EDP of `result`'s mappings on `evaluator`
    (default: the simulator); a model's totals include its CPU steps (the host model) and
    its unmapped Gemmini calls (accel_steps.py)."""
    ev = evaluator or SimEvaluator()
    target = result.target
    layers: dict[str, dict[str, float]] = {}
    skipped: dict[str, str] = {}
    for h, best in result.layers.items():
        mapped = best.mapped
        extra_cycles, extra_energy = overhead(best.layer, best.lowering)
        try:
            if best.lowering == FLAT:
                tiles = np.array([from_mapping(mapped, target.dim, best.mapping)])
                cost = ev.evaluate_flat(mapped, target, tiles)
            else:
                cost = ev.evaluate(mapped, target,
                                   MappingBatch.from_mappings(mapped, [best.mapping]))
        except DseError as err:
            skipped[best.layer.name] = str(err)
            continue
        if not cost.cycles[0] == cost.cycles[0]:
            skipped[best.layer.name] = f"the {ev.name} evaluator rejected the mapping"
            continue
        layers[h] = {"layer": best.layer.name, "lowering": best.lowering,
                     "cycles": float(cost.cycles[0]) + extra_cycles,
                     "energy_pj": float(cost.energy_pj[0]) + extra_energy,
                     "model_cycles": best.cycles, "model_energy_pj": best.energy_pj}
    models: dict[str, dict[str, float]] = {}
    for name, workload in nested.models.items():
        hashes = [layer.workload_hash() for layer, _ in workload]
        if not all(h in layers for h in hashes):
            continue
        fixed_c, fixed_e = nested.fixed(name, target)
        cycles = fixed_c + sum(n * layers[layer.workload_hash()]["cycles"]
                               for layer, n in workload)
        energy = fixed_e + sum(n * layers[layer.workload_hash()]["energy_pj"]
                               for layer, n in workload)
        models[name] = {"cycles": cycles, "energy_pj": energy, "edp": cycles * energy}
    return {"evaluator": ev.name, "target": target.name, "models": models,
            "layers": list(layers.values()), "skipped": skipped}
