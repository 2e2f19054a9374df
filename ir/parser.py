"""Text -> IR. One LALR pass with inline callbacks: no parse tree is built.

Scoping and block structure are tracked on reductions: `lbrace` opens a region (taking any
block arguments a `for`/`symbol` header declared), ops append themselves to the current
block when reduced, and `region` closes it. Every failure is a `DiagnosticError` with the
`file:line:col` of the offending token.
"""

from __future__ import annotations

import gc
import re
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

import dlac.ir.dialects  # noqa: F401  (registers every bundled op for lookup_op)
import numpy as np
from dlac.ir.attributes import (
    AffineMapAttr,
    ArrayAttr,
    Attribute,
    BoolAttr,
    DenseAttr,
    DictAttr,
    FloatAttr,
    IntAttr,
    StringAttr,
    SymbolRefAttr,
    TypeAttr,
    UnitAttr,
    numpy_dtype,
)
from dlac.ir.core import Block, Operation, Region, Value
from dlac.ir.diagnostics import (
    UNKNOWN_LOC,
    DiagnosticError,
    FileLineColLoc,
    Location,
    NameLoc,
    unquote_string,
)
from dlac.ir.dialects.builtin import ModuleOp
from dlac.ir.lexer import IRLexer, tokenize
from dlac.ir.opdef import lookup_op
from dlac.ir.types import (
    FloatType,
    FunctionType,
    IndexType,
    IntegerType,
    TensorType,
    Type,
    TypeSyntaxError,
    f32,
    f64,
    i64,
    index,
    parse_type,
)
from lark import Lark, Token
from lark.parsers.lalr_analysis import Shift

_GRAMMAR = Path(__file__).with_name("grammar.lark")

_TOKEN_NAMES = {
    "VALUE_LIST": "a value (%name)", "RESULTS": "result names ('%x =')",
    "KEY": "an attribute ('key =')", "SIGNATURE": "a signature (': (...) -> ...')",
    "BLOCK_ID": "a block label (^bb)",
    "SYMBOL": "a symbol (@name)", "OP_NAME": "an op name", "IDENT": "an identifier",
    "TYPE": "a type", "FUNC_TYPE": "a function type", "STRING": "a string", "FLOAT": "a float",
    "INT": "an integer", "DENSE": "a dense<...> constant", "AFFINE_MAP": "an affine_map<...>",
    "_NL": "a newline", "$END": "end of input", "_LBRACE": "'{'", "_RBRACE": "'}'",
    "_LPAR": "'('", "_RPAR": "')'", "_LSQB": "'['", "_RSQB": "']'", "_COMMA": "','",
    "_COLON": "':'", "_EQUAL": "'='", "_ARROW": "'->'", "_TO": "'to'", "_STEP": "'step'",
    "_ATTRIBUTES": "'attributes'", "_LOC": "'loc'", "_UNKNOWN": "'unknown'",
    "_TRUE": "'true'", "_FALSE": "'false'", "_UNIT": "'unit'",
}
_VALUE_NAME = re.compile(r"%[A-Za-z0-9_$.\-]+")
_FOR_PARTS = re.compile(r"(%[A-Za-z0-9_$.\-]+)\s*=\s*(-?\d+)\s+to\s+(-?\d+)\s+step\s+(-?\d+)")
_MEMO_LIMIT = 512

_NUMERIC_NAME = re.compile(r"^(\d+|arg\d+)$")


class _RegionCtx:
    __slots__ = ("region", "block", "names")

    def __init__(self, region: Region) -> None:
        self.region = region
        self.block: Block | None = None
        self.names: list[str] = []

    def current_block(self) -> Block:
        if self.block is None:
            self.block = self.region.add_block(Block())
        return self.block


class _OpBody:
    """What an op-body rule hands to the `op` rule."""

    __slots__ = ("name", "token", "operands", "operands_tok", "regions", "attrs", "in_types",
                 "out_types")

    def __init__(self, name: str, token: Token, operands_tok: Token | None,
                 regions: list[Region], attrs: dict[str, Attribute],
                 in_types: list[Type] | None, out_types: list[Type] | None) -> None:
        self.name = name
        self.token = token
        self.operands_tok = operands_tok
        self.operands = _split_values(operands_tok)
        self.regions = regions
        self.attrs = attrs
        self.in_types = in_types
        self.out_types = out_types


