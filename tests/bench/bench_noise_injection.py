"""How much the coverage nets themselves amplify one activation's int8 rounding (fp32 only).

No dlac: the torch definition the coverage benchmark exports (same seed, same trained-like
BatchNorm statistics) runs in fp32, and one activation (a module's output: the stem
HardSwish, ...) gets noise of one int8 step `s` = that tensor's calibrated clip / 127
(dlac's default `mse` clip over the benchmark's 8 calibration inputs, or `minmax`):
uniform noise in [-s/2, s/2] (`uniform`) or rounding to the int8 grid (`round`, what
int8 quantization of that tensor alone does). Output SQNR vs the clean fp32 output, mean
over the benchmark's 4 held-out inputs. If one such tensor alone leaves less than 20 dB,
no int8 quantizer of that tensor can reach 20 dB at the output.

Usage: python tests/bench/bench_noise_injection.py [--models mobilenetv3_small ...]
                                                   [--json noise.json]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
import bench_coverage as cov  # noqa: E402
from models import coverage_nets as nets  # noqa: E402

#: (label, module path) of the activations probed per net: the stem activation and the
#: first blocks' expansion/depthwise activations.
PROBES = {
    "mobilenetv3_small": [("stem HardSwish", "features.0.2"),
                          ("block-1 depthwise ReLU", "features.1.body.0.2"),
                          ("block-4 expand HardSwish", "features.4.body.0.2")],
    "mobilenetv3_large": [("stem HardSwish", "features.0.2"),
                          ("block-1 depthwise ReLU", "features.1.body.0.2"),
                          ("block-2 expand ReLU", "features.2.body.0.2")],
    "efficientnet_b0": [("stem SiLU", "features.0.2"),
                        ("block-1 depthwise SiLU", "features.1.body.0.2"),
                        ("block-2 expand SiLU", "features.2.body.0.2")],
}


def build(name: str) -> object:
    """The benchmark's model (cov.export: torch.manual_seed(0), trained_statistics)."""
    import torch

    spec = cov.SPECS[name]
    torch.manual_seed(0)
    stats = np.concatenate([cov.example(spec, cov.STATS_SEED + i) for i in range(4)])
    return nets.trained_statistics(spec.make(), torch.from_numpy(stats), 0)


def mse_clip(values: np.ndarray) -> float:
    """dlac's `mse` clip of |x| (passes/calibration.mse_amax)."""
    from dlac.passes.calibration import mse_amax

    return float(mse_amax(np.abs(values.reshape(-1))))


def probe(model: object, module: str, inputs: list[np.ndarray],
          hook: object | None) -> list[np.ndarray]:
    """Outputs (and the probed module's outputs when `hook` is None) on `inputs`."""
    import torch

    target = model.get_submodule(module)  # type: ignore[attr-defined]
    seen: list[np.ndarray] = []

    def keep(_m: object, _i: object, out: torch.Tensor) -> torch.Tensor:
        seen.append(out.numpy().copy())
        return out if hook is None else hook(out)

    handle = target.register_forward_hook(keep)
    with torch.no_grad():
        outs = [model(torch.from_numpy(x)).numpy().astype(np.float64)  # type: ignore[operator]
                for x in inputs]
    handle.remove()
    return outs if hook is not None else seen


def measure(name: str) -> list[dict]:
    import torch

    spec = cov.SPECS[name]
    model = build(name)
    calib = [cov.example(spec, cov.CALIB_SEED + i) for i in range(cov.CALIB_SAMPLES)]
    held = [cov.example(spec, cov.EVAL_SEED + i) for i in range(cov.EVAL_INPUTS)]
    with torch.no_grad():
        clean = [model(torch.from_numpy(x)).numpy().astype(np.float64) for x in held]
    rows = []
    for label, module in PROBES[name]:
        acts = np.concatenate([a.reshape(-1) for a in probe(model, module, calib, None)])
        for method, clip in (("mse", mse_clip(acts)), ("minmax", float(np.abs(acts).max()))):
            step = clip / 127.0
            gen = torch.Generator().manual_seed(cov.EVAL_SEED)

            def uniform(out: torch.Tensor, s: float = step,
                        g: torch.Generator = gen) -> torch.Tensor:
                return out + (torch.rand(out.shape, generator=g) - 0.5) * s

            def rounded(out: torch.Tensor, s: float = step) -> torch.Tensor:
                return torch.clamp(torch.round(out / s), -128, 127) * s

            for kind, hook in (("uniform", uniform), ("round", rounded)):
                got = probe(model, module, held, hook)
                db = float(np.mean([cov.sqnr(w, g) for w, g in zip(clean, got, strict=True)]))
                rows.append({"model": name, "tensor": label, "module": module,
                             "clip": method, "step": step, "noise": kind,
                             "sqnr_mean_db": round(db, 2)})
                print(f"{name:<20}{label:<28}{method:<8}{kind:<9}step {step:.4g}  "
                      f"{db:6.2f} dB", flush=True)
    return rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", nargs="*", default=sorted(PROBES), choices=sorted(PROBES))
    ap.add_argument("--json", default="noise_injection.json")
    args = ap.parse_args()
    rows = [r for name in args.models for r in measure(name)]
    Path(args.json).write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
