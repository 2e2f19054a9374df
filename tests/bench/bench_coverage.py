"""Coverage benchmark: published architectures (plain torch, seeded) through the whole flow.

Per model x exporter (torch.onnx legacy and dynamo): compiles (or the one-line error),
bit-exact on the simulator (default Gemmini and a tuned target), SQNR of the int8
reference vs onnxruntime fp32 on a seeded calibration-style input (uniform image in
[0, 1] normalised with ImageNet statistics, token ids for text), simulated cycles and
compile time (import to int8 graph). The nets' BatchNorms carry trained-like statistics
(models.coverage_nets.trained_statistics).

Weight-stripped real topologies (`--models light_resnet50 ...`, in the default set): the
onnx package's onnx/backend/test/data/light/*.onnx, whose weights are ConstantOfShape
fills (every weight 0.02), compiled shape-only (load_weights=False) with seeded N(0, 1)
calibration (their data input is 1x3x224x224), simulated like the others (all nine
simulate on both targets in under 25 s each); SQNR is n/a (no real weights: every
channel of a layer is the same function, so the number would say nothing about int8
accuracy).

Pre-quantized variants (`--variants`, of the ORT_QUANTIZED nets, legacy export): the fp32
export through onnxruntime.quantization: `qdq` (quantize_static, QDQ, onnxruntime's
defaults: asymmetric int8 activations, per-tensor int8 weights), `qdq_sym` (the same with
symmetric activations and weights: what Gemmini's arithmetic expresses), `dynamic`
(quantize_dynamic: DynamicQuantizeLinear -> ConvInteger/MatMulInteger); quantize_static
calibrates on the same CALIB_SAMPLES inputs as dlac's --calib. Their rows add the SQNR vs
onnxruntime running the quantized model itself and the number of quant_notes (changes to
the model's own quantization).

Usage: python tests/bench/bench_coverage.py [--models yolo unet ...] [--quick] [--json out.json]
                                           [--calib-method mse] [--weight-groups 1]
                                           [--weight-splits 4] [--no-calib]
                                           [--no-equalize] [--no-bias-correction]
                                           [--no-int16-host] [--wide-activations N]
                                           [--exporters legacy dynamo]
                                           [--variants fp32 qdq qdq_sym dynamic]
Quantization options default to dlac's (mse ranges, cross-layer equalisation, bias
correction, up to 4 weight scales per dense conv over range-sorted channel runs).
  --quick: legacy exporter only, no simulator runs.
Calibration: CALIB_SAMPLES calibration-style inputs (seeds CALIB_SEED...) through --calib;
the SQNR input (EVAL_SEED; sqnr_mean_db: the mean over EVAL_INPUTS inputs, seeds
EVAL_SEED...) and the BatchNorm statistics' inputs (STATS_SEED...) are other seeds, so the
SQNR is held out from calibration.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from dlac.passes.sqnr import sqnr_db

sys.path.insert(0, str(Path(__file__).parent))
from models import coverage_nets as nets  # noqa: E402

TUNED = "dim=32,sp_kib=512,acc_kib=128"
NETS_VERSION = "v2"  # bump when coverage_nets changes: names the cached exports
# Disjoint input seeds: BN statistics, calibration (--calib), the evaluated input.
STATS_SEED, CALIB_SEED, EVAL_SEED = 500, 1000, 123
EVAL_INPUTS = 4  # held-out inputs (seeds EVAL_SEED...) of sqnr_mean_db: one input's SQNR
                 # moves by +-2 dB between seeds on the noise-amplifying nets
CALIB_SAMPLES = 8
LIGHT_NETS = ("bvlc_alexnet", "densenet121", "inception_v1", "inception_v2", "resnet50",
              "shufflenet", "squeezenet", "vgg19", "zfnet512")
ORT_QUANTIZED = ("resnext", "squeezenet", "vit_tiny")  # nets with pre-quantized variants
VARIANTS = ("fp32", "qdq", "qdq_sym", "dynamic")
MEAN = np.array([0.485, 0.456, 0.406], np.float32).reshape(1, 3, 1, 1)
STD = np.array([0.229, 0.224, 0.225], np.float32).reshape(1, 3, 1, 1)


@dataclass(frozen=True)
class Spec:
    name: str
    make: object
    shape: tuple[int, ...]
    kind: str = "image"  # image | gray | tokens


SPECS = {
    s.name: s
    for s in (
        Spec("mobilenetv3_small", lambda: nets.MobileNetV3(False), (1, 3, 96, 96)),
        Spec("mobilenetv3_large", lambda: nets.MobileNetV3(True), (1, 3, 96, 96)),
        Spec("efficientnet_b0", nets.EfficientNetB0, (1, 3, 96, 96)),
        Spec("resnext", nets.ResNeXt, (1, 3, 64, 64)),
        Spec("densenet", nets.DenseNet, (1, 3, 64, 64)),
        Spec("squeezenet", nets.SqueezeNet, (1, 3, 96, 96)),
        Spec("shufflenetv2", nets.ShuffleNetV2, (1, 3, 96, 96)),
        Spec("convnext_t", nets.ConvNeXtT, (1, 3, 64, 64)),
        Spec("yolo", nets.YoloTiny, (1, 3, 64, 64)),
        Spec("ssdlite", nets.SSDLite, (1, 3, 64, 64)),
        Spec("unet_transpose", nets.UNetT, (1, 3, 64, 64)),
        Spec("crnn_bilstm", nets.CRNN, (1, 1, 32, 64), "gray"),
        Spec("vit_tiny", nets.ViTTiny, (1, 3, 32, 32)),
        Spec("gpt2_block", nets.GPT2Block, (1, 32), "tokens"),
        Spec("inception_lrn", nets.InceptionLRN, (1, 3, 64, 64)),
    )
}


def cache() -> Path:
    d = Path.home() / ".cache" / "dlac" / "coverage"
    d.mkdir(parents=True, exist_ok=True)
    return d


def light_path(name: str) -> Path:
    """A weight-stripped topology shipped in the onnx package (`name` = light_<net>)."""
    import onnx

    return Path(onnx.__file__).parent / "backend" / "test" / "data" / "light" / f"{name}.onnx"


def example(spec: Spec, seed: int) -> np.ndarray:
    """Calibration-style input: a normalised uniform image, a text-line image, token ids."""
    rng = np.random.default_rng(seed)
    if spec.kind == "tokens":
        return rng.integers(0, 512, spec.shape).astype(np.int64)
    img = rng.uniform(0, 1, spec.shape).astype(np.float32)
    return (img - 0.5) / 0.25 if spec.kind == "gray" else (img - MEAN) / STD


def export(spec: Spec, exporter: str, seed: int = 0) -> Path:
    import warnings

    import torch

    path = cache() / f"{spec.name}-{exporter}-s{seed}-{NETS_VERSION}.onnx"
    if path.exists():
        return path
    torch.manual_seed(seed)
    stats = np.concatenate([example(spec, STATS_SEED + i) for i in range(4)])
    model = nets.trained_statistics(spec.make(), torch.from_numpy(stats), seed)
    x = torch.from_numpy(example(spec, seed))
    tmp = path.with_suffix(".tmp")
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        extra = {"external_data": False} if exporter == "dynamo" else {}
        torch.onnx.export(
            model,
            (x,),
            str(tmp),
            dynamo=exporter == "dynamo",
            opset_version=17,
            input_names=["input"],
            output_names=["output"],
            **extra,
        )
    tmp.replace(path)
    return path


def ort_quantized(spec: Spec, fp32: Path, variant: str) -> Path:
    """The fp32 export through onnxruntime.quantization (cached): `variant` is qdq,
    qdq_sym or dynamic (see the module docstring)."""
    import onnx
    from onnxruntime.quantization import (
        CalibrationDataReader,
        QuantFormat,
        quantize_dynamic,
        quantize_static,
    )

    path = fp32.with_name(f"{fp32.stem}-{variant}.onnx")
    if path.exists():
        return path
    tmp = path.with_suffix(".tmp")
    with contextlib.redirect_stderr(io.StringIO()):  # onnxruntime's pre-processing advice
        if variant == "dynamic":
            quantize_dynamic(str(fp32), str(tmp))
        else:
            name = onnx.load(str(fp32), load_external_data=False).graph.input[0].name

            class Reader(CalibrationDataReader):
                def __init__(self) -> None:
                    self.items = iter([{name: example(spec, CALIB_SEED + i)}
                                       for i in range(CALIB_SAMPLES)])

                def get_next(self) -> dict | None:
                    return next(self.items, None)

            symmetric = {"ActivationSymmetric": True, "WeightSymmetric": True}
            quantize_static(str(fp32), str(tmp), Reader(), quant_format=QuantFormat.QDQ,
                            extra_options=symmetric if variant == "qdq_sym" else {})
    tmp.replace(path)
    return path


def sqnr(want: np.ndarray, got: np.ndarray) -> float:
    """dlac's SQNR of one output."""
    return sqnr_db([want], [got])


