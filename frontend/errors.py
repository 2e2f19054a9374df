"""The frontend's user-facing error: bad ONNX files, shapes and options."""

from __future__ import annotations

from dlac.errors import DlacError


class FrontendError(DlacError):
    """Rejected model or option; `str(err)` is the whole one-line message."""

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(message.split()))