class _Callbacks:
    """LALR reduction callbacks; one instance per parse."""

    def __init__(self, filename: str, first_line: int = 1) -> None:
        self.filename = filename
        self.first_line = first_line
        self.root = _RegionCtx(Region())
        self.stack: list[_RegionCtx] = [self.root]
        self.values: dict[str, Value] = {}
        self.pending_args: list[tuple[str, Token, Type]] | None = None
        self.dict_memo: dict[str, dict[str, Attribute]] = {}

    # -- helpers --------------------------------------------------------------------------
    def tokloc(self, tok: Token) -> FileLineColLoc:
        return FileLineColLoc(self.filename, tok.line or 0, tok.column or 0)

    def fail(self, tok: Token, message: str) -> DiagnosticError:
        return DiagnosticError(self.tokloc(tok), message)

    def fail_at(self, tok: Token, name: str, message: str) -> DiagnosticError:
        """An error at `name` inside `tok` (a value list holds several names)."""
        col = (tok.column or 1) + max(tok.value.find(name), 0)
        return DiagnosticError(FileLineColLoc(self.filename, tok.line or 0, col), message)

    def lookup(self, name: str, tok: Token) -> Value:
        found = self.values.get(name)
        if found is None:
            raise self.fail_at(tok, name, f"use of undefined value '{name}'")
        return found

    def define(self, name: str, tok: Token, value: Value) -> None:
        if name in self.values:
            raise self.fail_at(tok, name, f"redefinition of value '{name}'")
        self.values[name] = value
        self.stack[-1].names.append(name)
        hint = name[1:]
        if not _NUMERIC_NAME.match(hint):
            value.name_hint = hint

    def type_of(self, tok: Token) -> Type:
        try:
            return parse_type(tok.value)
        except TypeSyntaxError as err:
            raise self.fail(tok, str(err)) from None

    # -- structure ------------------------------------------------------------------------
    def start(self, children: list) -> Region:
        return self.root.region

    def lbrace(self, children: list) -> None:
        ctx = _RegionCtx(Region())
        self.stack.append(ctx)
        if self.pending_args is not None:
            block = ctx.current_block()
            for name, tok, ty in self.pending_args:
                self.define(name, tok, block.add_arg(ty))
            self.pending_args = None

    def region(self, children: list) -> Region:
        ctx = self.stack.pop()
        values = self.values
        for name in ctx.names:
            del values[name]
        return ctx.region

    def block_label(self, children: list) -> None:
        ctx = self.stack[-1]
        if ctx.block is not None and not ctx.region.blocks[0].ops and ctx.block.args == [] \
                and len(ctx.region.blocks) == 1:
            block = ctx.block
        else:
            block = ctx.region.add_block(Block())
        ctx.block = block
        for name, tok, ty in children[1] or []:
            self.define(name, tok, block.add_arg(ty))

    def block(self, children: list) -> None:
        return None

    # -- values and types -----------------------------------------------------------------
    def result_names(self, children: list[Token]) -> tuple[list[str], Token]:
        return _split_values(children[0]), children[0]

    def arg_decl(self, children: list[Token]) -> tuple[str, Token, Type]:
        tok = children[0]
        names = _split_values(tok)
        if len(names) != 1:
            raise self.fail_at(tok, names[1], "expected ':' and a type after each argument")
        return (names[0], tok, self.type_of(children[1]))

    def arg_decls(self, children: list) -> list[tuple[Token, Type]]:
        return children

    def type_list(self, children: list[Token]) -> list[Type]:
        return [self.type_of(t) for t in children]

    def result_types(self, children: list) -> list[Type]:
        first = children[0]
        if isinstance(first, Token):
            return [self.type_of(first)]
        return first or []

    def func_type(self, tok: Token) -> FunctionType:
        text = tok.value[1:].lstrip() if tok.type == "SIGNATURE" else tok.value
        try:
            return parse_function_type(text)
        except TypeSyntaxError as err:
            raise self.fail(tok, str(err)) from None

    # -- attributes -----------------------------------------------------------------------
    def attr_dict(self, children: list) -> dict[str, Attribute]:
        first = children[0] if children else None
        if isinstance(first, Token) and first.type == "ATTR_DICT":
            return self.folded_dict(first)
        out: dict[str, Attribute] = {}
        for entry in children:
            if entry is None:
                continue
            key, key_tok, value = entry
            if key in out:
                raise self.fail(key_tok, f"duplicate attribute '{key}'")
            out[key] = value
        return out

    def folded_dict(self, tok: Token) -> dict[str, Attribute]:
        """Parse a dictionary the lexer folded into one token (memoized when short)."""
        text = tok.value
        if len(text) <= _MEMO_LIMIT:
            found = self.dict_memo.get(text)
            if found is None:
                found = self.dict_memo[text] = self.parse_dict(tok)
            return dict(found)
        return self.parse_dict(tok)

    def parse_dict(self, tok: Token) -> dict[str, Attribute]:
        inner = _Callbacks(self.filename, tok.line or 1)
        tokens = tokenize(tok.value, self.filename, fold=False, line=tok.line or 1,
                          col0=(tok.column or 1) - 1)
        return _drive(inner, tokens, "attr_dict_start")

    def attr_dict_start(self, children: list) -> dict[str, Attribute]:
        return children[0]

    def attr_kw(self, children: list) -> dict[str, Attribute]:
        return children[0]

    def attr_entry(self, children: list) -> tuple[str, Token, Attribute]:
        tok = children[0]
        if tok.type != "KEY":
            key = unquote_string(tok.value) if tok.type == "STRING" else tok.value
            return (key, tok, UnitAttr())
        key = tok.value[:-1].rstrip()
        return (unquote_string(key) if key.startswith('"') else key, tok, children[1])

    def int_attr(self, children: list) -> IntAttr:
        tok, ty_tok = children
        if ty_tok is None:
            return IntAttr(int(tok.value), i64)
        ty = self.type_of(ty_tok)
        if not isinstance(ty, IntegerType | IndexType):
            raise self.fail(ty_tok, f"integer attribute cannot have type {ty}")
        value = int(tok.value)
        if isinstance(ty, IntegerType) and not -(1 << ty.width) < value < (1 << ty.width):
            raise self.fail(tok, f"integer {value} does not fit in {ty}")
        return IntAttr(value, ty)

    def float_attr(self, children: list) -> FloatAttr:
        tok, ty_tok = children
        ty = f64 if ty_tok is None else self.type_of(ty_tok)
        if not isinstance(ty, FloatType) or ty not in (f32, f64):
            raise self.fail(ty_tok or tok, f"float attribute must be f32 or f64, got {ty}")
        return FloatAttr(float(tok.value), ty)

    def str_attr(self, children: list) -> StringAttr:
        return StringAttr(unquote_string(children[0].value))

    def true_attr(self, children: list) -> BoolAttr:
        return BoolAttr(True)

    def false_attr(self, children: list) -> BoolAttr:
        return BoolAttr(False)

    def unit_attr(self, children: list) -> UnitAttr:
        return UnitAttr()

    def array_attr(self, children: list) -> ArrayAttr:
        return ArrayAttr([c for c in children if c is not None])

    def dict_attr(self, children: list) -> DictAttr:
        return DictAttr(children[0])

    def type_attr(self, children: list) -> TypeAttr:
        return TypeAttr(self.type_of(children[0]))

    def functype_attr(self, children: list) -> TypeAttr:
        return TypeAttr(self.func_type(children[0]))

    def symbol_attr(self, children: list) -> SymbolRefAttr:
        return SymbolRefAttr(_symbol_name(children[0].value))

    def dense_attr(self, children: list) -> DenseAttr:
        tok, ty_tok = children
        ty = self.type_of(ty_tok)
        if not isinstance(ty, TensorType) or not ty.is_static:
            raise self.fail(ty_tok, f"dense constant needs a static tensor type, got {ty}")
        try:
            return _parse_dense(tok.value[6:-1], ty)
        except ValueError as err:
            raise self.fail(tok, f"bad dense constant: {err}") from None

    def affine_attr(self, children: list) -> AffineMapAttr:
        try:
            return _parse_affine(children[0].value)
        except ValueError as err:
            raise self.fail(children[0], f"bad affine map: {err}") from None

    # -- locations ------------------------------------------------------------------------
    def unknown_loc(self, children: list) -> Location:
        return UNKNOWN_LOC

    def _loc(self, children: list) -> Location:
        first = children[0]
        if isinstance(first, Location):
            return first
        name = unquote_string(first.value)
        if children[1] is None:
            return NameLoc(name)
        return FileLineColLoc(name, int(children[1].value), int(children[2].value))

    # -- op bodies ------------------------------------------------------------------------
    def generic_op(self, children: list) -> _OpBody:
        name_tok, operands, regions, attrs, ftype_tok = children
        ftype = self.func_type(ftype_tok)
        return _OpBody(unquote_string(name_tok.value), name_tok, operands,
                       regions or [], attrs or {}, list(ftype.inputs), list(ftype.results))

    def region_list(self, children: list[Region]) -> list[Region]:
        return children

    def operands_op(self, children: list) -> _OpBody:
        name_tok, operands, attrs, types = children
        if isinstance(types, Token):
            ftype = self.func_type(types)
            in_types, out_types = list(ftype.inputs), list(ftype.results)
        else:
            in_types, out_types = types, []
        return _OpBody(name_tok.value, name_tok, operands, [], attrs or {},
                       in_types, out_types)

    def for_header(self, children: list[Token]) -> tuple[Token, dict[str, Attribute]]:
        name_tok, rng = children
        m = _FOR_PARTS.match(rng.value)
        assert m is not None
        self.pending_args = [(m.group(1), rng, index)]
        bounds = {"lb": IntAttr(int(m.group(2))), "ub": IntAttr(int(m.group(3))),
                  "step": IntAttr(int(m.group(4)))}
        return name_tok, bounds

    def region_body(self, name_tok: Token, head: dict[str, Attribute],
                    attrs: dict[str, Attribute] | None, region: Region) -> _OpBody:
        """A sugared op with one region: header attributes plus `attributes {...}`."""
        merged = dict(head)
        for key, value in (attrs or {}).items():
            if key in merged:
                raise self.fail(name_tok, f"attribute '{key}' is already set by the header")
            merged[key] = value
        return _OpBody(name_tok.value, name_tok, None, [region], merged, None, [])

    def for_op(self, children: list) -> _OpBody:
        (name_tok, bounds), attrs, region = children
        return self.region_body(name_tok, bounds, attrs, region)

    def symbol_header(self, children: list) -> tuple[Token, dict[str, Attribute]]:
        if len(children) == 3:
            name_tok, sym, ftype_tok = children
            ftype = self.func_type(ftype_tok)
            if ftype.inputs:
                raise self.fail(ftype_tok, "function arguments need names ('%arg: type')")
            args, results = [], list(ftype.results)
        else:
            name_tok, sym, args, results = children
        args = args or []
        self.pending_args = args
        ftype = FunctionType([t for _, _, t in args], results or [])
        return name_tok, {"sym_name": StringAttr(_symbol_name(sym.value)),
                          "function_type": TypeAttr(ftype)}

    def symbol_op(self, children: list) -> _OpBody:
        (name_tok, head), attrs, region = children
        return self.region_body(name_tok, head, attrs, region)

    def region_op(self, children: list) -> _OpBody:
        name_tok, sym, attrs, region = children
        head = {} if sym is None else {"sym_name": StringAttr(_symbol_name(sym.value))}
        return self.region_body(name_tok, head, attrs, region)

    # -- the op itself --------------------------------------------------------------------
    def op(self, children: list) -> None:
        results, body, loc = children
        cls = lookup_op(body.name)
        if cls is None:
            raise self.fail(body.token, f"unknown op '{body.name}'")
        names = body.operands
        operands_tok = body.operands_tok
        operands = [self.lookup(name, operands_tok) for name in names]
        in_types = body.in_types
        if in_types is not None:
            if len(in_types) != len(operands):
                raise self.fail(body.token, f"'{body.name}' has {len(operands)} operand(s) "
                                            f"but {len(in_types)} operand type(s)")
            for i, (value, ty) in enumerate(zip(operands, in_types, strict=True)):
                if value.type is not ty:
                    raise self.fail_at(operands_tok, names[i],
                                       f"type mismatch for operand #{i} '{names[i]}' of "
                                       f"'{body.name}': declared {ty}, defined as {value.type}")
        result_names, results_tok = results if results is not None else ((), None)
        out_types = body.out_types or []
        if len(result_names) != len(out_types):
            raise self.fail(results_tok or body.token,
                            f"'{body.name}' defines {len(result_names)} result name(s) but has "
                            f"{len(out_types)} result type(s)")
        location = loc if loc is not None else self.tokloc(results_tok or body.token)
        op = cls.__new__(cls)
        Operation.__init__(op, operands, out_types, None, body.regions, location)
        op.attributes = body.attrs
        for name, res in zip(result_names, op.results, strict=True):
            self.define(name, results_tok, res)
        self.stack[-1].current_block().append(op)


