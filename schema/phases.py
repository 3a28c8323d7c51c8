"""Every difference becomes an operation, in one of Nova's three phases.

- *expand* (safe while old code runs): create a table (with its
  constraints), add a nullable column (or NOT NULL with a default), add a
  non-unique index, relax NOT NULL, widen a varchar or an integer;
- *migrate* (changes semantics, not data): add or drop a unique
  index/constraint or a foreign key, other column changes that keep every
  value (default, autoincrement);
- *contract* (can break old code or lose data): drop a table, a column or a
  non-unique index; tighten to NOT NULL; narrow or change a type.

A NOT NULL column without a default is added nullable in *expand* and
tightened in *contract*, so old code that does not know the column keeps
inserting. Operations are ordered by dependency (tables before their foreign
keys, foreign keys dropped before what they use, a drop before the re-add of
the same name); an operation that depends on one in a later phase moves to
that phase. Pure functions: no database is touched here.
"""

from __future__ import annotations

import dataclasses
import heapq
from dataclasses import dataclass, field

from . import type_rules
from .diff import Difference
from .schema import Column, Schema

PHASES = ("expand", "migrate", "contract")
PHASE_RANK = {name: i for i, name in enumerate(PHASES)}

#: Tie-break inside a phase once dependencies are satisfied: drops of
#: constraints first, then creations, then the drops that lose data.
KIND_RANK = {
    kind: i
    for i, kind in enumerate(
        (
            "drop_foreign_key",
            "drop_check",
            "drop_unique",
            "drop_index",
            "create_table",
            "add_column",
            "alter_column",
            "alter_primary_key",
            "create_index",
            "add_unique",
            "add_foreign_key",
            "drop_column",
            "drop_table",
        )
    )
}

@dataclass
class Operation:
    kind: str
    table: str
    object: str
    phase: str
    description: str
    #: for alter_column: "widen", "narrow", "change", "relax", "tighten", "default", "autoincrement"
    change: str = ""
    want: object = field(default=None, repr=False)
    have: object = field(default=None, repr=False)
    #: the operations this one must follow (indexes into the plan's list, set by ``order``)
    after: list = field(default_factory=list, repr=False)

    @property
    def columns(self) -> tuple:
        obj = self.want if self.want is not None else self.have
        if isinstance(obj, Column):
            return (obj.name,)
        return tuple(getattr(obj, "columns", ()) or ())

    @property
    def name(self) -> str | None:
        obj = self.want if self.want is not None else self.have
        return getattr(obj, "name", None)

    def as_dict(self) -> dict:
        return {
            "phase": self.phase,
            "kind": self.kind,
            "table": self.table,
            "object": self.object,
            "change": self.change or None,
            "description": self.description,
        }


# ---- types ------------------------------------------------------------------------
def type_change(old: str, new: str, vendor: str | None = None) -> str:
    """``widen`` (every value fits), ``narrow`` (values may not fit) or ``change`` (another kind of type)."""
    from .dialects import DIALECTS, Dialect

    return type_rules.type_change(DIALECTS.get(vendor, Dialect), old, new)


# ---- classification ----------------------------------------------------------------
def operations(differences: list[Difference], expected: Schema, live: Schema) -> list[Operation]:
    """The operations that bring ``live`` to ``expected``, each in its own phase (not yet ordered)."""
    ops: list[Operation] = []
    for d in differences:
        ops += _classify(d, expected, live)
    return ops


def _op(kind, d: Difference, phase, description, change="", want=None, have=None) -> Operation:
    return Operation(kind, d.table, d.object, phase, description, change, want, have)


