"""The coverage benchmark's CRNN row in quick form: the BiLSTM text recogniser (legacy
torch export) compiles with dlac's default quantization and its int8 reference keeps
>= 20 dB SQNR vs onnxruntime fp32 on the held-out input."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
import bench_coverage as cov  # noqa: E402


def test_crnn_bilstm_compiles_with_sqnr_above_20_db() -> None:
    spec = cov.SPECS["crnn_bilstm"]
    path = cov.export(spec, "legacy")
    row = cov.run_case(path, cov.example(spec, cov.EVAL_SEED), False, cov.calib_file(spec, path),
                       "mse", 1, True, True)
    assert row["compiles"], row.get("error")
    assert row["sqnr_db"] >= 20.0
