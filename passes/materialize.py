"""Attach a mapping (a design point's software knobs) to every accelerated kernel."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path

from dlac.errors import DlacError
from dlac.ir.core import Operation
from dlac.ir.dialects.loop import KernelOp
from dlac.passes.fuse_max_pool import kernel_pool
from dlac.passes.mapping import ConvLayer, Mapping, MappingSpace, choose, layer_from_dict
from dlac.passes.nest import kernels, target_of
from dlac.passes.pass_base import ModulePass, PassError


def layer_of(kernel: KernelOp):  # noqa: ANN201 (returns a mapping-library Layer)
    """The kernel's layer shape, as the mapping library describes it.

    Taken from a `layer` attribute when present, else derived from the kernel's buffers
    (NHWC input, HWIO weights) and its stride/padding/dilation attributes; a dense conv on
    channel slices of wider buffers carries their row strides, and a conv whose max pool
    fuse-max-pool will fold into it carries the pool (both change what it costs).
    """
    shape = kernel.attr("layer")
    try:
        data = dict(shape) if shape is not None else _derive_shape(kernel)
        layer = layer_from_dict({**data, "name": kernel.attr("sym_name")})
    except (TypeError, KeyError, DlacError) as err:
        raise kernel.error(f"has no mappable layer shape: {err}") from None
    if not isinstance(layer, ConvLayer) or layer.depthwise:
        return layer
    layer = replace(layer, **_strides(kernel, layer))
    pool = kernel_pool(kernel)
    if pool is None:
        return layer
    size, stride, padding = pool
    return replace(layer, pool_size=size, pool_stride=stride, pool_padding=padding)


def _strides(kernel: KernelOp, layer: ConvLayer) -> dict[str, int]:
    """The row strides of a dense conv reading or writing channel slices of wider
    buffers (only those that differ from the dense layout)."""
    roles = str(kernel.attr("roles") or "")
    if len(roles) != len(kernel.operands) or not all(r in roles for r in "IWO"):
        return {}
    width = {r: int(kernel.operands[roles.index(r)].type.shape[-1]) for r in "IWO"}
    dense = {"I": layer.in_channels, "W": layer.out_channels, "O": layer.out_channels}
    names = {"I": "in_stride", "W": "weight_stride", "O": "out_stride"}
    return {names[r]: width[r] for r in "IWO" if width[r] != dense[r]}


def mapped_layer(kernel: KernelOp, dims: str | None = None):  # noqa: ANN201
    """The layer a kernel's mapping (or one with `dims`) tiles: the kernel's own, or, for
    a matmul mapping ("IJK") of a pointwise conv, the matmul that conv runs as."""
    layer = layer_of(kernel)
    if dims is None:
        data = kernel.attr("mapping")
        dims = str(dict(data)["dims"]) if data is not None else None
    if dims != "IJK" or layer.kind == "matmul":
        return layer
    if not layer.pointwise:
        raise kernel.error(f"a matmul mapping fits only a 1x1, stride-1, unpadded conv, not "
                           f"{layer.describe()}")
    return layer.as_matmul()


def _one(kernel: KernelOp, key: str) -> int:
    values = {int(v) for v in kernel.attr(key) or [1]}
    if len(values) != 1:
        raise PassError(f"{key} {sorted(values)} differ per axis")
    return values.pop()


def _derive_shape(kernel: KernelOp) -> dict[str, object]:
    kind = str(kernel.attr("kind"))
    roles = str(kernel.attr("roles") or "")
    dims = dict(kernel.attr("dims"))
    if kind in ("conv", "conv_dw"):
        batch, in_rows, in_cols, _ = kernel.operands[roles.index("I")].type.shape
        k_rows, k_cols, k_in, w_out = kernel.operands[roles.index("W")].type.shape
        depthwise = kind == "conv_dw"
        return {"kind": "conv", "batch": batch, "in_channels": w_out if depthwise else k_in,
                "out_channels": w_out if depthwise else int(dims["K"]), "in_rows": in_rows,
                "in_cols": in_cols, "kernel_rows": k_rows, "kernel_cols": k_cols,
                "stride": _one(kernel, "strides"), "padding": _one(kernel, "pads"),
                "dilation": _one(kernel, "dilations"), "groups": w_out if depthwise else 1,
                "has_bias": "B" in roles}
    if kind == "matmul" and "B" not in dims:
        return {"kind": "matmul", "i": int(dims["I"]), "j": int(dims["J"]),
                "k": int(dims["K"]), "has_bias": "D" in roles}
    raise PassError(f"kernel kind '{kind}' with dims {sorted(dims)} is not a mapped layer")


def mappable(kernel: KernelOp) -> bool:
    """Whether the mapping passes apply (conv and matmul layers, not resadd etc.)."""
    return kernel.attr("layer") is not None or (
        kernel.attr("kind") in ("conv", "conv_dw", "matmul")
        and "B" not in dict(kernel.attr("dims")))


@dataclass(frozen=True)
class Materialize(ModulePass):
    """Choose each kernel's mapping and record it as the `mapping` attribute.

    `mapper` is heuristic (Gemmini's own tiled_*_auto choice), random, exhaustive or
    analytical-best; `point` names a JSON design point `{"kernels": {name: mapping}}` whose
    entries override the mapper (each is checked for legality on the target). With
    `keep`, kernels that already carry a mapping (e.g. from the co-design search) keep it.

    Before:
        "loop.kernel"(...) ({...}) {sym_name = "fc", kind = "matmul",
            layer = {kind = "matmul", I = 64, J = 64, K = 64, ...}, ...}
    After (default 16x16 Gemmini, heuristic):
        "loop.kernel"(...) ({...}) {..., mapping = {dims = "IJK", tiles = [64, 64, 64],
            perm = "IJK", dataflow = "WS", double_buffer = true}}
    """

    name = "materialize"
    mapper: str = "heuristic"
    seed: int = 0
    samples: int = 20_000
    point: str = ""
    keep: bool = False

    def apply(self, module: Operation) -> None:
        target = target_of(module)
        overrides = self._point()
        for kernel in kernels(module):
            if not mappable(kernel) or (self.keep and kernel.attr("mapping") is not None):
                continue
            layer = layer_of(kernel)
            name = str(kernel.attr("sym_name"))
            if name in overrides:
                try:
                    mapping = Mapping.from_attrs(overrides[name])
                    MappingSpace(mapped_layer(kernel, mapping.dims), target).check(mapping)
                except DlacError as err:
                    raise kernel.error(f"design point mapping is illegal: {err}") from None
            else:
                mapping = choose(layer, target, self.mapper, seed=self.seed,
                                 samples=self.samples).mapping
            kernel.set_attr("mapping", mapping.to_attrs())

    def _point(self) -> dict[str, dict]:
        if not self.point:
            return {}
        try:
            data = json.loads(Path(self.point).read_text())
        except (OSError, json.JSONDecodeError) as err:
            raise PassError(f"cannot read design point '{self.point}': {err}") from None
        found = data.get("kernels", {}) if isinstance(data, dict) else None
        if not isinstance(found, dict):
            raise PassError(f"design point '{self.point}' has no 'kernels' object")
        return found
