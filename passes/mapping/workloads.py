"""Hand-derived layer lists of zoo networks (public architecture facts), batch 1.

Until the ONNX frontend supplies layers, the mapping tests and benchmarks use these: each
network is its unique accelerated layers with how often each occurs. Only conv and matmul
layers are listed (pooling, residual adds and softmax are not mapped).
"""

from __future__ import annotations

from collections.abc import Callable

from .layer import ConvLayer, Layer, MatmulLayer

Workload = list[tuple[Layer, int]]


def _conv(name: str, cin: int, cout: int, size: int, k: int, stride: int = 1,
          groups: int = 1) -> ConvLayer:
    return ConvLayer(name, batch=1, in_channels=cin, out_channels=cout, in_rows=size,
                     in_cols=size, kernel_rows=k, kernel_cols=k, stride=stride,
                     padding=k // 2, groups=groups)


def resnet50() -> Workload:
    """torchvision ResNet-50 (v1.5: stride on the 3x3 conv), 224x224: 53 convs + fc."""
    out: Workload = [(_conv("conv1", 3, 64, 224, 7, 2), 1)]
    size, cin = 56, 64
    for stage, (width, blocks) in enumerate([(64, 3), (128, 4), (256, 6), (512, 3)], 1):
        cout = 4 * width
        stride = 1 if stage == 1 else 2
        tag = f"s{stage}"
        out.append((_conv(f"{tag}_b1_1x1a", cin, width, size, 1), 1))
        out.append((_conv(f"{tag}_b1_3x3", width, width, size, 3, stride), 1))
        size //= stride
        out.append((_conv(f"{tag}_b1_downsample", cin, cout, size * stride, 1, stride), 1))
        if blocks > 1:
            out.append((_conv(f"{tag}_1x1a", cout, width, size, 1), blocks - 1))
            out.append((_conv(f"{tag}_3x3", width, width, size, 3), blocks - 1))
        out.append((_conv(f"{tag}_1x1b", width, cout, size, 1), blocks))
        cin = cout
    out.append((MatmulLayer("fc", i=1, j=1000, k=2048), 1))
    return merge_duplicates(out)


def resnet18() -> Workload:
    """torchvision ResNet-18, 224x224: 20 convs + fc."""
    out: Workload = [(_conv("conv1", 3, 64, 224, 7, 2), 1),
                     (_conv("s1_3x3", 64, 64, 56, 3), 4)]
    size, cin = 56, 64
    for stage, width in enumerate([128, 256, 512], 2):
        tag = f"s{stage}"
        out.append((_conv(f"{tag}_b1_3x3s2", cin, width, size, 3, 2), 1))
        out.append((_conv(f"{tag}_b1_downsample", cin, width, size, 1, 2), 1))
        size //= 2
        out.append((_conv(f"{tag}_3x3", width, width, size, 3), 3))
        cin = width
    out.append((MatmulLayer("fc", i=1, j=1000, k=512), 1))
    return merge_duplicates(out)


def mobilenet_v2() -> Workload:
    """MobileNetV2 1.0, 224x224: inverted residual blocks (t, c, n, s) of the paper."""
    out: Workload = [(_conv("conv1", 3, 32, 224, 3, 2), 1)]
    size, cin = 112, 32
    for idx, (t, c, n, s) in enumerate([(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2),
                                        (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2),
                                        (6, 320, 1, 1)], 1):
        for rep in range(n):
            stride = s if rep == 0 else 1
            hidden = cin * t
            tag = f"b{idx}_{rep}"
            if t != 1:
                out.append((_conv(f"{tag}_expand", cin, hidden, size, 1), 1))
            out.append((_conv(f"{tag}_dw", hidden, hidden, size, 3, stride, groups=hidden), 1))
            size //= stride
            out.append((_conv(f"{tag}_project", hidden, c, size, 1), 1))
            cin = c
    out.append((_conv("conv_last", cin, 1280, size, 1), 1))
    out.append((MatmulLayer("fc", i=1, j=1000, k=1280), 1))
    return merge_duplicates(out)


def merge_duplicates(workload: Workload) -> Workload:
    """One entry per distinct shape (first name kept), counts summed."""
    counts: dict[str, int] = {}
    first: dict[str, Layer] = {}
    for layer, n in workload:
        key = layer.workload_hash()
        first.setdefault(key, layer)
        counts[key] = counts.get(key, 0) + n
    return [(first[k], counts[k]) for k in first]


def bert_base(seq: int = 128) -> Workload:
    """BERT-base encoder (12 layers, hidden 768, 12 heads, FFN 3072) at one sequence."""
    heads, hidden, ffn, layers = 12, 768, 3072, 12
    head = hidden // heads
    return [
        (MatmulLayer("qkv_out_proj", i=seq, j=hidden, k=hidden), 4 * layers),
        (MatmulLayer("attn_scores", i=seq, j=seq, k=head, has_bias=False), heads * layers),
        (MatmulLayer("attn_context", i=seq, j=head, k=seq, has_bias=False), heads * layers),
        (MatmulLayer("ffn_up", i=seq, j=ffn, k=hidden), layers),
        (MatmulLayer("ffn_down", i=seq, j=hidden, k=ffn), layers),
    ]


WORKLOADS: dict[str, Callable[[], Workload]] = {
    "resnet50": resnet50,
    "resnet18": resnet18,
    "mobilenetv2": mobilenet_v2,
    "bert-base": bert_base,
}
