"""Input-shape options and the sanity limits every tensor shape must respect."""

from __future__ import annotations

from dlac.frontend.errors import FrontendError

# Largest tensor the frontend accepts (bytes); bigger shapes are a typo or an attack.
MAX_TENSOR_BYTES = 1 << 32


def parse_input_shapes(specs: list[str] | tuple[str, ...] | None) -> dict[str, tuple[int, ...]]:
    """`["x=1x3x224x224"]` -> `{"x": (1, 3, 224, 224)}`; rejects empty, zero and negative dims."""
    shapes: dict[str, tuple[int, ...]] = {}
    for spec in specs or ():
        name, eq, dims = spec.rpartition("=")
        if not eq or not name or not dims:
            raise FrontendError(f"--input-shape '{spec}': expected NAME=D0xD1x...")
        try:
            shape = tuple(int(d) for d in dims.lower().split("x"))
        except ValueError:
            raise FrontendError(f"--input-shape '{spec}': dims must be integers") from None
        check_shape(shape, f"--input-shape {name}")
        shapes[name] = shape
    return shapes


def check_shape(shape: tuple[int, ...] | list[int], what: str, itemsize: int = 4) -> None:
    """Reject non-positive dims and shapes whose tensor would exhaust memory."""
    for d in shape:
        if d <= 0:
            raise FrontendError(f"{what}: dimension {d} in shape {list(shape)} must be positive")
    n = itemsize
    for d in shape:
        n *= d
    if n > MAX_TENSOR_BYTES:
        raise FrontendError(f"{what}: shape {list(shape)} needs {n} bytes, more than the "
                            f"{MAX_TENSOR_BYTES} byte limit per tensor")
