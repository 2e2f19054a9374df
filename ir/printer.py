"""IR -> text. Output re-parses to the same IR, and printing that again gives the same text.

Value names come from name hints where present (deduplicated with `_N` suffixes) and from a
counter otherwise; numeric-looking hints are ignored so a re-parse cannot change numbering.
Custom forms (`operands`, `for`, `symbol`, `region`) are used only when the op's contents
fit them exactly; anything else prints in the generic form, which every op supports.
"""

from __future__ import annotations

import re

from dlac.ir.attributes import (
    IntAttr,
    StringAttr,
    TypeAttr,
    format_attr_dict,
    format_symbol,
)
from dlac.ir.core import Block, Operation, Region, Value
from dlac.ir.diagnostics import UnknownLoc, quote_string
from dlac.ir.types import FunctionType, IndexType, format_result_types, i64

_NUMERIC = re.compile(r"^(\d+|arg\d+)$")
_BAD_CHARS = re.compile(r"[^A-Za-z0-9_$.\-]")


class Printer:
    def __init__(self, generic: bool = False, debug_locs: bool = False) -> None:
        self.generic = generic
        self.debug_locs = debug_locs
        self.names: dict[int, str] = {}
        self.used: set[str] = set()
        self.counter = 0
        self.arg_counter = 0
        self.lines: list[str] = []

    # -- names ----------------------------------------------------------------------------
    def define(self, value: Value, is_arg: bool = False) -> str:
        hint = value.name_hint
        if hint:
            hint = _BAD_CHARS.sub("_", hint)
        if hint and not _NUMERIC.match(hint):
            name = hint
            suffix = 1
            while name in self.used:
                name = f"{hint}_{suffix}"
                suffix += 1
        elif is_arg:
            name = f"arg{self.arg_counter}"
            self.arg_counter += 1
            while name in self.used:
                name = f"arg{self.arg_counter}"
                self.arg_counter += 1
        else:
            name = str(self.counter)
            self.counter += 1
            while name in self.used:
                name = str(self.counter)
                self.counter += 1
        self.used.add(name)
        text = "%" + name
        self.names[id(value)] = text
        return text

    def ref(self, value: Value) -> str:
        name = self.names.get(id(value))
        if name is None:
            return "%<<UNDEFINED>>"
        return name

    # -- ops ------------------------------------------------------------------------------
    def print_op(self, op: Operation, indent: int) -> None:
        pad = "  " * indent
        fmt = "generic" if self.generic else op.SPEC.assembly
        if fmt != "generic" and not _fits(op, fmt):
            fmt = "generic"
        operands = ", ".join(self.ref(v) for v in op.operands)
        if fmt in ("for", "symbol", "region"):
            self._print_custom_region_op(op, fmt, pad, indent)
            return
        results = ", ".join(self.define(r) for r in op.results)
        head = f"{pad}{results} = " if results else pad
        loc = self._loc(op)
        if fmt == "operands":
            parts = [head + op.NAME]
            if operands:
                parts.append(" " + operands)
            if op.attributes:
                parts.append(" " + format_attr_dict(op.attributes))
            if op.results:
                parts.append(" : " + _signature(op))
            elif op.operands:
                parts.append(" : " + ", ".join(str(v.type) for v in op.operands))
            self.lines.append("".join(parts) + loc)
            return
        text = f"{head}{quote_string(op.NAME)}({operands})"
        if not op.regions:
            attrs = " " + format_attr_dict(op.attributes) if op.attributes else ""
            self.lines.append(f"{text}{attrs} : {_signature(op)}{loc}")
            return
        self.lines.append(text + " ({")
        for i, region in enumerate(op.regions):
            if i:
                self.lines[-1] += ", {"
            self._print_region(region, indent, entry_args_in_header=False)
        attrs = " " + format_attr_dict(op.attributes) if op.attributes else ""
        self.lines[-1] += f"){attrs} : {_signature(op)}{loc}"

    def _print_custom_region_op(self, op: Operation, fmt: str, pad: str, indent: int) -> None:
        region = op.regions[0]
        skip: tuple[str, ...]
        if fmt == "for":
            block = region.blocks[0]
            iv = self.define(block.args[0], is_arg=True)
            a = op.attributes
            head = (f"{pad}{op.NAME} {iv} = {a['lb'].data} to {a['ub'].data} "
                    f"step {a['step'].data}")
            skip = ("lb", "ub", "step")
        elif fmt == "symbol":
            ftype = op.attributes["function_type"].data
            block = region.blocks[0]
            args = ", ".join(f"{self.define(arg, is_arg=True)}: {arg.type}" for arg in block.args)
            head = f"{pad}{op.NAME} {format_symbol(op.attributes['sym_name'].data)}({args})"
            if ftype.results:
                head += " -> " + format_result_types(ftype.results)
            skip = ("sym_name", "function_type")
        else:
            head = pad + op.NAME
            if "sym_name" in op.attributes:
                head += " " + format_symbol(op.attributes["sym_name"].data)
            skip = ("sym_name",)
        rest = {k: v for k, v in op.attributes.items() if k not in skip}
        if rest:
            head += " attributes " + format_attr_dict(rest)
        self.lines.append(head + " {")
        self._print_region(region, indent, entry_args_in_header=True)
        self.lines[-1] += self._loc(op)

    def _print_region(self, region: Region, indent: int, entry_args_in_header: bool) -> None:
        """Print a region's blocks and its closing brace; the caller printed the '{'."""
        for bi, block in enumerate(region.blocks):
            label_needed = bi > 0 or (block.args and not entry_args_in_header)
            if label_needed:
                self._print_label(block, bi, indent)
            for op in block.ops:
                self.print_op(op, indent + 1)
        self.lines.append("  " * indent + "}")

    def _print_label(self, block: Block, bi: int, indent: int) -> None:
        label = f"{'  ' * indent}^bb{bi}"
        if block.args:
            args = ", ".join(f"{self.define(a, is_arg=True)}: {a.type}" for a in block.args)
            label += f"({args})"
        self.lines.append(label + ":")

    def _loc(self, op: Operation) -> str:
        if not self.debug_locs or isinstance(op.loc, UnknownLoc):
            return ""
        return " " + op.loc.text()


