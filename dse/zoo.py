"""Layer lists the mapping library does not ship but the co-design benchmark needs.

U-Net (Ronneberger et al. 2015, with padded 3x3 convolutions as most ports use) at
128x128x3, batch 1: four down levels of two 3x3 convs (64..512 channels), a 1024-channel
bottleneck, four up levels. A 2x2 stride-2 transposed conv touches each input pixel once
per output quad, so it is exactly a matmul: (input pixels) x (4 x out channels) over the
in channels. Replace with the ONNX frontend's layers once it can import the model.
"""

from __future__ import annotations

from dlac.passes.mapping import ConvLayer, MatmulLayer
from dlac.passes.mapping.workloads import WORKLOADS, Workload, merge_duplicates

from .errors import DseError


def _conv3(name: str, cin: int, cout: int, size: int) -> ConvLayer:
    return ConvLayer(name, batch=1, in_channels=cin, out_channels=cout, in_rows=size,
                     in_cols=size, kernel_rows=3, kernel_cols=3, padding=1)


def unet(size: int = 128, in_channels: int = 3, classes: int = 2) -> Workload:
    out: Workload = []
    cin = in_channels
    widths = [64, 128, 256, 512]
    for level, c in enumerate(widths):
        s = size >> level
        out += [(_conv3(f"down{level}_a", cin, c, s), 1), (_conv3(f"down{level}_b", c, c, s), 1)]
        cin = c
    s = size >> len(widths)
    out += [(_conv3("bottleneck_a", cin, 1024, s), 1), (_conv3("bottleneck_b", 1024, 1024, s), 1)]
    cin = 1024
    for level, c in reversed(list(enumerate(widths))):
        out.append((MatmulLayer(f"up{level}_transpose", i=s * s, j=4 * c, k=cin), 1))
        s *= 2
        out += [(_conv3(f"up{level}_a", 2 * c, c, s), 1), (_conv3(f"up{level}_b", c, c, s), 1)]
        cin = c
    out.append((ConvLayer("head", batch=1, in_channels=cin, out_channels=classes,
                          in_rows=size, in_cols=size, kernel_rows=1, kernel_cols=1), 1))
    return merge_duplicates(out)


def bert_layer(seq: int = 128) -> Workload:
    """One BERT-base encoder layer: the 12-layer list with its counts divided by 12."""
    return [(layer, n // 12) for layer, n in WORKLOADS["bert-base"](seq)]


#: Every built-in model by name: the mapping library's lists plus the ones above.
MODELS = {**WORKLOADS, "unet": unet, "bert-layer": bert_layer}
ALIASES = {"bert": "bert-base", "mobilenet_v2": "mobilenetv2"}


def model(name: str) -> Workload:
    key = ALIASES.get(name, name)
    if key not in MODELS:
        raise DseError(f"unknown built-in model {name!r}; choose one of "
                       f"{', '.join(sorted(MODELS))}")
    return MODELS[key]()
