"""SSA values, operations, blocks and regions: the mutable graph passes rewrite."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, ClassVar

from dlac.ir.attributes import Attribute, to_attr
from dlac.ir.diagnostics import UNKNOWN_LOC, DiagnosticError, Location
from dlac.ir.types import Type

if TYPE_CHECKING:
    from dlac.ir.opdef import OpSpec


class Value:
    """An SSA value. `uses` lists (op, operand index) pairs, kept in sync by Operation."""

    __slots__ = ("type", "uses", "name_hint")

    def __init__(self, type: Type, name_hint: str | None = None) -> None:
        self.type = type
        self.uses: list[tuple[Operation, int]] = []
        self.name_hint = name_hint

    @property
    def owner(self) -> Operation | Block:
        raise NotImplementedError

    def replace_all_uses_with(self, new: Value) -> None:
        for op, idx in list(self.uses):
            op.set_operand(idx, new)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name_hint or ''}: {self.type}>"


class OpResult(Value):
    __slots__ = ("op", "index")

    def __init__(self, type: Type, op: Operation, index: int,
                 name_hint: str | None = None) -> None:
        super().__init__(type, name_hint)
        self.op = op
        self.index = index

    @property
    def owner(self) -> Operation:
        return self.op


class BlockArgument(Value):
    __slots__ = ("block", "index")

    def __init__(self, type: Type, block: Block, index: int,
                 name_hint: str | None = None) -> None:
        super().__init__(type, name_hint)
        self.block = block
        self.index = index

    @property
    def owner(self) -> Block:
        return self.block


class Operation:
    """A generic op. Dialects subclass it with a `SPEC` declaring fields and a `verify_`."""

    __slots__ = ("operands", "results", "attributes", "regions", "loc", "parent")

    NAME: ClassVar[str] = ""
    SPEC: ClassVar[OpSpec]

    def __init__(self, operands: list[Value] | tuple[Value, ...] = (),
                 result_types: list[Type] | tuple[Type, ...] = (),
                 attributes: dict[str, Attribute | object] | None = None,
                 regions: list[Region] | tuple[Region, ...] = (),
                 loc: Location = UNKNOWN_LOC) -> None:
        self.operands: list[Value] = list(operands)
        for i, v in enumerate(self.operands):
            v.uses.append((self, i))
        self.results: list[OpResult] = [OpResult(t, self, i) for i, t in enumerate(result_types)]
        self.attributes: dict[str, Attribute] = {}
        if attributes:
            for key, value in attributes.items():
                self.attributes[key] = to_attr(value)
        self.regions: list[Region] = []
        for region in regions:
            self.add_region(region)
        self.loc = loc
        self.parent: Block | None = None

    @property
    def name(self) -> str:
        return self.NAME

    @property
    def result(self) -> OpResult:
        if len(self.results) != 1:
            raise ValueError(f"'{self.name}' has {len(self.results)} results, not one")
        return self.results[0]

    def add_region(self, region: Region) -> Region:
        if region.parent is not None:
            raise ValueError("region already belongs to an op")
        region.parent = self
        self.regions.append(region)
        return region

    def set_operand(self, index: int, value: Value) -> None:
        old = self.operands[index]
        old.uses.remove((self, index))
        self.operands[index] = value
        value.uses.append((self, index))

    def set_operands(self, values: list[Value]) -> None:
        self.drop_operand_uses()
        self.operands = list(values)
        for i, v in enumerate(self.operands):
            v.uses.append((self, i))

    def drop_operand_uses(self) -> None:
        for i, v in enumerate(self.operands):
            v.uses.remove((self, i))

    def set_attr(self, key: str, value: Attribute | object) -> None:
        self.attributes[key] = to_attr(value)

    def attr(self, key: str, default: object = None) -> object:
        """The plain Python value of an attribute, or `default` when absent."""
        found = self.attributes.get(key)
        return default if found is None else found.data

    @property
    def parent_op(self) -> Operation | None:
        block = self.parent
        if block is None or block.parent is None:
            return None
        return block.parent.parent

    def is_within(self, ancestor: Operation) -> bool:
        """Whether this op is nested, at any depth, in one of `ancestor`'s regions."""
        parent = self.parent_op
        while parent is not None:
            if parent is ancestor:
                return True
            parent = parent.parent_op
        return False

    def walk(self) -> Iterator[Operation]:
        """Pre-order traversal of this op and everything nested in it."""
        yield self
        for region in self.regions:
            for block in region.blocks:
                for op in list(block.ops):
                    yield from op.walk()

    def clone(self, value_map: dict[int, Value] | None = None) -> Operation:
        """A deep copy; operands defined outside the op map through `value_map` (by id)."""
        vmap = {} if value_map is None else value_map
        new = type(self).__new__(type(self))
        Operation.__init__(new, [vmap.get(id(v), v) for v in self.operands],
                           [r.type for r in self.results], None, (), self.loc)
        new.attributes = dict(self.attributes)
        for old, res in zip(self.results, new.results, strict=True):
            res.name_hint = old.name_hint
            vmap[id(old)] = res
        for region in self.regions:
            copy = Region([Block([a.type for a in b.args], [a.name_hint for a in b.args])
                           for b in region.blocks])
            for block, twin in zip(region.blocks, copy.blocks, strict=True):
                for old, arg in zip(block.args, twin.args, strict=True):
                    vmap[id(old)] = arg
            for block, twin in zip(region.blocks, copy.blocks, strict=True):
                for op in block.ops:
                    twin.append(op.clone(vmap))
            new.add_region(copy)
        return new

    def erase(self) -> None:
        """Detach from the parent block and drop operand uses; results must be unused."""
        for res in self.results:
            if res.uses:
                raise ValueError(f"cannot erase '{self.name}': result #{res.index} still used")
        for op in list(self.walk())[::-1]:
            op.drop_operand_uses()
        if self.parent is not None:
            self.parent.ops.remove(self)
            self.parent = None

    def error(self, message: str) -> DiagnosticError:
        return DiagnosticError(self.loc, f"'{self.name}' op {message}")

    def verify_(self) -> None:
        """Op-specific checks; raise `self.error(...)` on failure."""

    def __repr__(self) -> str:
        return f"<{self.name} at {self.loc.prefix()}>"


