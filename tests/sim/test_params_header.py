"""gemmini_params.h generation and the committed default headers."""

from __future__ import annotations

import re

from dlac.ir.gemmini_params import render_params_header
from dlac.ir.target import Target
from dlac.sim.build import INCLUDE_DIR
from dlac.sim.native import render_config_header

MACROS = ["XCUSTOM_ACC", "DIM", "ADDR_LEN", "BANK_NUM", "BANK_ROWS", "ACC_ROWS", "MAX_BYTES",
          "MAX_BLOCK_LEN", "MAX_BLOCK_LEN_ACC", "HAS_MVIN_SCALE", "MVIN_SCALE_IDENTITY",
          "ACC_SCALE_IDENTITY", "ROUNDING_RIGHT_SHIFT", "SAME_TYPE", "ROUND_NEAR_EVEN",
          "ROUNDING_RIGHT_SHIFT_BITS", "ACC_SCALE", "MVIN_SCALE", "MVIN_SCALE_ACC",
          "ACC_SCALE_T_IS_FLOAT", "ACC_SCALE_EXP_BITS", "ACC_SCALE_SIG_BITS",
          "ACC_READ_SMALL_WIDTH", "ACC_READ_FULL_WIDTH", "HAS_FIRST_LAYER_OPTIMIZATIONS",
          "row_align", "row_align_acc"]
TYPES = ["elem_t", "acc_t", "full_t", "scale_t", "scale_t_bits", "scale_acc_t",
         "scale_acc_t_bits", "acc_scale_t", "acc_scale_t_bits"]


def _defines(text: str) -> dict[str, str]:
    return {m.group(1): m.group(2).strip()
            for m in re.finditer(r"^#define (\w+)(?:\([^)]*\))?[ \t]*(.*)$", text, re.M)}


def test_default_header_has_every_gemmini_item_with_gemmini_values() -> None:
    text = render_params_header(Target())
    d = _defines(text)
    for name in MACROS:
        assert name in d, name
    for name in TYPES:
        assert re.search(rf"typedef \w+ {name};", text), name
    assert (d["XCUSTOM_ACC"], d["DIM"], d["ADDR_LEN"], d["BANK_NUM"], d["BANK_ROWS"],
            d["ACC_ROWS"], d["MAX_BYTES"]) == ("3", "16", "32", "4", "4096", "1024", "64")
    assert d["MAX_BLOCK_LEN"] == "(MAX_BYTES/(DIM*1))"
    assert d["MAX_BLOCK_LEN_ACC"] == "(MAX_BYTES/(DIM*4))"
    assert "typedef int8_t elem_t;" in text and "typedef int32_t acc_t;" in text
    assert "elem_t_max = 127" in text and "elem_t_min = -128" in text
    assert "GEMMINI_PARAMS_H" in text


def test_other_target_sizes_and_features() -> None:
    t = Target(dim=32, sp_kib=512, acc_kib=128, acc_read_full_width=False,
               has_first_layer_optimizations=False)
    d = _defines(render_params_header(t))
    assert (d["DIM"], d["BANK_ROWS"], d["ACC_ROWS"]) == ("32", str(t.sp_bank_rows), str(t.acc_rows))
    assert "ACC_READ_FULL_WIDTH" not in d and "HAS_FIRST_LAYER_OPTIMIZATIONS" not in d
    assert _defines(render_params_header(Target(dim=64)))["MAX_BLOCK_LEN_ACC"] == "1"


def test_timing_knobs_stay_out_of_gemmini_params() -> None:
    assert "latency" not in render_params_header(Target()).lower()


def test_committed_default_headers_are_up_to_date() -> None:
    """Regenerate with: python -m dlac.tools.sim_main headers (see docs/simulator.md)."""
    default = INCLUDE_DIR / "default"
    assert (default / "gemmini_params.h").read_text() == render_params_header(Target())
    assert (default / "dlac_sim_config.h").read_text() == render_config_header(Target())