def _signature(op: Operation) -> str:
    ins = ", ".join(str(v.type) for v in op.operands)
    return f"({ins}) -> {format_result_types([r.type for r in op.results])}"


def _fits(op: Operation, fmt: str) -> bool:
    """Whether the op's contents can be expressed exactly by its custom form."""
    if fmt == "operands":
        return not op.regions
    if len(op.regions) != 1:
        return False
    region = op.regions[0]
    attrs = op.attributes
    if fmt == "for":
        if len(region.blocks) != 1 or len(region.blocks[0].args) != 1:
            return False
        if not isinstance(region.blocks[0].args[0].type, IndexType) or op.operands or op.results:
            return False
        return all(isinstance(attrs.get(k), IntAttr) and attrs[k].type is i64
                   for k in ("lb", "ub", "step"))
    if fmt == "symbol":
        sym, ftype = attrs.get("sym_name"), attrs.get("function_type")
        if not isinstance(sym, StringAttr) or not isinstance(ftype, TypeAttr):
            return False
        if not isinstance(ftype.data, FunctionType) or len(region.blocks) != 1:
            return False
        block_types = tuple(a.type for a in region.blocks[0].args)
        return block_types == ftype.data.inputs and not op.operands and not op.results
    sym = attrs.get("sym_name")
    if sym is not None and not isinstance(sym, StringAttr):
        return False
    first_has_args = bool(region.blocks and region.blocks[0].args)
    return not first_has_args and not op.operands and not op.results


def print_op(op: Operation, generic: bool = False, debug_locs: bool = False) -> str:
    """Print an op (normally a module) and everything nested in it, ending in a newline."""
    printer = Printer(generic=generic, debug_locs=debug_locs)
    printer.print_op(op, 0)
    return "\n".join(printer.lines) + "\n"
