"""Evaluators: what one (layer, mapping, target) costs, behind one interface.

`analytical` scores whole batches with the vectorised model (passes/mapping/analytical.py);
`sim` runs each mapping on the bundled simulator in timing-only mode (the calibration path:
explicit tiles plus a DRAM loop permutation). Both return cycles and energy in pJ per
mapping, so the driver and the database never care which one ran.
"""

from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
from dlac.ir import hwcost
from dlac.ir.target import Target
from dlac.passes.depthwise_groups import dense_perm, group_width
from dlac.passes.mapping import (
    AnalyticalModel,
    ConvLayer,
    Layer,
    Mapping,
    MappingBatch,
    MappingError,
    MatmulLayer,
    analytical,
    heuristic_mapping,
)
from dlac.passes.mapping.flat_depthwise import FlatDepthwiseModel
from dlac.sim import SimError, Simulator, build, timing

from .accel_steps import AccelStep, timed_step_cost
from .depthwise import group_calls
from .errors import DseError
from .pooled import analytical_pooled, emitted_tiles
from .registry import EVALUATORS
from .resadd import resadd_cost


@dataclass(frozen=True)
class LayerCost:
    """Per-mapping results of one batch (arrays of equal length)."""

    cycles: np.ndarray
    energy_pj: np.ndarray
    utilization: np.ndarray

    @property
    def edp(self) -> np.ndarray:
        return self.cycles * self.energy_pj

    @classmethod
    def of(cls, layer: Layer, target: Target, cycles: np.ndarray,
           energy_pj: np.ndarray) -> LayerCost:
        """With the utilisation of `layer`'s own MACs on the whole array."""
        return cls(cycles, energy_pj, layer.macs / (cycles * target.dim * target.dim))


def _digest(paths: list[Path]) -> str:
    h = hashlib.sha256()
    for p in sorted(paths):
        h.update(p.name.encode())
        h.update(p.read_bytes())
    return h.hexdigest()[:12]


class Evaluator(ABC):
    """Costs mappings of a layer on a target. `vectorised` evaluators make large batches
    cheap, so the SW stage may score thousands of candidates per layer."""

    name = "evaluator"
    vectorised = False

    @cached_property
    def cache_key(self) -> str:
        """Name plus a digest of the cost model's sources: cached results of an older
        model are never reused."""
        return f"{self.name}@{_digest(self.sources())}"

    @abstractmethod
    def sources(self) -> list[Path]:
        """The files whose contents determine this evaluator's numbers."""

    @abstractmethod
    def evaluate(self, layer: Layer, target: Target, batch: MappingBatch) -> LayerCost:
        """Cost of every mapping of `batch`; NaN cycles for a mapping that cannot run."""

    @abstractmethod
    def evaluate_flat(self, layer: ConvLayer, target: Target, tiles: np.ndarray) -> LayerCost:
        """Cost of a depthwise conv run flat with each (porows, pgroups) row of `tiles`."""

    def step_cost(self, step: AccelStep, target: Target) -> tuple[float, float]:
        """(cycles, energy_pj) of one unmapped library call (accel_steps.py) on `target`:
        timed on the timing-only simulator unless the evaluator has its own model."""
        return timed_step_cost(step, target)


@EVALUATORS.register("analytical")
class AnalyticalEvaluator(Evaluator):
    name = "analytical"
    vectorised = True

    def sources(self) -> list[Path]:
        here = Path(analytical.__file__).parent
        return [here / f for f in ("analytical.py", "capacity.py", "batch.py",
                                   "flat_depthwise.py", "heuristic.py")] + [
            Path(hwcost.__file__), Path(__file__), Path(__file__).with_name("depthwise.py"),
            Path(__file__).with_name("pooled.py"), Path(__file__).with_name("resadd.py")]

    def evaluate(self, layer: Layer, target: Target, batch: MappingBatch) -> LayerCost:
        """A depthwise conv costs the dense group calls it runs as (dse/depthwise.py), less
        the per-call CPU cost of all but one: the library loops over the groups itself; a
        conv with a fused max pool the pooled call it runs as (dse/pooled.py)."""
        if isinstance(layer, ConvLayer) and layer.pooled:
            return LayerCost.of(layer, target, *analytical_pooled(layer, target, batch))
        if not (isinstance(layer, ConvLayer) and layer.depthwise):
            cost = AnalyticalModel(layer, target).evaluate(batch)
            return LayerCost(cost.cycles, cost.energy_pj, cost.utilization)
        cycles = np.zeros(len(batch))
        energy = np.zeros(len(batch))
        for call in group_calls(layer, target, batch):
            model = AnalyticalModel(call.layer, target)
            cost = model.evaluate(call.batch)
            cycles[call.index] += call.count * (cost.cycles - model.call_cycles)
            energy[call.index] += call.count * cost.energy_pj
        cycles += AnalyticalModel(layer, target).call_cycles
        return LayerCost.of(layer, target, cycles, energy)

    def evaluate_flat(self, layer: ConvLayer, target: Target, tiles: np.ndarray) -> LayerCost:
        cycles, energy = FlatDepthwiseModel(layer, target).evaluate(tiles[:, 0], tiles[:, 1])
        return LayerCost.of(layer, target, cycles, energy)

    def step_cost(self, step: AccelStep, target: Target) -> tuple[float, float]:
        """Without a simulator (whose library is compiled per design): a matmul as
        tiled_matmul_auto tiles it (heuristic.py) through the analytical model, a resadd
        through tiled_resadd_auto's tiling and the same DMA terms (resadd.py)."""
        if step.kind == "resadd":
            return resadd_cost(*step.dims, target)
        if step.kind != "matmul":
            raise DseError(f"unknown accelerator step kind {step.kind!r}")
        layer = MatmulLayer(step.key(), *step.dims, has_bias=step.bias)
        try:
            mapping = heuristic_mapping(layer, target)
        except MappingError as err:
            raise DseError(f"{step.key()} has no Gemmini tiling on {target.name}: "
                           f"{err}") from None
        cost = self.evaluate(layer, target, MappingBatch.from_mappings(layer, [mapping]))
        return float(cost.cycles[0]), float(cost.energy_pj[0])


