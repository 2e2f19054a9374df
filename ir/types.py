"""IR types. Types are interned, so equality is identity and printing is cached."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import ClassVar

_INTERN: dict[tuple, Type] = {}


class Type:
    """Base of all types; subclasses are immutable and interned by their key."""

    __slots__ = ("_key", "_text")
    _kind: ClassVar[str] = ""

    def __new__(cls, *args: object) -> Type:
        key = (cls, *args)
        found = _INTERN.get(key)
        if found is not None:
            return found
        obj = object.__new__(cls)
        obj._key = key
        obj._text = None
        obj._init(*args)
        _INTERN[key] = obj
        return obj

    def _init(self, *args: object) -> None:
        pass

    def _format(self) -> str:
        raise NotImplementedError

    def __str__(self) -> str:
        text = self._text
        if text is None:
            text = self._text = self._format()
        return text

    def __repr__(self) -> str:
        return f"Type({self})"

    def __reduce__(self) -> tuple:
        return (type(self), self._key[1:])

    def __copy__(self) -> Type:
        return self

    def __deepcopy__(self, memo: dict) -> Type:
        return self


class IntegerType(Type):
    __slots__ = ("width",)

    def _init(self, width: int) -> None:
        self.width = width

    def _format(self) -> str:
        return f"i{self.width}"


class FloatType(Type):
    __slots__ = ("width",)

    def _init(self, width: int) -> None:
        self.width = width

    def _format(self) -> str:
        return f"f{self.width}"


class IndexType(Type):
    __slots__ = ()

    def _format(self) -> str:
        return "index"


class NoneType(Type):
    __slots__ = ()

    def _format(self) -> str:
        return "none"


ElementType = IntegerType | FloatType | IndexType


def _dims_text(shape: tuple[int | None, ...]) -> str:
    return "".join(("?" if d is None else str(d)) + "x" for d in shape)


class ShapedType(Type):
    """A tensor or buffer shape; `None` dims are dynamic (`?`)."""

    __slots__ = ("shape", "element")

    def _init(self, shape: tuple[int | None, ...], element: Type, *rest: object) -> None:
        self.shape = shape
        self.element = element

    @property
    def rank(self) -> int:
        return len(self.shape)

    @property
    def is_static(self) -> bool:
        return None not in self.shape

    @property
    def num_elements(self) -> int:
        n = 1
        for d in self.shape:
            if d is None:
                raise ValueError(f"{self} has a dynamic dimension")
            n *= d
        return n


class TensorType(ShapedType):
    __slots__ = ()

    def __new__(cls, shape: tuple[int | None, ...] | list, element: Type) -> TensorType:
        return super().__new__(cls, tuple(shape), element)  # type: ignore[return-value]

    def _format(self) -> str:
        return f"tensor<{_dims_text(self.shape)}{self.element}>"


class MemRefType(ShapedType):
    """A buffer in a memory space (`dram`, `spad`, `acc`, or none for host memory)."""

    __slots__ = ("space",)

    def __new__(cls, shape: tuple[int | None, ...] | list, element: Type,
                space: str | None = None) -> MemRefType:
        return super().__new__(cls, tuple(shape), element, space)  # type: ignore[return-value]

    def _init(self, shape: tuple[int | None, ...], element: Type, space: str | None) -> None:
        super()._init(shape, element)
        self.space = space

    def _format(self) -> str:
        space = "" if self.space is None else f', "{self.space}"'
        return f"memref<{_dims_text(self.shape)}{self.element}{space}>"


class FunctionType(Type):
    __slots__ = ("inputs", "results")

    def __new__(cls, inputs: tuple[Type, ...] | list, results: tuple[Type, ...] | list
                ) -> FunctionType:
        return super().__new__(cls, tuple(inputs), tuple(results))  # type: ignore[return-value]

    def _init(self, inputs: tuple[Type, ...], results: tuple[Type, ...]) -> None:
        self.inputs = inputs
        self.results = results

    def _format(self) -> str:
        return f"({', '.join(map(str, self.inputs))}) -> {format_result_types(self.results)}"


def format_result_types(results: tuple[Type, ...] | list[Type]) -> str:
    if len(results) == 1 and not isinstance(results[0], FunctionType):
        return str(results[0])
    return f"({', '.join(map(str, results))})"


i1 = IntegerType(1)
i8 = IntegerType(8)
i16 = IntegerType(16)
i32 = IntegerType(32)
i64 = IntegerType(64)
f16 = FloatType(16)
f32 = FloatType(32)
f64 = FloatType(64)
index = IndexType()
none = NoneType()

_SCALAR = re.compile(r"^(?:i(\d+)|f(16|32|64)|(index)|(none))$")
_SHAPED = re.compile(r'^(tensor|memref)<([^<>]*)>$')
_DIMS = re.compile(r"^((?:(?:\d+|\?)x)*)([a-z]\w*)$")


class TypeSyntaxError(ValueError):
    pass


def _parse_scalar(text: str) -> Type:
    m = _SCALAR.match(text)
    if m is None:
        raise TypeSyntaxError(f"unknown type '{text}'")
    if m.group(1):
        width = int(m.group(1))
        if not 1 <= width <= 64:
            raise TypeSyntaxError(f"integer width must be 1..64, got '{text}'")
        return IntegerType(width)
    if m.group(2):
        return FloatType(int(m.group(2)))
    return index if m.group(3) else none


@lru_cache(maxsize=4096)
def parse_type(text: str) -> Type:
    """Parse one type token (scalar or shaped); function types are handled by the parser."""
    m = _SHAPED.match(text)
    if m is None:
        return _parse_scalar(text)
    kind, body = m.groups()
    space = None
    if kind == "memref" and "," in body:
        body, _, rest = body.partition(",")
        rest = rest.strip()
        if not (len(rest) >= 2 and rest[0] == rest[-1] == '"'):
            raise TypeSyntaxError(f"memory space must be a quoted string in '{text}'")
        space = rest[1:-1]
    dm = _DIMS.match(body.strip())
    if dm is None:
        raise TypeSyntaxError(f"bad shape in '{text}'")
    dims: list[int | None] = [None if d == "?" else int(d)
                              for d in dm.group(1).split("x")[:-1]]
    element = _parse_scalar(dm.group(2))
    if kind == "tensor":
        return TensorType(dims, element)
    return MemRefType(dims, element, space)