def _split_values(tok: Token | None) -> list[str]:
    """The value names in a VALUE_LIST/RESULTS token."""
    if tok is None:
        return []
    text = tok.value
    if "," not in text and "=" not in text:
        return [text]
    return _VALUE_NAME.findall(text)


def _split_top(text: str) -> list[str]:
    """Split a comma-separated type list, ignoring commas inside <...> and quotes."""
    parts, depth, quoted, cur = [], 0, False, []
    for ch in text:
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch == "<":
            depth += 1
        elif not quoted and ch == ">":
            depth -= 1
        elif ch == "," and depth == 0 and not quoted:
            parts.append("".join(cur).strip())
            cur = []
            continue
        cur.append(ch)
    last = "".join(cur).strip()
    if last or parts:
        parts.append(last)
    return parts


@lru_cache(maxsize=8192)
def parse_function_type(text: str) -> FunctionType:
    """Parse `(t, ...) -> t` or `(t, ...) -> (t, ...)` as lexed into one token."""
    close = text.index(")")
    ins = [parse_type(t) for t in _split_top(text[1:close])]
    rest = text[close + 1:].strip()[2:].strip()
    if rest.startswith("("):
        outs = [parse_type(t) for t in _split_top(rest[1:-1])]
    else:
        outs = [parse_type(rest)]
    return FunctionType(ins, outs)


