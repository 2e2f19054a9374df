"""What a MODEL argument names: an ONNX path, or `zoo:NAME` for a model of the bundled zoo.

Shared by `dlac` and the tools it runs (compile, `--check`), so none of them has to import
the command-line entry point.
"""

from __future__ import annotations

import os

from dlac.errors import DlacError
from dlac.tools.zoo import MODELS, build


def resolve_model(spec: str) -> str:
    """An ONNX path for `spec` (`zoo:NAME` builds and caches a zoo model)."""
    if not spec.startswith("zoo:"):
        return spec
    name = spec[4:]
    if name not in MODELS:
        raise DlacError(f"unknown zoo model '{name}' (choose from {', '.join(sorted(MODELS))})")
    return str(build(name))


def model_name(spec: str) -> str:
    """The name outputs are written under: the zoo name or the file's stem."""
    return spec[4:] if spec.startswith("zoo:") else os.path.splitext(os.path.basename(spec))[0]