def _classify(d: Difference, expected: Schema, live: Schema) -> list[Operation]:
    t = d.table
    if d.kind == "missing_table":
        return _create_table(d, expected)
    if d.kind == "extra_table":
        return [_op("drop_table", d, "contract", f"drop table {t}", have=live[t])]
    if d.kind == "missing_column":
        column = d.want
        if column.nullable or column.default is not None or column.autoincrement:
            return [_op("add_column", d, "expand", f"add column {t}.{column.name} {column.describe()}", want=column)]
        loose = dataclasses.replace(column, nullable=True)
        return [
            _op("add_column", d, "expand", f"add column {t}.{column.name} {loose.describe()}", want=loose),
            _op("alter_column", d, "contract", f"tighten {t}.{column.name} to NOT NULL", "tighten", column, loose),
        ]
    if d.kind == "extra_column":
        return [_op("drop_column", d, "contract", f"drop column {t}.{d.object}", have=d.have)]
    if d.kind == "column_type":
        change = type_change(d.have.type, d.want.type, live.vendor)
        phase = "expand" if change == "widen" else "contract"
        text = f"{change} {t}.{d.object} from {d.have.type} to {d.want.type}"
        return [_op("alter_column", d, phase, text, change, d.want, d.have)]
    if d.kind == "column_nullable":
        relax = d.want.nullable
        change, phase = ("relax", "expand") if relax else ("tighten", "contract")
        text = f"{change} {t}.{d.object} to {'NULL' if relax else 'NOT NULL'}"
        return [_op("alter_column", d, phase, text, change, d.want, d.have)]
    if d.kind in ("column_default", "column_autoincrement"):
        change = "default" if d.kind == "column_default" else "autoincrement"
        text = f"set {change} of {t}.{d.object} to {d.expected}"
        return [_op("alter_column", d, "migrate", text, change, d.want, d.have)]
    if d.kind == "primary_key":
        return [
            _op(
                "alter_primary_key",
                d,
                "contract",
                f"primary key of {t} to ({d.expected})",
                want=expected[t],
                have=live[t],
            )
        ]
    if d.kind == "missing_index":
        phase = "migrate" if d.want.unique else "expand"
        return [_op("create_index", d, phase, f"create {d.want.describe()} on {t}", want=d.want)]
    if d.kind == "extra_index":
        phase = "migrate" if d.have.unique else "contract"
        return [_op("drop_index", d, phase, f"drop {d.have.describe()} on {t}", have=d.have)]
    if d.kind == "changed_index":
        drop_phase = "migrate" if d.have.unique else "contract"
        add_phase = "migrate" if d.want.unique else "expand"
        return [
            _op("drop_index", d, drop_phase, f"drop {d.have.describe()} on {t}", have=d.have),
            _op("create_index", d, add_phase, f"create {d.want.describe()} on {t}", want=d.want),
        ]
    if d.kind == "missing_unique":
        return [_op("add_unique", d, "migrate", f"add {d.want.describe()} on {t}", want=d.want)]
    if d.kind == "extra_unique":
        return [_op("drop_unique", d, "migrate", f"drop {d.have.describe()} on {t}", have=d.have)]
    if d.kind == "missing_foreign_key":
        return [_op("add_foreign_key", d, "migrate", f"add {d.want.describe()} on {t}", want=d.want)]
    if d.kind == "extra_foreign_key":
        return [_op("drop_foreign_key", d, "migrate", f"drop {d.have.describe()} on {t}", have=d.have)]
    if d.kind == "extra_check":
        return [_op("drop_check", d, "migrate", f"drop CHECK {d.object} on {t}", have=d.have)]
    raise ValueError(f"no operation for a difference of kind {d.kind!r}")


def _create_table(d: Difference, expected: Schema) -> list[Operation]:
    """A new table and its foreign keys, all *expand*: nothing can use the table yet."""
    table = d.want
    ops = [_op("create_table", d, "expand", f"create table {table.name}", want=table)]
    for fk in table.foreign_keys:
        ops.append(
            Operation(
                "add_foreign_key",
                table.name,
                ", ".join(fk.columns),
                "expand",
                f"add {fk.describe()} on {table.name}",
                want=fk,
                change="new_table",
            )
        )
    return ops


