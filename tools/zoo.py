"""Model-zoo builder: seeded torch networks exported to ONNX and cached (never committed).

    python -m dlac.tools.zoo --out DIR [--models resnet50 mlp] [--opset 17]

Weights are drawn under `torch.manual_seed(seed)` with a signal-preserving init: He-normal
(fan_in, ReLU gain) convolutions, N(0, 0.02) linear layers (BERT's initializer range), zero
biases, identity BatchNorm/LayerNorm. Two alternatives were measured and rejected: BN
statistics from random data make random networks chaotic (quantization noise grows ~1.5 dB
per layer), and torchvision's fan_out init makes MobileNetV2's activations vanish (1e-9).
Files are cached by name, opset and seed under ~/.cache/dlac/zoo (or $DLAC_ZOO_CACHE).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ZOO_VERSION = 2  # bump when a definition changes so stale cache entries are not reused


@dataclass(frozen=True)
class ZooModel:
    name: str
    factory: str            # class name in dlac.tools.zoo_nets
    input_shape: tuple[int, ...]
    doc: str


MODELS: dict[str, ZooModel] = {m.name: m for m in (
    ZooModel("tiny_cnn", "TinyCNN", (1, 3, 16, 16), "small op-diverse CNN"),
    ZooModel("mlp", "MLP", (4, 256), "3-layer perceptron"),
    ZooModel("resnet50", "ResNet50", (1, 3, 224, 224), "ResNet-50 v1.5"),
    ZooModel("mobilenetv2", "MobileNetV2", (1, 3, 224, 224), "MobileNetV2 1.0"),
    ZooModel("vgg16", "VGG16", (1, 3, 224, 224), "VGG-16"),
    ZooModel("bert_layer", "BertLayer", (1, 128, 768), "BERT-base encoder layer, seq 128"),
    ZooModel("unet", "UNet", (1, 3, 128, 128), "4-level U-Net, nearest upsampling"),
)}


def cache_dir() -> Path:
    env = os.environ.get("DLAC_ZOO_CACHE")
    base = Path(env) if env else Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    return base if env else base / "dlac" / "zoo"


def example_input(name: str, seed: int = 0) -> np.ndarray:
    """The seeded standard-normal input used for tests and benchmarks."""
    rng = np.random.default_rng(seed)
    return rng.standard_normal(MODELS[name].input_shape).astype(np.float32)


EXPORTERS = ("legacy", "dynamo")


def build(name: str, out_dir: Path | None = None, opset: int = 17, seed: int = 0,
          force: bool = False, exporter: str = "legacy") -> Path:
    """Path of the cached ONNX file for a zoo model, exporting it first if needed.

    `exporter="dynamo"` uses torch's torch.export-based exporter (needs onnxscript).
    """
    if exporter not in EXPORTERS:
        raise KeyError(f"unknown exporter '{exporter}'; choose from {EXPORTERS}")
    if name not in MODELS:
        raise KeyError(f"unknown zoo model '{name}'; choose from {sorted(MODELS)}")
    out_dir = Path(out_dir) if out_dir is not None else cache_dir()
    out_dir.mkdir(parents=True, exist_ok=True)
    tag = "" if exporter == "legacy" else "-dynamo"
    path = out_dir / f"{name}-op{opset}-s{seed}-v{ZOO_VERSION}{tag}.onnx"
    if path.exists() and not force:
        return path
    _export(MODELS[name], path, opset, seed, exporter == "dynamo")
    return path


def _make_module(spec: ZooModel, seed: int):  # noqa: ANN202 - torch is imported lazily
    import torch
    from dlac.tools import zoo_nets
    from torch import nn

    torch.manual_seed(seed)
    model = getattr(zoo_nets, spec.factory)()
    for m in model.modules():
        if isinstance(m, nn.Conv2d | nn.ConvTranspose2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_in", nonlinearity="relu")
        elif isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, 0.0, 0.02)
        elif isinstance(m, nn.BatchNorm2d | nn.LayerNorm):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
        if isinstance(m, nn.Conv2d | nn.ConvTranspose2d | nn.Linear) and m.bias is not None:
            nn.init.zeros_(m.bias)
    return model.eval()


def _export(spec: ZooModel, path: Path, opset: int, seed: int, dynamo: bool) -> None:
    import warnings

    import torch

    model = _make_module(spec, seed)
    example = torch.from_numpy(example_input(spec.name, seed))
    fd, tmp = tempfile.mkstemp(suffix=".onnx.tmp", dir=path.parent)
    os.close(fd)
    try:
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")
            extra = {"external_data": False} if dynamo else {"do_constant_folding": True}
            torch.onnx.export(model, (example,), tmp, dynamo=dynamo, opset_version=opset,
                              input_names=["input"], output_names=["output"], **extra)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dlac.tools.zoo", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=None, help="cache directory")
    parser.add_argument("--models", nargs="*", default=sorted(MODELS), choices=sorted(MODELS))
    parser.add_argument("--opset", type=int, default=17)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--force", action="store_true", help="re-export even if cached")
    parser.add_argument("--exporter", choices=EXPORTERS, default="legacy")
    args = parser.parse_args(argv)
    report: Callable[[str], None] = lambda s: print(s, file=sys.stderr)  # noqa: E731
    for name in args.models:
        path = build(name, args.out, args.opset, args.seed, args.force, args.exporter)
        report(f"{name}: {path} ({path.stat().st_size / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
