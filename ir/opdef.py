"""Declarative op definitions: typed operand/result/attribute/region fields and a registry.

A dialect declares an op as an `Operation` subclass with `NAME`, `OPERANDS`, `RESULTS`,
`ATTRS`, `REGIONS`, `TRAITS` and optionally `ASSEMBLY`, then decorates it with
`@register_op`. The decorator checks the declaration once, generates named accessors, and
records the op so the parser, printer and verifier can treat every op the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dlac.ir.attributes import Attribute
from dlac.ir.core import Operation, Region, Value

Constraint = type | tuple[type, ...] | None

ASSEMBLY_FORMATS = ("generic", "operands", "for", "symbol", "region")

TERMINATOR = "terminator"
NEEDS_TERMINATOR = "needs_terminator"
ISOLATED_FROM_ABOVE = "isolated_from_above"
SYMBOL = "symbol"
PURE = "pure"


@dataclass(frozen=True)
class Operand:
    name: str
    type: Constraint = None
    optional: bool = False
    variadic: bool = False


@dataclass(frozen=True)
class Result:
    name: str
    type: Constraint = None
    variadic: bool = False


@dataclass(frozen=True)
class Attr:
    name: str
    kind: Constraint = None
    optional: bool = False
    doc: str = ""


@dataclass(frozen=True)
class RegionSpec:
    name: str
    single_block: bool = True


@dataclass(frozen=True)
class OpSpec:
    operands: tuple[Operand, ...]
    results: tuple[Result, ...]
    attrs: tuple[Attr, ...]
    regions: tuple[RegionSpec, ...]
    traits: frozenset[str]
    assembly: str

    @property
    def variable_operand(self) -> int | None:
        for i, o in enumerate(self.operands):
            if o.optional or o.variadic:
                return i
        return None

    @property
    def variable_result(self) -> int | None:
        for i, r in enumerate(self.results):
            if r.variadic:
                return i
        return None


REGISTRY: dict[str, type[Operation]] = {}

_RESERVED = {"operands", "results", "attributes", "regions", "loc", "parent", "name",
             "result", "walk", "erase", "error", "attr"}


def _group(items: list[Any], specs: tuple, var_index: int | None) -> list[Any]:
    """Split a flat operand/result list into one entry per declared field."""
    if var_index is None:
        return list(items)
    n_fixed = len(specs) - 1
    n_var = len(items) - n_fixed
    before = items[:var_index]
    var = items[var_index:var_index + n_var]
    after = items[var_index + n_var:]
    return [*before, var, *after]


def _operand_getter(index: int, spec: OpSpec) -> property:
    field = spec.operands[index]
    var = spec.variable_operand

    def get(self: Operation) -> Value | list[Value] | None:
        group = _group(self.operands, spec.operands, var)[index]
        if field.optional:
            return group[0] if group else None
        return group

    return property(get, doc=f"operand '{field.name}'")


def _result_getter(index: int, spec: OpSpec) -> property:
    field = spec.results[index]
    var = spec.variable_result

    def get(self: Operation) -> Value | list[Value]:
        return _group(self.results, spec.results, var)[index]

    return property(get, doc=f"result '{field.name}'")


def _attr_getter(field: Attr) -> property:
    key = field.name

    def get(self: Operation) -> Any:
        found = self.attributes.get(key)
        return None if found is None else found.data

    return property(get, doc=field.doc or f"attribute '{key}'")


def _region_getter(index: int) -> property:
    def get(self: Operation) -> Region:
        return self.regions[index]

    return property(get)


def register_op(cls: type[Operation]) -> type[Operation]:
    """Check an op declaration, add accessors, and record it in the registry."""
    name = cls.__dict__.get("NAME", "")
    if "." not in name:
        raise TypeError(f"{cls.__name__}.NAME must be 'dialect.op', got {name!r}")
    if name in REGISTRY:
        raise TypeError(f"op '{name}' registered twice")
    operands = tuple(getattr(cls, "OPERANDS", ()))
    results = tuple(getattr(cls, "RESULTS", ()))
    attrs = tuple(getattr(cls, "ATTRS", ()))
    regions = tuple(getattr(cls, "REGIONS", ()))
    traits = frozenset(getattr(cls, "TRAITS", ()))
    default_asm = "generic" if regions else "operands"
    assembly = getattr(cls, "ASSEMBLY", default_asm)
    if assembly not in ASSEMBLY_FORMATS:
        raise TypeError(f"{name}: unknown assembly format {assembly!r}")
    if sum(o.optional or o.variadic for o in operands) > 1:
        raise TypeError(f"{name}: at most one optional or variadic operand")
    if sum(r.variadic for r in results) > 1:
        raise TypeError(f"{name}: at most one variadic result")
    if assembly == "for" and ({"lb", "ub", "step"} - {a.name for a in attrs} or len(regions) != 1):
        raise TypeError(f"{name}: 'for' assembly needs lb/ub/step attributes and one region")
    if assembly in ("symbol", "region") and len(regions) != 1:
        raise TypeError(f"{name}: '{assembly}' assembly needs exactly one region")
    if assembly == "operands" and regions:
        raise TypeError(f"{name}: 'operands' assembly cannot print regions")
    spec = OpSpec(operands, results, attrs, regions, traits, assembly)
    cls.SPEC = spec
    names: set[str] = set()
    fields: list[tuple[str, property]] = []
    fields += [(o.name, _operand_getter(i, spec)) for i, o in enumerate(operands)]
    fields += [(r.name, _result_getter(i, spec)) for i, r in enumerate(results)]
    fields += [(a.name, _attr_getter(a)) for a in attrs]
    fields += [(r.name, _region_getter(i)) for i, r in enumerate(regions)]
    for field_name, prop in fields:
        if field_name in _RESERVED or field_name in names:
            raise TypeError(f"{name}: field name '{field_name}' clashes")
        names.add(field_name)
        if field_name not in cls.__dict__:
            setattr(cls, field_name, prop)
    REGISTRY[name] = cls
    return cls


def lookup_op(name: str) -> type[Operation] | None:
    """The registered op class named `name` (importing `dlac.ir.dialects` registers the
    bundled ones; the parser does)."""
    return REGISTRY.get(name)


def _matches(value: object, constraint: Constraint) -> bool:
    return constraint is None or isinstance(value, constraint)


def _constraint_name(constraint: Constraint) -> str:
    if isinstance(constraint, tuple):
        return " or ".join(c.__name__ for c in constraint)
    return constraint.__name__ if constraint is not None else "any"


def verify_spec(op: Operation) -> None:
    """Check an op against its declaration: counts, types, attribute kinds, regions."""
    spec = op.SPEC
    _check_count(op, "operand", len(op.operands), spec.operands)
    _check_count(op, "result", len(op.results), spec.results)
    _check_types(op, "operand", spec.operands, op.operands, spec.variable_operand)
    _check_types(op, "result", spec.results, op.results, spec.variable_result)
    for field in spec.attrs:
        found = op.attributes.get(field.name)
        if found is None:
            if not field.optional:
                raise op.error(f"requires attribute '{field.name}'")
            continue
        if not _matches(found, field.kind):
            raise op.error(f"attribute '{field.name}' must be "
                           f"{_constraint_name(field.kind)}, got {found}")
    if len(op.regions) != len(spec.regions):
        raise op.error(f"expects {len(spec.regions)} region(s), got {len(op.regions)}")
    for rspec, region in zip(spec.regions, op.regions, strict=True):
        if rspec.single_block and len(region.blocks) > 1:
            raise op.error(f"region '{rspec.name}' must have a single block")


def _check_types(op: Operation, what: str, fields: tuple, values: list,
                 var_index: int | None) -> None:
    for field, group in zip(fields, _group(values, fields, var_index), strict=True):
        for v in group if isinstance(group, list) else [group]:
            if not _matches(v.type, field.type):
                raise op.error(f"{what} '{field.name}' must be "
                               f"{_constraint_name(field.type)}, got {v.type}")


def _check_count(op: Operation, what: str, n: int, fields: tuple) -> None:
    fixed = sum(1 for f in fields if not (getattr(f, "optional", False) or f.variadic))
    optional = any(getattr(f, "optional", False) for f in fields)
    variadic = any(f.variadic for f in fields)
    if variadic:
        ok, expect = n >= fixed, f"at least {fixed}"
    elif optional:
        ok, expect = fixed <= n <= fixed + 1, f"{fixed} or {fixed + 1}"
    else:
        ok, expect = n == fixed, str(fixed)
    if not ok:
        raise op.error(f"expects {expect} {what}s, got {n}")


__all__ = ["Attr", "Attribute", "Operand", "OpSpec", "REGISTRY", "RegionSpec", "Result",
           "lookup_op", "register_op", "verify_spec"]
