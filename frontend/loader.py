"""Read an ONNX file defensively: every way a file can be bad becomes one FrontendError."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from dlac.frontend.errors import FrontendError

if TYPE_CHECKING:
    import onnx


def load_onnx(path: str | Path, load_weights: bool = True) -> onnx.ModelProto:
    """Parse, check and (optionally) attach external weights of an ONNX model file.

    External data must live inside the model's directory; missing external files are only
    tolerated when `load_weights` is False (shape-only compilation).
    """
    import onnx
    from google.protobuf.message import DecodeError

    path = Path(path)
    if not path.is_file():
        raise FrontendError(f"{path}: no such file")
    data = path.read_bytes()
    model = onnx.ModelProto()
    try:
        model.ParseFromString(data)
    except (DecodeError, RuntimeError, ValueError) as err:
        kind = "truncated or corrupt ONNX protobuf" if _looks_like_onnx(data) \
            else "not an ONNX file"
        raise FrontendError(f"{path}: {kind} ({_first_line(err) or 'parse failed'})") from None
    if model.ir_version <= 0 or not model.HasField("graph") or not model.opset_import:
        raise FrontendError(f"{path}: not an ONNX file (no graph, IR version or opset)")
    _check_external_data(model, path.parent, load_weights)
    external = any(t.data_location == onnx.TensorProto.EXTERNAL for t in model.graph.initializer)
    try:
        if external and load_weights:
            onnx.checker.check_model(str(path))  # resolves data files next to the model
        elif external:
            onnx.checker.check_model(_without_external(model))
        else:
            onnx.checker.check_model(model)
    except (onnx.checker.ValidationError, onnx.onnx_cpp2py_export.checker.ValidationError,
            ValueError) as err:
        raise FrontendError(f"{path}: ONNX checker: {_first_line(err)}") from None
    if load_weights and external:
        from onnx.external_data_helper import load_external_data_for_model

        load_external_data_for_model(model, str(path.parent))
    return model


def _without_external(model: onnx.ModelProto) -> onnx.ModelProto:
    """A copy whose external tensors became graph inputs, for checking structure only."""
    import onnx
    from onnx import helper

    copy = onnx.ModelProto()
    copy.CopyFrom(model)
    keep = [t for t in copy.graph.initializer if t.data_location != onnx.TensorProto.EXTERNAL]
    moved = [t for t in copy.graph.initializer if t.data_location == onnx.TensorProto.EXTERNAL]
    inputs = {i.name for i in copy.graph.input}
    copy.graph.input.extend(helper.make_tensor_value_info(t.name, t.data_type, list(t.dims))
                            for t in moved if t.name not in inputs)
    del copy.graph.initializer[:]
    copy.graph.initializer.extend(keep)
    return copy


def _looks_like_onnx(data: bytes) -> bool:
    # Every exporter writes ir_version (field 1, varint) first.
    return len(data) > 2 and data[0] == 0x08


def _first_line(err: BaseException) -> str:
    text = str(err).strip()
    return text.splitlines()[0] if text else ""


def _check_external_data(model: onnx.ModelProto, base: Path, need_files: bool) -> None:
    import onnx

    root = os.path.realpath(base)
    for tensor in model.graph.initializer:
        if tensor.data_location != onnx.TensorProto.EXTERNAL:
            continue
        entries = {e.key: e.value for e in tensor.external_data}
        location = entries.get("location", "")
        target = os.path.realpath(os.path.join(root, location))
        if not location or os.path.isabs(location) or \
                os.path.commonpath([root, target]) != root:
            raise FrontendError(f"initializer '{tensor.name}': external data location "
                                f"'{location}' is outside the model directory (refused)")
        if need_files and not os.path.isfile(target):
            raise FrontendError(f"initializer '{tensor.name}': external data file "
                                f"'{location}' not found")