class Block:
    __slots__ = ("args", "ops", "parent")

    def __init__(self, arg_types: list[Type] | tuple[Type, ...] = (),
                 arg_names: list[str | None] | tuple[str | None, ...] | None = None) -> None:
        names = arg_names or [None] * len(arg_types)
        pairs = enumerate(zip(arg_types, names, strict=True))
        self.args: list[BlockArgument] = [BlockArgument(t, self, i, n) for i, (t, n) in pairs]
        self.ops: list[Operation] = []
        self.parent: Region | None = None

    def add_arg(self, type: Type, name_hint: str | None = None) -> BlockArgument:
        arg = BlockArgument(type, self, len(self.args), name_hint)
        self.args.append(arg)
        return arg

    def append(self, op: Operation) -> Operation:
        if op.parent is not None:
            raise ValueError(f"'{op.name}' already belongs to a block")
        op.parent = self
        self.ops.append(op)
        return op

    def insert(self, index: int, op: Operation) -> Operation:
        if op.parent is not None:
            raise ValueError(f"'{op.name}' already belongs to a block")
        op.parent = self
        self.ops.insert(index, op)
        return op

    def insert_before(self, anchor: Operation, op: Operation) -> Operation:
        return self.insert(self.ops.index(anchor), op)

    def insert_after(self, anchor: Operation, op: Operation) -> Operation:
        return self.insert(self.ops.index(anchor) + 1, op)

    def detach(self, op: Operation) -> Operation:
        self.ops.remove(op)
        op.parent = None
        return op


class Region:
    __slots__ = ("blocks", "parent")

    def __init__(self, blocks: list[Block] | tuple[Block, ...] = ()) -> None:
        self.blocks: list[Block] = []
        self.parent: Operation | None = None
        for block in blocks:
            self.add_block(block)

    def add_block(self, block: Block) -> Block:
        if block.parent is not None:
            raise ValueError("block already belongs to a region")
        block.parent = self
        self.blocks.append(block)
        return block

    @property
    def block(self) -> Block:
        """The single (entry) block, created on demand."""
        if not self.blocks:
            self.add_block(Block())
        return self.blocks[0]

    @property
    def ops(self) -> list[Operation]:
        return self.block.ops