def noise_sensitivity(sess: object, x: np.ndarray, want: np.ndarray) -> float:
    """SQNR (dB) of the fp32 model's output when seeded noise 40 dB below the input is added
    to a float input (nan for integer inputs): how much the net itself amplifies noise,
    the ceiling for any quantizer that adds noise at every layer."""
    if x.dtype.kind != "f":
        return float("nan")
    rng = np.random.default_rng(EVAL_SEED)
    noise = rng.standard_normal(x.shape) * np.sqrt(float((x.astype(np.float64) ** 2).mean()) / 1e4)
    name = sess.get_inputs()[0].name  # type: ignore[attr-defined]
    noisy = sess.run(None, {name: (x + noise).astype(x.dtype)})[0]  # type: ignore[attr-defined]
    return sqnr(want, noisy.astype(np.float64))


def one_line(exc: BaseException) -> str:
    tb = traceback.extract_tb(exc.__traceback__)
    where = f" [{Path(tb[-1].filename).name}:{tb[-1].lineno}]" if tb else ""
    return f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}{where}"[:160]


def calib_file(spec: Spec, path: Path) -> Path:
    """CALIB_SAMPLES calibration-style inputs (seeds disjoint from the evaluated input),
    as one batch under the model's input name: what `dlac --calib` reads."""
    import onnx

    out = cache() / f"{spec.name}-calib-{CALIB_SAMPLES}.npz"
    if not out.exists():
        name = onnx.load(str(path), load_external_data=False).graph.input[0].name
        batch = np.concatenate([example(spec, CALIB_SEED + i) for i in range(CALIB_SAMPLES)])
        np.savez(out, **{name: batch})
    return out