def _symbol_name(token: str) -> str:
    body = token[1:]
    return unquote_string(body) if body.startswith('"') else body


def _parse_dense(body: str, ty: TensorType) -> DenseAttr:
    dtype = numpy_dtype(ty.element)
    body = body.strip()
    if body.startswith('"0x'):
        raw = bytes.fromhex(body[3:-1])
        want = ty.num_elements * dtype.itemsize
        if len(raw) != want:
            raise ValueError(f"{len(raw)} bytes for {ty} (needs {want})")
        arr = np.frombuffer(raw, dtype=dtype.newbyteorder("<")).astype(dtype)
        return DenseAttr(arr.reshape(ty.shape), ty)
    try:
        arr = np.array(_dense_literal(body), dtype=dtype)
    except (ValueError, OverflowError, TypeError) as err:
        raise ValueError(f"cannot read '{body[:40]}': {err}") from None
    if arr.ndim == 0:
        arr = np.full(ty.shape, arr, dtype=dtype)
    if arr.shape != tuple(ty.shape):
        raise ValueError(f"shape {list(arr.shape)} does not match {ty}")
    return DenseAttr(arr, ty)


_DENSE_TOKEN = re.compile(r"\s*(?:(\[|\]|,)|(-?inf|nan|true|false|-?[0-9][0-9.eE+\-]*))")


