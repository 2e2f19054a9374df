"""Pass registry: kebab-case name -> the module that defines it, imported on first use.

Adding a pass means one file in passes/ plus one line here; nothing is imported until a
pipeline names it, so `dlac-opt` starts fast however many passes exist.
"""

from __future__ import annotations

import importlib

from dlac.passes.pass_base import ModulePass, PassError

_PASSES: dict[str, str] = {
    "allocate-buffers": "dlac.passes.allocate_buffers:AllocateBuffers",
    "avg-pool-to-gemmini": "dlac.passes.avg_pool_to_gemmini:AvgPoolToGemmini",
    "compose-gathers": "dlac.passes.compose_gathers:ComposeGathers",
    "dce": "dlac.passes.dce:DeadCodeElimination",
    "fold-batchnorm": "dlac.passes.fold_batchnorm:FoldBatchNorm",
    "fold-constants": "dlac.passes.fold_constants:FoldConstants",
    "fold-qdq": "dlac.passes.fold_qdq:FoldQdq",
    "fuse-epilogue": "dlac.passes.fuse_epilogue:FuseEpilogue",
    "fuse-gelu": "dlac.passes.fuse_gelu:FuseGelu",
    "fuse-layernorm": "dlac.passes.fuse_layernorm:FuseLayerNorm",
    "fuse-lrn": "dlac.passes.fuse_lrn:FuseLrn",
    "fuse-max-pool": "dlac.passes.fuse_max_pool:FuseMaxPool",
    "equalize": "dlac.passes.equalize:Equalize",
    "permute-channels": "dlac.passes.permute_channels:PermuteChannels",
    "hoist-elementwise": "dlac.passes.hoist_elementwise:HoistElementwise",
    "legalize-conv": "dlac.passes.legalize_conv:LegalizeConv",
    "lower-to-loops": "dlac.passes.lower_to_loops:LowerToLoops",
    "quantize": "dlac.passes.quantize:Quantize",
    "lower-data-movement": "dlac.passes.lower_data_movement:LowerDataMovement",
    "lower-to-gemmini": "dlac.passes.lower_to_gemmini:LowerToGemmini",
    "map-spatial": "dlac.passes.map_spatial:MapSpatial",
    "materialize": "dlac.passes.materialize:Materialize",
    "reorder": "dlac.passes.reorder:Reorder",
    "strip-locations": "dlac.passes.strip_locations:StripLocations",
    "test-fail": "dlac.passes.test_fail:TestFail",
    "tile": "dlac.passes.tile:Tile",
    "unroll-rnn": "dlac.passes.unroll_rnn:UnrollRnn",
}


def register(name: str, target: str) -> None:
    """Make a pass available under `name`; `target` is 'package.module:ClassName'."""
    if name in _PASSES and _PASSES[name] != target:
        raise ValueError(f"pass '{name}' is already registered to {_PASSES[name]}")
    _PASSES[name] = target


def available_passes() -> list[str]:
    return sorted(_PASSES)


def pass_class(name: str) -> type[ModulePass]:
    target = _PASSES.get(name)
    if target is None:
        raise PassError(f"unknown pass '{name}' (available: {', '.join(available_passes())})")
    module_name, _, cls_name = target.partition(":")
    cls = getattr(importlib.import_module(module_name), cls_name)
    if cls.name != name:
        raise ValueError(f"{target} declares name '{cls.name}', registered as '{name}'")
    return cls