def accuracy(row: dict, q: object, path: Path, x: np.ndarray, fp32: Path | None,
             more: tuple[np.ndarray, ...]) -> None:
    """The SQNR columns of `row`: the int8 reference of `q` vs onnxruntime fp32 on `x`
    (and on `more` for the mean); vs onnxruntime running a pre-quantized `path` too."""
    import onnxruntime as ort
    from dlac.ir.quant_notes import notes_of
    from dlac.ir.semantics.qgraph import run_reference

    sess = ort.InferenceSession(str(fp32 or path))
    want = sess.run(None, {sess.get_inputs()[0].name: x})[0].astype(np.float64)
    got = run_reference(q, [x])[0].astype(np.float64)
    row["sqnr_db"] = round(sqnr(want, got), 2)
    name = sess.get_inputs()[0].name
    row["sqnr_mean_db"] = round(float(np.mean([row["sqnr_db"]] + [
        sqnr(sess.run(None, {name: m})[0].astype(np.float64),
             run_reference(q, [m])[0].astype(np.float64)) for m in more])), 2)
    row["fp32_noise40_db"] = round(noise_sensitivity(sess, x, want), 2)
    if fp32 is not None:
        own = ort.InferenceSession(str(path))
        ref = own.run(None, {own.get_inputs()[0].name: x})[0].astype(np.float64)
        row["sqnr_vs_ort_quant_db"] = round(sqnr(ref, got), 2)
        row["identical_to_ort_quant"] = bool(np.array_equal(ref, got))
        row["ort_quant_vs_fp32_db"] = round(sqnr(want, ref), 2)
        row["quant_notes"] = len(notes_of(q))