def _dense_literal(text: str) -> Any:
    """Nested lists of numbers/booleans as written inside `dense<...>`."""
    tokens: list[str] = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        m = _DENSE_TOKEN.match(text, pos)
        if m is None:
            raise ValueError(f"unexpected '{text[pos:pos + 10].strip()}'")
        tokens.append(m.group(1) or m.group(2))
        pos = m.end()
    value, used = _dense_value(tokens, 0)
    if used != len(tokens):
        raise ValueError("trailing text after the value")
    return value


def _dense_value(tokens: list[str], i: int) -> tuple[Any, int]:
    if i >= len(tokens):
        raise ValueError("value ends early")
    tok = tokens[i]
    if tok == "[":
        items: list[Any] = []
        i += 1
        if i < len(tokens) and tokens[i] == "]":
            return items, i + 1
        while True:
            item, i = _dense_value(tokens, i)
            items.append(item)
            if i >= len(tokens):
                raise ValueError("missing ']'")
            if tokens[i] == "]":
                return items, i + 1
            if tokens[i] != ",":
                raise ValueError(f"expected ',' or ']', got '{tokens[i]}'")
            i += 1
    if tok in ("]", ","):
        raise ValueError(f"unexpected '{tok}'")
    if tok in ("true", "false"):
        return tok == "true", i + 1
    return (float(tok) if any(c in tok for c in ".eEn") else int(tok)), i + 1