# ---- ordering ------------------------------------------------------------------------
def _touches(op: Operation, table: str, columns) -> bool:
    return op.table == table and bool(set(op.columns) & set(columns))


def _references(op: Operation) -> tuple[str, tuple]:
    obj = op.want if op.want is not None else op.have
    return getattr(obj, "ref_table", None), tuple(getattr(obj, "ref_columns", ()) or ())


def _must_follow(op: Operation, other: Operation) -> bool:
    """Whether ``op`` has to run after ``other``."""
    if op is other:
        return False
    kind, okind = op.kind, other.kind
    if kind == "add_foreign_key":
        ref_table, ref_columns = _references(op)
        if okind == "create_table" and other.table in (op.table, ref_table):
            return True
        if okind in ("add_column", "alter_column") and (
            _touches(other, op.table, op.columns) or _touches(other, ref_table, ref_columns)
        ):
            return True
        if okind in ("create_index", "add_unique") and _touches(other, ref_table, ref_columns):
            return True
        return okind == "drop_foreign_key" and op.name is not None and op.name == other.name
    if kind in ("create_index", "add_unique"):
        if okind in ("add_column", "alter_column") and _touches(other, op.table, op.columns):
            return True
        # a drop before the re-add of the same name (index names share one namespace)
        return okind in ("drop_index", "drop_unique", "drop_foreign_key") and op.name and op.name == other.name
    if kind in ("drop_column", "alter_column", "alter_primary_key"):
        if okind in ("drop_index", "drop_unique", "drop_check", "drop_foreign_key") and _touches(
            other, op.table, op.columns or (op.want.primary_key if kind == "alter_primary_key" else ())
        ):
            return True
        if okind == "drop_foreign_key" and _references(other)[0] == op.table:
            return True
        # one column's changes in phase order: relax/widen before tighten/narrow
        return (
            kind == "alter_column"
            and okind == "alter_column"
            and _touches(other, op.table, op.columns)
            and (PHASE_RANK[other.phase] < PHASE_RANK[op.phase])
        )
    if kind == "drop_table":
        if okind == "drop_foreign_key" and _references(other)[0] == op.table:
            return True
        if okind == "drop_table":
            return any(fk.ref_table == op.table for fk in other.have.foreign_keys)
    return False


def order(ops: list[Operation]) -> list[Operation]:
    """Ops in the order they run: by phase, dependencies first; a dependency in a later phase moves the op."""
    for op in ops:
        op.after = [j for j, other in enumerate(ops) if _must_follow(op, other)]
    changed = True
    while changed:
        changed = False
        for op in ops:
            for j in op.after:
                if PHASE_RANK[ops[j].phase] > PHASE_RANK[op.phase]:
                    op.phase = ops[j].phase
                    changed = True
    return _topological(ops)


def _topological(ops: list[Operation]) -> list[Operation]:
    def key(i):
        return (PHASE_RANK[ops[i].phase], KIND_RANK[ops[i].kind], ops[i].table, i)

    waiting = {i: set(op.after) for i, op in enumerate(ops)}
    heap = [key(i) for i, deps in waiting.items() if not deps]
    heapq.heapify(heap)
    result, done = [], set()
    while heap:
        i = heapq.heappop(heap)[-1]
        done.add(i)
        result.append(ops[i])
        for j, deps in waiting.items():
            if i in deps:
                deps.discard(i)
                if not deps and j not in done:
                    heapq.heappush(heap, key(j))
    if len(result) != len(ops):  # a cycle: keep the rest in phase order rather than lose it
        result += sorted((op for i, op in enumerate(ops) if i not in done), key=lambda o: PHASE_RANK[o.phase])
    return result


def plan_operations(differences, expected: Schema, live: Schema) -> list[Operation]:
    """Classified and ordered: what :mod:`schema.plan` turns into DDL."""
    return order(operations(differences, expected, live))