def run_case(path: Path, x: np.ndarray, sim: bool, calib: Path | None, method: str,
             weight_groups: int, bias_correction: bool, equalize: bool,
             fp32: Path | None = None, weight_splits: int = 1,
             more: tuple[np.ndarray, ...] = (), load_weights: bool = True,
             int16_host: bool = True, wide_activations: int = 0) -> dict:
    """One row; `fp32`: the float model a pre-quantized `path` came from (the SQNR is
    then vs its fp32 output, and `sqnr_vs_ort_quant_db` vs onnxruntime running `path`);
    without `load_weights` (a weight-stripped topology) the SQNR is n/a."""
    from dlac.flow import stages

    row: dict = {"compiles": False}
    start = time.perf_counter()
    try:
        q = stages.run_to("qgraph", path, calib=str(calib) if calib else None, method=method,
                          weight_groups=weight_groups, bias_correction=bias_correction,
                          equalize=equalize, weight_splits=weight_splits,
                          load_weights=load_weights, int16_host=int16_host,
                          wide_activations=wide_activations)
        row["compile_s"] = round(time.perf_counter() - start, 2)
        row["compiles"] = True
        if not load_weights:
            row["sqnr_db"] = row["sqnr_mean_db"] = "n/a"
            row["sqnr_note"] = "no weights (every weight a 0.02 ConstantOfShape fill)"
        else:
            accuracy(row, q, path, x, fp32, more)
    except Exception as exc:  # noqa: BLE001 - the table reports every failure by cause
        row["error"] = one_line(exc)
        return row
    if sim:
        from dlac.ir.target import Target
        from dlac.tools.compile_flow import write_program

        sim_start = time.perf_counter()
        for label, tgt in (("default", ""), ("tuned", TUNED)):
            try:
                with tempfile.TemporaryDirectory() as d, \
                        contextlib.redirect_stdout(io.StringIO()):  # per-step tables
                    write_program(
                        q,
                        Target.parse(tgt) if tgt else Target(),
                        Path(d),
                        "m",
                        "heuristic",
                        0,
                        True,
                    )
                    rep = json.loads((Path(d) / "report.json").read_text())
                row[f"bit_exact_{label}"] = rep.get("bit_exact")
                row[f"cycles_{label}"] = rep.get("cycles")
            except Exception as exc:  # noqa: BLE001
                row[f"bit_exact_{label}"] = False
                row.setdefault("error", f"sim {label}: " + one_line(exc))
        row["sim_s"] = round(time.perf_counter() - sim_start, 1)
    return row


def print_row(row: dict, prequantized: bool) -> None:
    same = " (identical)" if row.get("identical_to_ort_quant") else ""
    own = (f" vs ort-quant {row.get('sqnr_vs_ort_quant_db', '-')}{same} "
           f"(ort-quant vs fp32 {row.get('ort_quant_vs_fp32_db', '-')}), "
           f"{row.get('quant_notes', '-')} notes" if prequantized else "")
    cycles = f"{row['cycles_default']:,.0f}" if row.get("cycles_default") else "-"
    print(
        f"{row['model']:<20}{row['exporter']:<8}{row['variant']:<9}"
        f"{'yes' if row['compiles'] else 'NO':<5}"
        f"{row.get('sqnr_db', '-')!s:>8}{row.get('sqnr_mean_db', '-')!s:>8}"
        f"{row.get('fp32_noise40_db', '-')!s:>8}  "
        f"{row.get('bit_exact_default', '-')!s:<6}"
        f"{row.get('bit_exact_tuned', '-')!s:<6}{cycles:>14}"
        f"{row.get('compile_s', '-')!s:>7}{row.get('sim_s', '-')!s:>7}{own}  "
        f"{row.get('error', '')}",
        flush=True,
    )