_AFFINE = re.compile(r"^affine_map<\(([^()]*)\)(?:\[([^\]]*)\])?\s*->\s*\((.*)\)>$")
_AFFINE_TOKEN = re.compile(r"\s*(?:(\d+)|([ds]\d+)|([-+*(),]))")


class _AffineReader:
    """Recursive-descent reader of linear expressions: +, -, * by constants, parentheses."""

    def __init__(self, text: str, n_dims: int, n_syms: int) -> None:
        self.tokens: list[str] = []
        pos = 0
        text = text.rstrip()
        while pos < len(text):
            m = _AFFINE_TOKEN.match(text, pos)
            if m is None:
                raise ValueError(f"unexpected '{text[pos:].strip()[:10]}'")
            self.tokens.append(m.group(m.lastindex or 0))
            pos = m.end()
        self.pos = 0
        self.n_dims = n_dims
        self.n_syms = n_syms

    def peek(self) -> str | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> str:
        tok = self.peek()
        if tok is None:
            raise ValueError("expression ends early")
        self.pos += 1
        return tok

    def results(self) -> list[tuple[int, tuple[tuple[int, int], ...]]]:
        out = []
        if self.peek() is None:
            return out
        while True:
            const, terms = self.expr()
            out.append((const, tuple(sorted((p, k) for p, k in terms.items() if k))))
            tok = self.peek()
            if tok is None:
                return out
            if tok != ",":
                raise ValueError(f"expected ',' but found '{tok}'")
            self.take()

    def expr(self) -> tuple[int, dict[int, int]]:
        const, terms = self.term()
        while self.peek() in ("+", "-"):
            sign = 1 if self.take() == "+" else -1
            c2, t2 = self.term()
            const += sign * c2
            for p, k in t2.items():
                terms[p] = terms.get(p, 0) + sign * k
        return const, terms

    def term(self) -> tuple[int, dict[int, int]]:
        const, terms = self.factor()
        while self.peek() == "*":
            self.take()
            c2, t2 = self.factor()
            if terms and t2:
                raise ValueError("product of two variables is not linear")
            if t2:
                const, terms, c2, t2 = c2, t2, const, terms
            const *= c2
            terms = {p: k * c2 for p, k in terms.items()}
        return const, terms

    def factor(self) -> tuple[int, dict[int, int]]:
        tok = self.take()
        if tok == "-":
            const, terms = self.factor()
            return -const, {p: -k for p, k in terms.items()}
        if tok == "(":
            value = self.expr()
            if self.take() != ")":
                raise ValueError("missing ')'")
            return value
        if tok.isdigit():
            return int(tok), {}
        if tok[0] in "ds":
            idx = int(tok[1:])
            limit = self.n_dims if tok[0] == "d" else self.n_syms
            if idx >= limit:
                raise ValueError(f"'{tok}' is not declared")
            return 0, {idx + (self.n_dims if tok[0] == "s" else 0): 1}
        raise ValueError(f"unexpected '{tok}'")