@EVALUATORS.register("sim")
class SimEvaluator(Evaluator):
    """Timing-only simulator runs, one per mapping (the library is built per target)."""

    name = "sim"
    vectorised = False

    def sources(self) -> list[Path]:
        return [*build.source_files(), Path(timing.__file__), Path(hwcost.__file__),
                Path(__file__)]

    def evaluate(self, layer: Layer, target: Target, batch: MappingBatch) -> LayerCost:
        """One library call per mapping, a depthwise conv's groups inside it as the
        emitted code runs them."""
        return self._timed(layer, target, [
            lambda sim, m=mapping: self._run(sim, layer, target, m)
            for mapping in batch.mappings(layer)])

    def evaluate_flat(self, layer: ConvLayer, target: Target, tiles: np.ndarray) -> LayerCost:
        if layer.in_rows != layer.in_cols:
            raise DseError(f"the sim evaluator cannot run layer {layer.name!r} "
                           f"({layer.describe()}) flat yet: non-square images lack a "
                           "timing-only entry point")
        return self._timed(layer, target, [
            lambda sim, t=(int(porows), int(pgroups)): sim.conv_dw_flat_shape(
                layer.batch, layer.in_rows, layer.groups, layer.out_rows, layer.kernel_rows,
                stride=layer.stride, padding=layer.padding, bias=layer.has_bias, tiles=t)
            for porows, pgroups in tiles])

    @staticmethod
    def _timed(layer: Layer, target: Target,
               runs: list[Callable[[Simulator], None]]) -> LayerCost:
        """Each run on a fresh timing-only simulator; NaN where the library refuses it."""
        cycles = np.full(len(runs), np.nan)
        energy = np.full(len(runs), np.nan)
        for i, run in enumerate(runs):
            sim = Simulator(target, timing_only=True)
            try:
                run(sim)
                stats = sim.stats
                cycles[i], energy[i] = stats.host_cycles, stats.energy_pj
            except SimError:
                pass
            finally:
                sim.close()
        return LayerCost.of(layer, target, cycles, energy)

    @staticmethod
    def _run(sim: Simulator, layer: Layer, target: Target, mapping: Mapping) -> None:
        args = mapping.gemmini_args(layer, target)
        if isinstance(layer, ConvLayer):
            if layer.dilation != 1 or layer.in_rows != layer.in_cols:
                raise DseError(f"the sim evaluator cannot run layer {layer.name!r} "
                               f"({layer.describe()}) yet: dilated and non-square "
                               "convolutions lack a timing-only entry point")
            if layer.depthwise:
                sim.conv_dw_shape(layer.batch, layer.in_rows, layer.groups,
                                  group_width(args["pochs"], target.dim),
                                  layer.out_rows, layer.kernel_rows, stride=layer.stride,
                                  padding=layer.padding, bias=layer.has_bias,
                                  tiles=(args["batches"], args["porows"], args["pocols"],
                                         args["krows"], args["kcols"]),
                                  perm=dense_perm(mapping.perm))
                return
            if layer.pooled:
                sim.conv_pool_shape(layer.batch, layer.in_rows, layer.in_cols,
                                    layer.in_channels, layer.out_channels, layer.out_rows,
                                    layer.out_cols, layer.kernel_rows, layer.pool,
                                    stride=layer.stride, padding=layer.padding,
                                    bias=layer.has_bias,
                                    tiles=tuple(emitted_tiles(layer, target, mapping)))
                return
            tiles = (args["batches"], args["porows"], args["pocols"], args["pochs"],
                     args["krows"], args["kcols"], args["kchs"])
            sim.conv_shape(layer.batch, layer.in_rows, layer.in_cols, layer.in_channels,
                           layer.out_channels, layer.out_rows, layer.out_cols,
                           layer.kernel_rows, stride=layer.stride, padding=layer.padding,
                           bias=layer.has_bias, tiles=tiles, perm=mapping.perm,
                           strides=layer.row_strides)
        else:
            # a layer's bias is one row (lower-to-gemmini passes repeating_bias)
            sim.matmul_shape(layer.i, layer.j, layer.k, bias=layer.has_bias,
                             tiles=(args["tile_I"], args["tile_J"], args["tile_K"]),
                             perm=mapping.perm, dataflow=mapping.dataflow,
                             repeating_bias=True)


def make_evaluator(name: str) -> Evaluator:
    """A fresh evaluator registered as `name` (one-line error for an unknown name)."""
    return EVALUATORS.get(name)()