def light_row(name: str, args: argparse.Namespace) -> dict:
    """A weight-stripped topology: compiled shape-only with seeded N(0, 1) calibration,
    simulated unless --quick."""
    return {"model": name, "exporter": "onnx", "variant": "shape-only",
            **run_case(light_path(name), np.zeros(0, np.float32), not args.quick, None,
                       args.calib_method, args.weight_groups, not args.no_bias_correction,
                       not args.no_equalize, weight_splits=args.weight_splits,
                       load_weights=False, int16_host=not args.no_int16_host)}


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--models", nargs="*", default=sorted(SPECS) + [
        f"light_{n}" for n in LIGHT_NETS], choices=sorted(SPECS) + [
        f"light_{n}" for n in LIGHT_NETS])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--calib-method", default="mse", choices=("minmax", "percentile", "mse"))
    ap.add_argument("--weight-groups", type=int, default=1)
    ap.add_argument("--weight-splits", type=int, default=4)
    ap.add_argument("--no-bias-correction", action="store_true")
    ap.add_argument("--no-equalize", action="store_true")
    ap.add_argument("--no-int16-host", action="store_true",
                    help="every tensor int8 (no int16 host-only residual streams)")
    ap.add_argument("--wide-activations", type=int, default=0, metavar="N",
                    help="dlac --wide-activations N: N table outputs as two int8 digits")
    ap.add_argument("--no-calib", action="store_true",
                    help="calibrate on seeded N(0, 1) inputs instead of calibration-style ones")
    ap.add_argument("--variants", nargs="*", default=list(VARIANTS), choices=VARIANTS,
                    help="fp32 exports and/or onnxruntime.quantization variants of "
                         f"{', '.join(ORT_QUANTIZED)}")
    ap.add_argument("--exporters", nargs="*", default=["legacy", "dynamo"],
                    choices=("legacy", "dynamo"), help="torch exporters (--quick: legacy)")
    ap.add_argument("--json", default="coverage.json")
    args = ap.parse_args()
    exporters = ["legacy"] if args.quick else args.exporters
    rows = []
    for name in args.models:
        if name not in SPECS:
            rows.append(light_row(name, args))
            print_row(rows[-1], False)
            continue
        spec = SPECS[name]
        cases = [(exp, "fp32") for exp in exporters if "fp32" in args.variants]
        if name in ORT_QUANTIZED:
            cases += [("legacy", v) for v in args.variants if v != "fp32"]
        for exp, variant in cases:
            fp32 = None
            try:
                path = export(spec, exp)
                if variant != "fp32":
                    fp32, path = path, ort_quantized(spec, path, variant)
            except Exception as exc:  # noqa: BLE001
                rows.append(
                    {
                        "model": name,
                        "exporter": exp,
                        "variant": variant,
                        "compiles": False,
                        "error": "export: " + one_line(exc),
                    }
                )
                continue
            row = {
                "model": name,
                "exporter": exp,
                "variant": variant,
                **run_case(path, example(spec, EVAL_SEED), not args.quick,
                           None if args.no_calib else calib_file(spec, path),
                           args.calib_method, args.weight_groups,
                           not args.no_bias_correction, not args.no_equalize, fp32,
                           args.weight_splits,
                           tuple(example(spec, EVAL_SEED + i) for i in range(1, EVAL_INPUTS)),
                           int16_host=not args.no_int16_host,
                           wide_activations=args.wide_activations),
            }
            rows.append(row)
            print_row(row, fp32 is not None)
    Path(args.json).write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