@lru_cache(maxsize=1024)
def _parse_affine(text: str) -> AffineMapAttr:
    m = _AFFINE.match(text)
    if m is None:
        raise ValueError("expected affine_map<(d0, ...)[s0, ...] -> (expr, ...)>")
    dims = [d.strip() for d in m.group(1).split(",") if d.strip()]
    syms = [s.strip() for s in (m.group(2) or "").split(",") if s.strip()]
    if dims != [f"d{i}" for i in range(len(dims))]:
        raise ValueError("dimensions must be named d0, d1, ... in order")
    if syms != [f"s{i}" for i in range(len(syms))]:
        raise ValueError("symbols must be named s0, s1, ... in order")
    reader = _AffineReader(m.group(3), len(dims), len(syms))
    return AffineMapAttr(len(dims), len(syms), tuple(reader.results()))


def _describe(tok: Token | None) -> str:
    if tok is None or tok.type == "$END":
        return "end of input"
    text = tok.value.replace("\n", "\\n")
    if len(text) > 30:
        text = text[:27] + "..."
    return f"'{text}'"


def _expected(names: set[str] | frozenset[str]) -> str:
    readable = sorted({_TOKEN_NAMES.get(n, n) for n in names})
    if not readable:
        return ""
    if len(readable) > 6:
        readable = readable[:6] + ["..."]
    return " (expected " + ", ".join(readable) + ")"


def parse_module(text: str, filename: str = "<input>", first_line: int = 1) -> Operation:
    """Parse IR text into a `builtin.module` (top-level ops are wrapped in one if needed).

    `first_line` numbers the text's first line, for chunks cut out of a larger file.
    """
    callbacks = _Callbacks(filename, first_line)
    try:
        _run(callbacks, text)
    except RecursionError:
        raise DiagnosticError(FileLineColLoc(filename, 1, 1), "nesting too deep") from None
    top = callbacks.root.region
    ops = top.blocks[0].ops if top.blocks else []
    if len(ops) == 1 and isinstance(ops[0], ModuleOp):
        module = ops[0]
        top.blocks[0].detach(module)
        return module
    module = ModuleOp.build()
    for op in list(ops):
        top.blocks[0].detach(op)
        module.body.block.append(op)
    if ops:
        module.loc = ops[0].loc
    return module




class _Reducer:
    """What to do when the LALR tables reduce one rule.

    Mirrors lark's child filtering: terminals named `_X` are dropped, rules named `_x` are
    spliced into their parent, and a missing `[...]` leaves a `None` placeholder.
    """

    __slots__ = ("origin", "size", "plan", "trailing", "method", "simple", "discard")

    def __init__(self, rule: Any) -> None:
        expansion = rule.expansion
        self.origin = str(rule.origin.name)
        self.size = len(expansion)
        empties = rule.options.empty_indices
        if empties:
            runs = [len(ones) for ones in "".join(str(int(b)) for b in empties).split("0")]
        else:
            runs = [0] * (self.size + 1)
        plan: list[tuple[int, bool, int]] = []
        pending = 0
        for i, sym in enumerate(expansion):
            pending += runs[i]
            if sym.is_term and sym.name.startswith("_"):
                continue
            plan.append((i, not sym.is_term and sym.name.startswith("_"), pending))
            pending = 0
        self.plan = plan
        self.trailing = pending + runs[self.size]
        self.simple = (not self.trailing and len(plan) == self.size
                       and not any(expand or nones for _, expand, nones in plan))
        name = self.origin
        self.method = None if name.startswith("_") else getattr(
            _Callbacks, "_loc" if name == "loc" else name)
        # Ops and blocks attach themselves while being reduced, so the repetition rules that
        # collect them would only copy ever-growing lists of None: they produce nothing.
        self.discard = name.startswith("__") and all(
            sym.name in ("op", "block", name) or (sym.is_term and sym.name.startswith("_"))
            for sym in expansion)

    def children(self, values: list) -> list:
        out: list = []
        for i, expand, nones in self.plan:
            if nones:
                out.extend([None] * nones)
            if expand:
                out.extend(values[i])
            else:
                out.append(values[i])
        if self.trailing:
            out.extend([None] * self.trailing)
        return out


