"""IR attributes: immutable compile-time values attached to ops.

Each attribute prints itself in the text form the parser reads back, and exposes its plain
Python value as `.data`, so passes can read knobs without unwrapping by hand.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from dlac.ir.diagnostics import quote_string
from dlac.ir.types import (
    FloatType,
    FunctionType,
    IndexType,
    IntegerType,
    TensorType,
    Type,
    f16,
    f32,
    f64,
    i1,
    i8,
    i16,
    i32,
    i64,
)


class Attribute:
    __slots__ = ()

    @property
    def data(self) -> Any:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self})"


class _ValueAttr(Attribute):
    """An attribute that is one immutable value; equal when the class and value match."""

    __slots__ = ("value",)

    def __init__(self, value: object) -> None:
        self.value = value

    @property
    def data(self) -> object:
        return self.value

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other.value == self.value  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash((type(self).__name__, self.value))


class IntAttr(Attribute):
    __slots__ = ("value", "type")

    def __init__(self, value: int, type: IntegerType | IndexType = i64) -> None:
        self.value = int(value)
        self.type = type

    @property
    def data(self) -> int:
        return self.value

    def __str__(self) -> str:
        return str(self.value) if self.type is i64 else f"{self.value} : {self.type}"

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, IntAttr) and other.value == self.value
                and other.type is self.type)

    def __hash__(self) -> int:
        return hash((self.value, self.type))


def _format_float(value: float, type: FloatType) -> str:
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    text = str(np.float32(value)) if type is f32 else repr(value)
    if "." not in text and "e" not in text and "n" not in text:
        text += ".0"
    return text


class FloatAttr(Attribute):
    """A float; f32 values are rounded to float32 on construction so text round-trips."""

    __slots__ = ("value", "type")

    def __init__(self, value: float, type: FloatType = f64) -> None:
        value = float(value)
        if type is f32:
            value = float(np.float32(value))
        self.value = value
        self.type = type

    @property
    def data(self) -> float:
        return self.value

    def __str__(self) -> str:
        text = _format_float(self.value, self.type)
        return text if self.type is f64 else f"{text} : {self.type}"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, FloatAttr) or other.type is not self.type:
            return False
        if math.isnan(self.value):
            return math.isnan(other.value)
        return other.value == self.value

    def __hash__(self) -> int:
        return hash((self.value, self.type))


class BoolAttr(_ValueAttr):
    __slots__ = ()

    def __init__(self, value: bool) -> None:
        super().__init__(bool(value))

    def __str__(self) -> str:
        return "true" if self.value else "false"


class StringAttr(_ValueAttr):
    __slots__ = ()
    value: str

    def __str__(self) -> str:
        return quote_string(self.value)


class UnitAttr(Attribute):
    """Presence-only flag, printed as a bare key in an attribute dictionary."""

    __slots__ = ()

    @property
    def data(self) -> bool:
        return True

    def __str__(self) -> str:
        return "unit"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, UnitAttr)

    def __hash__(self) -> int:
        return hash("unit")


class SymbolRefAttr(_ValueAttr):
    __slots__ = ()
    value: str

    def __str__(self) -> str:
        return format_symbol(self.value)


def format_symbol(name: str) -> str:
    if name and (name[0].isalpha() or name[0] == "_") and all(
            c.isalnum() or c in "_.$" for c in name):
        return "@" + name
    return "@" + quote_string(name)


class TypeAttr(_ValueAttr):
    __slots__ = ()
    value: Type

    def __str__(self) -> str:
        return str(self.value)


class ArrayAttr(_ValueAttr):
    __slots__ = ()
    value: tuple[Attribute, ...]

    def __init__(self, value: tuple[Attribute, ...] | list[Attribute]) -> None:
        super().__init__(tuple(value))

    @property
    def data(self) -> tuple:
        return tuple(a.data for a in self.value)

    def __str__(self) -> str:
        return "[" + ", ".join(map(str, self.value)) + "]"

    def __len__(self) -> int:
        return len(self.value)


_BARE_KEY_START = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_")
_BARE_KEY_CHARS = _BARE_KEY_START | set("0123456789.$")
_KEYWORDS = frozenset({"true", "false", "unit", "to", "step", "attributes", "loc",
                       "unknown", "dense", "inf", "nan"})


def format_key(key: str) -> str:
    if (key and key[0] in _BARE_KEY_START and all(c in _BARE_KEY_CHARS for c in key)
            and key not in _KEYWORDS):
        return key
    return quote_string(key)


def format_attr_dict(attrs: dict[str, Attribute]) -> str:
    parts = []
    for key, value in attrs.items():
        if isinstance(value, UnitAttr):
            parts.append(format_key(key))
        else:
            parts.append(f"{format_key(key)} = {value}")
    return "{" + ", ".join(parts) + "}"


class DictAttr(Attribute):
    """An ordered string-keyed dictionary of attributes."""

    __slots__ = ("value",)

    def __init__(self, value: dict[str, Attribute]) -> None:
        self.value = dict(value)

    @property
    def data(self) -> dict[str, Any]:
        return {k: v.data for k, v in self.value.items()}

    def __str__(self) -> str:
        return format_attr_dict(self.value)

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, DictAttr)
                and list(other.value.items()) == list(self.value.items()))

    def __hash__(self) -> int:
        return hash(tuple(self.value.items()))


_NP_DTYPES = {"i1": np.bool_, "i8": np.int8, "i16": np.int16, "i32": np.int32,
              "i64": np.int64, "f16": np.float16, "f32": np.float32, "f64": np.float64}

DENSE_LIST_LIMIT = 16


def numpy_dtype(element: Type) -> np.dtype:
    try:
        return np.dtype(_NP_DTYPES[str(element)])
    except KeyError:
        raise ValueError(f"no numpy dtype for element type {element}") from None


# numpy dtype -> IR element type; uint8 widens to i16 so its values survive.
_ELEMENTS = {np.float32: f32, np.float64: f64, np.float16: f16, np.int8: i8, np.uint8: i16,
             np.int16: i16, np.int32: i32, np.int64: i64, np.bool_: i1}


def element_type(dtype: np.dtype | type) -> Type | None:
    """The IR element type that holds numpy `dtype` exactly, or None if there is none."""
    return _ELEMENTS.get(np.dtype(dtype).type)


class DenseAttr(Attribute):
    """A constant tensor; large ones print as little-endian hex bytes (as MLIR does)."""

    __slots__ = ("array", "type", "_hash")

    def __init__(self, array: np.ndarray, type: TensorType) -> None:
        dtype = numpy_dtype(type.element)
        arr = np.asarray(array, dtype=dtype)
        if arr.shape != tuple(type.shape):
            arr = arr.reshape(type.shape)
        arr.setflags(write=False)
        self.array = arr
        self.type = type
        self._hash: int | None = None

    @property
    def data(self) -> np.ndarray:
        return self.array

    def body(self) -> str:
        arr = self.array
        uniform = arr.size > DENSE_LIST_LIMIT and arr.dtype != np.float16 and np.array_equal(
            arr, np.full_like(arr, arr.flat[0]), equal_nan=arr.dtype.kind == "f")
        if uniform:
            return _nest([_scalar_text(arr.flat[0], self.type.element)], [])
        if arr.size <= DENSE_LIST_LIMIT and arr.dtype != np.float16:
            flat = [_scalar_text(v, self.type.element) for v in arr.reshape(-1)]
            return _nest(flat, list(arr.shape))
        return '"0x' + arr.astype(arr.dtype.newbyteorder("<")).tobytes().hex().upper() + '"'

    def __str__(self) -> str:
        return f"dense<{self.body()}> : {self.type}"

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, DenseAttr) and other.type is self.type
                and np.array_equal(other.array, self.array))

    def __hash__(self) -> int:
        if self._hash is None:
            self._hash = hash((self.type, self.array.tobytes()))
        return self._hash


def _scalar_text(v: object, element: Type) -> str:
    if isinstance(v, np.bool_ | bool):
        return "true" if v else "false"
    if isinstance(v, np.floating | float):
        return _format_float(float(v), element)  # type: ignore[arg-type]
    return str(int(v))  # type: ignore[call-overload]


def _nest(flat: list[str], shape: list[int]) -> str:
    if not shape:
        return flat[0]
    if len(shape) == 1:
        return "[" + ", ".join(flat) + "]"
    step = len(flat) // shape[0] if shape[0] else 0
    return "[" + ", ".join(_nest(flat[i * step:(i + 1) * step], shape[1:])
                           for i in range(shape[0])) + "]"


class AffineMapAttr(Attribute):
    """A linear index map `(d0, d1)[s0] -> (d0 * 2 + d1 + s0, ...)`.

    Each result is `(constant, ((position, coefficient), ...))` where positions index the
    dims first, then the symbols. Linear maps are all loop-index accesses need.
    """

    __slots__ = ("num_dims", "num_symbols", "results")

    def __init__(self, num_dims: int, num_symbols: int,
                 results: tuple[tuple[int, tuple[tuple[int, int], ...]], ...]) -> None:
        self.num_dims = num_dims
        self.num_symbols = num_symbols
        self.results = tuple((int(c), tuple((int(p), int(k)) for p, k in terms if k))
                             for c, terms in results)

    @property
    def data(self) -> AffineMapAttr:
        return self

    def _var(self, pos: int) -> str:
        return f"d{pos}" if pos < self.num_dims else f"s{pos - self.num_dims}"

    def _expr(self, const: int, terms: tuple[tuple[int, int], ...]) -> str:
        text = ""
        for pos, coeff in terms:
            mag = abs(coeff)
            term = self._var(pos) if mag == 1 else f"{self._var(pos)} * {mag}"
            if not text:
                text = term if coeff > 0 else f"-{term}"
            else:
                text += f" + {term}" if coeff > 0 else f" - {term}"
        if not text:
            return str(const)
        if const:
            text += f" + {const}" if const > 0 else f" - {-const}"
        return text

    def __str__(self) -> str:
        dims = ", ".join(f"d{i}" for i in range(self.num_dims))
        syms = ""
        if self.num_symbols:
            syms = "[" + ", ".join(f"s{i}" for i in range(self.num_symbols)) + "]"
        res = ", ".join(self._expr(c, t) for c, t in self.results)
        return f"affine_map<({dims}){syms} -> ({res})>"

    def evaluate(self, dims: list[int] | tuple[int, ...],
                 symbols: list[int] | tuple[int, ...] = ()) -> tuple[int, ...]:
        values = list(dims) + list(symbols)
        return tuple(c + sum(values[p] * k for p, k in terms) for c, terms in self.results)

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, AffineMapAttr) and other.num_dims == self.num_dims
                and other.num_symbols == self.num_symbols and other.results == self.results)

    def __hash__(self) -> int:
        return hash((self.num_dims, self.num_symbols, self.results))

    @classmethod
    def identity(cls, rank: int) -> AffineMapAttr:
        return cls(rank, 0, tuple((0, ((i, 1),)) for i in range(rank)))


def to_attr(value: Any) -> Attribute:
    """Wrap a plain Python value (int, float, str, bool, list, dict, Type) as an attribute."""
    if isinstance(value, Attribute):
        return value
    if isinstance(value, bool | np.bool_):
        return BoolAttr(bool(value))
    if isinstance(value, int | np.integer):
        return IntAttr(int(value))
    if isinstance(value, float | np.floating):
        return FloatAttr(float(value), f64)
    if isinstance(value, str):
        return StringAttr(value)
    if isinstance(value, Type):
        return TypeAttr(value)
    if isinstance(value, list | tuple):
        return ArrayAttr([to_attr(v) for v in value])
    if isinstance(value, dict):
        return DictAttr({str(k): to_attr(v) for k, v in value.items()})
    raise TypeError(f"cannot convert {type(value).__name__} to an attribute")


__all__ = [
    "AffineMapAttr", "ArrayAttr", "Attribute", "BoolAttr", "DenseAttr", "DictAttr",
    "FloatAttr", "FunctionType", "IntAttr", "StringAttr", "SymbolRefAttr", "TypeAttr",
    "UnitAttr", "format_attr_dict", "format_key", "numpy_dtype", "to_attr",
]
