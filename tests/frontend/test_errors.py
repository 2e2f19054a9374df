"""Bad input: one `dlac: error:` line on stderr, non-zero exit, nothing written."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from dlac.tools.dlac_main import main
from onnx import TensorProto, helper
from onnx_builders import conv_chain_model, save, single_node_model, tensor


def run_cli(argv: list[str], capsys: pytest.CaptureFixture, out_dir: Path) -> str:
    out = out_dir / "out.mlir"
    code = main([*argv, "-o", str(out)])
    err = capsys.readouterr().err
    assert code != 0
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("dlac: error: ")
    assert sorted(p.name for p in out_dir.iterdir()) == [], "output dir must stay empty"
    return lines[0]


@pytest.fixture
def out_dir(tmp_path: Path) -> Path:
    d = tmp_path / "out"
    d.mkdir()
    return d


def test_not_an_onnx_file(tmp_path: Path, out_dir: Path, capsys: pytest.CaptureFixture) -> None:
    bad = tmp_path / "notes.onnx"
    bad.write_text("this is a text file, not a protobuf\n")
    assert "not an ONNX file" in run_cli([str(bad)], capsys, out_dir)


def test_missing_file(tmp_path: Path, out_dir: Path, capsys: pytest.CaptureFixture) -> None:
    assert "no such file" in run_cli([str(tmp_path / "nope.onnx")], capsys, out_dir)


def test_truncated_protobuf(tmp_path: Path, out_dir: Path, capsys: pytest.CaptureFixture) -> None:
    data = conv_chain_model().SerializeToString()
    bad = tmp_path / "cut.onnx"
    bad.write_bytes(data[: len(data) // 2])
    msg = run_cli([str(bad)], capsys, out_dir)
    assert "truncated" in msg or "not an ONNX file" in msg


def test_checker_failure(tmp_path: Path, out_dir: Path, capsys: pytest.CaptureFixture) -> None:
    model = conv_chain_model()
    model.graph.node[0].attribute.append(helper.make_attribute("pads", [1]))  # duplicate attr
    path = tmp_path / "bad.onnx"
    path.write_bytes(model.SerializeToString())
    assert "ONNX checker" in run_cli([str(path)], capsys, out_dir)


def test_missing_initializer(tmp_path: Path, out_dir: Path, capsys: pytest.CaptureFixture
                             ) -> None:
    model = conv_chain_model()
    del model.graph.initializer[2]  # w2
    path = tmp_path / "missing.onnx"
    path.write_bytes(model.SerializeToString())
    msg = run_cli([str(path)], capsys, out_dir)
    assert "w2" in msg


def test_unsupported_ops_listed_with_first_node(tmp_path: Path, out_dir: Path,
                                                capsys: pytest.CaptureFixture) -> None:
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])
    nodes = [helper.make_node("Relu", ["x"], ["a"], name="ok"),
             helper.make_node("Hardmax", ["a"], ["b"], name="first_bad"),
             helper.make_node("LpNormalization", ["b"], ["c"], name="second_bad"),
             helper.make_node("Hardmax", ["c"], ["y"], name="third_bad")]
    model = helper.make_model(helper.make_graph(nodes, "g", [x], [y]),
                              opset_imports=[helper.make_opsetid("", 18)])
    path = save(model, tmp_path / "unsup.onnx")
    msg = run_cli([str(path)], capsys, out_dir)
    assert "Hardmax, LpNormalization" in msg and "first_bad" in msg


def _dynamic_model() -> onnx.ModelProto:
    model = single_node_model("Relu", {"x": (1, 4)}, None)
    dim = model.graph.input[0].type.tensor_type.shape.dim[0]
    dim.Clear()
    dim.dim_param = "batch"
    return model


def test_dynamic_dim_needs_input_shape(tmp_path: Path, out_dir: Path,
                                       capsys: pytest.CaptureFixture) -> None:
    path = save(_dynamic_model(), tmp_path / "dyn.onnx")
    msg = run_cli([str(path)], capsys, out_dir)
    assert "dynamic" in msg and "--input-shape" in msg


def test_dynamic_dim_with_input_shape_works(tmp_path: Path, capsys: pytest.CaptureFixture
                                            ) -> None:
    path = save(_dynamic_model(), tmp_path / "dyn.onnx")
    out = tmp_path / "ok.mlir"
    assert main([str(path), "--emit", "graph", "--input-shape", "x=3x4", "-o", str(out)]) == 0
    assert "tensor<3x4xf32>" in out.read_text()


@pytest.mark.parametrize("spec", ["x=0x4", "x=-1x4", "x=1xfoo", "x"])
def test_bad_input_shape_option(spec: str, tmp_path: Path, out_dir: Path,
                                capsys: pytest.CaptureFixture) -> None:
    path = save(_dynamic_model(), tmp_path / "dyn.onnx")
    assert "--input-shape" in run_cli([str(path), "--input-shape", spec], capsys, out_dir)


def test_zero_dim_in_model(tmp_path: Path, out_dir: Path, capsys: pytest.CaptureFixture
                           ) -> None:
    model = single_node_model("Relu", {"x": (1, 4)}, None)
    model.graph.input[0].type.tensor_type.shape.dim[1].dim_value = 0
    path = save(model, tmp_path / "zero.onnx")
    msg = run_cli([str(path), "--input-shape", "x=1x0"], capsys, out_dir)
    assert "must be positive" in msg


def test_dims_that_would_exhaust_memory(tmp_path: Path, out_dir: Path,
                                        capsys: pytest.CaptureFixture) -> None:
    path = save(_dynamic_model(), tmp_path / "dyn.onnx")
    msg = run_cli([str(path), "--input-shape", "x=100000000x4000"], capsys, out_dir)
    assert "byte limit" in msg


def test_intermediate_too_large(tmp_path: Path, out_dir: Path, capsys: pytest.CaptureFixture
                                ) -> None:
    model = single_node_model("Expand", {"x": (1, 1)}, None, None,
                              {"s": np.array([1 << 20, 1 << 20], np.int64)})
    path = save(model, tmp_path / "big.onnx")
    assert "byte limit" in run_cli([str(path)], capsys, out_dir)


def test_unknown_input_shape_name(tmp_path: Path, out_dir: Path, capsys: pytest.CaptureFixture
                                  ) -> None:
    path = save(_dynamic_model(), tmp_path / "dyn.onnx")
    assert "unknown input" in run_cli([str(path), "--input-shape", "z=1x4"], capsys, out_dir)


@pytest.mark.parametrize("location", ["../secret.bin", "/etc/passwd", "sub/../../x.bin"])
def test_external_data_outside_model_dir_refused(location: str, tmp_path: Path, out_dir: Path,
                                                 capsys: pytest.CaptureFixture) -> None:
    model = single_node_model("MatMul", {"x": (1, 4)}, None, None,
                              {"w": np.ones((4, 4), np.float32)})
    init = model.graph.initializer[0]
    init.ClearField("raw_data")
    init.ClearField("float_data")
    init.data_location = TensorProto.EXTERNAL
    init.external_data.append(onnx.StringStringEntryProto(key="location", value=location))
    path = tmp_path / "model" / "ext.onnx"
    path.parent.mkdir()
    path.write_bytes(model.SerializeToString())
    assert "outside the model directory" in run_cli([str(path)], capsys, out_dir)


def test_external_data_inside_dir_loads(tmp_path: Path) -> None:
    model = single_node_model("MatMul", {"x": (1, 4)}, None, None,
                              {"w": np.arange(16, dtype=np.float32).reshape(4, 4)})
    d = tmp_path / "m"
    d.mkdir()
    onnx.save(model, str(d / "ext.onnx"), save_as_external_data=True,
              all_tensors_to_one_file=True, location="weights.bin", size_threshold=0)
    from dlac.frontend.importer import import_onnx

    module = import_onnx(d / "ext.onnx")
    consts = [op.attr("value") for op in module.walk() if op.name == "graph.constant"]
    np.testing.assert_array_equal(consts[0], np.arange(16).reshape(4, 4))


def test_unquantizable_op_is_a_clean_error(tmp_path: Path, out_dir: Path,
                                           capsys: pytest.CaptureFixture) -> None:
    model = single_node_model("Pow", {"a": (2, 3), "b": (2, 3)}, None)
    path = save(model, tmp_path / "pow.onnx")
    msg = run_cli([str(path), "--emit", "qgraph"], capsys, out_dir)
    assert "pass 'quantize' failed on node 'pow_node' (graph.pow)" in msg


def test_initializer_helper_roundtrip() -> None:
    assert tensor("t", np.ones(2, np.float32)).name == "t"


def test_shape_only_tolerates_missing_external_file(tmp_path: Path) -> None:
    from dlac.frontend.errors import FrontendError
    from dlac.frontend.importer import import_onnx

    model = single_node_model("MatMul", {"x": (1, 4)}, None, None,
                              {"w": np.ones((4, 4), np.float32)})
    onnx.save(model, str(tmp_path / "e.onnx"), save_as_external_data=True, location="w.bin",
              size_threshold=0)
    (tmp_path / "w.bin").unlink()
    with pytest.raises(FrontendError, match="not found"):
        import_onnx(tmp_path / "e.onnx")
    module = import_onnx(tmp_path / "e.onnx", load_weights=False)
    consts = [op.attr("value") for op in module.walk() if op.name == "graph.constant"]
    assert consts[0].shape == (4, 4) and not consts[0].any()