@lru_cache(maxsize=1)
def _tables() -> tuple[list[dict], dict[str, int], dict[str, int]]:
    """LALR tables that lark builds from grammar.lark, re-keyed for a fast driver.

    Each state maps a symbol name (plain `str`, so lookups never call lark's `Token.__eq__`)
    to `(True, next_state)` for a shift/goto or `(False, reducer)` for a reduction.
    """
    lark = Lark(_GRAMMAR.read_text(), parser="lalr", lexer=IRLexer, maybe_placeholders=True,
                start=["start", "attr_dict_start"])
    table = lark.parser.parser.parser.parse_table
    reducers = {rule: _Reducer(rule) for rule in lark.rules}
    n_states = max(table.states) + 1
    states: list[dict] = [{} for _ in range(n_states)]
    for state, row in table.states.items():
        states[state] = {str(sym): ((True, arg) if kind is Shift else (False, reducers[arg]))
                         for sym, (kind, arg) in row.items()}
    return states, dict(table.start_states), dict(table.end_states)


def _drive(callbacks: _Callbacks, tokens: Iterator[Token], start: str = "start") -> Any:
    """Run the LALR automaton over `tokens`, calling `callbacks` on reductions."""
    states, starts, ends = _tables()
    end_state = ends[start]
    state_stack = [starts[start]]
    value_stack: list = []
    push_state = state_stack.append
    push_value = value_stack.append
    nothing: tuple = ()
    for tok in tokens:
        ttype = tok.type
        while True:
            row = states[state_stack[-1]]
            action = row.get(ttype)
            if action is None:
                raise _unexpected_token(tok, row, callbacks.filename)
            shift, arg = action
            if shift:
                push_state(arg)
                push_value(tok)
                break
            size = arg.size
            if arg.discard:
                del value_stack[-size:]
                del state_stack[-size:]
                push_value(nothing)
            else:
                if size:
                    values = value_stack[-size:]
                    del value_stack[-size:]
                    del state_stack[-size:]
                else:
                    values = []
                children = values if arg.simple else arg.children(values)
                method = arg.method
                push_value(children if method is None else method(callbacks, children))
            push_state(states[state_stack[-1]][arg.origin][1])
            if ttype == "$END" and state_stack[-1] == end_state:
                return value_stack[-1]
    return None


def _unexpected_token(tok: Token, row: dict, filename: str) -> DiagnosticError:
    expected = {name for name in row if name.isupper() or name.startswith("_")
                or name == "$END"}
    if tok.type == "$END":
        where = FileLineColLoc(filename, tok.line or 1, tok.column or 1)
        if tok.value == "{":
            return DiagnosticError(where, "'{' is never closed (unexpected end of input)")
        return DiagnosticError(where, "unexpected end of input: incomplete op")
    if tok.type == "_RBRACE" and "_RBRACE" not in expected:
        msg = "unexpected '}': unbalanced braces"
    else:
        msg = f"unexpected {_describe(tok)}{_expected(expected)}"
    return DiagnosticError(FileLineColLoc(filename, tok.line or 1, tok.column or 1), msg)


def _run(callbacks: _Callbacks, text: str) -> None:
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        _drive(callbacks, tokenize(text, callbacks.filename, line=callbacks.first_line))
    finally:
        if gc_was_enabled:
            gc.enable()
