"""One class per kind of schema change (alembic's ``ops``, Django's ``Operation``).

Each class carries everything about its kind, so adding a kind is adding one class:

- ``from_difference``: the operations a :class:`~schema.diff.Difference` becomes,
  each in its phase (``expand``, ``migrate``, ``contract``);
- ``must_follow(other)``: the dependency order inside a plan;
- ``apply(schema)``: its effect on a schema, so a plan can be simulated (the DDL of
  each operation is written against the schema the earlier ones leave);
- ``statements(writer, before, after)``: its DDL, through the dialect;
- ``loss(data)``: what it would destroy in the live data (counted there), and
  what a backup keeps of it;
- ``inverse()``: the operation that undoes it, where one exists;
- ``describe()`` / ``as_dict()``: the text and JSON forms.

``rank`` breaks ties inside a phase once dependencies are satisfied: drops of
constraints first, then creations, then the drops that lose data.
"""

from __future__ import annotations

import copy
import dataclasses
from dataclasses import dataclass, field
from typing import ClassVar

from . import type_rules
from .destructive import Loss
from .schema import Column, Schema, Table
from .statements import Statement, plain

PHASES = ("expand", "migrate", "contract")
PHASE_RANK = {name: i for i, name in enumerate(PHASES)}


def type_change(old: str, new: str, vendor: str | None = None) -> str:
    """``widen`` (every value fits), ``narrow`` (values may not fit) or ``change`` (another kind of type)."""
    from .dialects import TYPE_RULES, TypeRules

    return type_rules.type_change(TYPE_RULES.get(vendor, TypeRules), old, new)


@dataclass
class Operation:
    table: str
    object: str
    phase: str
    description: str
    #: for AlterColumn: "widen", "narrow", "change", "relax", "tighten", "default", "autoincrement";
    #: for AddForeignKey: "new_table" when it comes with its table
    change: str = ""
    want: object = field(default=None, repr=False)
    have: object = field(default=None, repr=False)
    #: the operations this one must follow (indexes into the plan's list, set by ``schema.phases.order``)
    after: list = field(default_factory=list, repr=False)

    kind: ClassVar[str] = ""
    rank: ClassVar[int] = 0
    #: the Difference kinds this class plans (``from_difference``)
    differences: ClassVar[tuple] = ()
    #: whether SQLite rebuilds the table for it (False: every backend does it in place)
    rebuilds: ClassVar[bool] = True
    #: written inside its table's CREATE TABLE where the dialect does so (a new table's foreign key)
    written_with_table: ClassVar[bool] = False

    # ---- planning -----------------------------------------------------------------
    @classmethod
    def from_difference(cls, d, expected: Schema, live: Schema) -> list[Operation]:
        raise NotImplementedError

    def must_follow(self, other: Operation) -> bool:
        return False

    # ---- what it is -----------------------------------------------------------------
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

    def touches(self, table: str, columns) -> bool:
        return self.table == table and bool(set(self.columns) & set(columns))

    def references(self) -> tuple[str | None, tuple]:
        obj = self.want if self.want is not None else self.have
        return getattr(obj, "ref_table", None), tuple(getattr(obj, "ref_columns", ()) or ())

    def describe(self) -> str:
        return self.description

    def as_dict(self) -> dict:
        return {
            "phase": self.phase,
            "kind": self.kind,
            "table": self.table,
            "object": self.object,
            "change": self.change or None,
            "description": self.description,
        }

    # ---- effect, DDL, data ------------------------------------------------------------
    def apply(self, state: Schema, dialect) -> None:
        raise NotImplementedError

    def statements(self, writer, before: Table | None, after: Table | None) -> list[Statement]:
        raise NotImplementedError

    def loss(self, data) -> Loss | None:
        """What this operation would destroy, counted on the live data (``schema.destructive.LiveData``)."""
        return None

    def backup_what(self) -> str:
        """The ``<what>`` of the backup table that keeps what this operation destroys."""
        return f"{self.table}_{self.object}"

    def undermines(self) -> tuple[str, str | None, bool] | None:
        """``(table, column or None, dropped)``: what of the live schema this operation drops
        (``True``) or retypes (``False``), which whatever reads it would lose (``schema.dependents``)."""
        return None

    def inverse(self) -> Operation | None:
        """The operation that undoes this one (on the schema), or ``None`` when none can."""
        return None

    def _mirror(self, cls, phase: str, description: str, change: str = "") -> Operation:
        return cls(self.table, self.object, phase, description, change, want=self.have, have=self.want)


def _key_columns(column: str, table: Table | None):
    """The primary key and the column: enough to put the values back (all columns without a key)."""
    key = [c for c in table.primary_key if c != column] if table is not None else []
    return [*key, column] if key else None


# ---- tables -------------------------------------------------------------------------------
class CreateTable(Operation):
    kind = "create_table"
    rank = 4
    differences = ("missing_table",)
    rebuilds = False

    @classmethod
    def from_difference(cls, d, expected, live):
        """A new table and its foreign keys, all *expand*: nothing can use the table yet."""
        table = d.want
        ops: list[Operation] = [cls(d.table, d.object, "expand", f"create table {table.name}", want=table)]
        for fk in table.foreign_keys:
            ops.append(
                AddForeignKey(
                    table.name,
                    ", ".join(fk.columns),
                    "expand",
                    f"add {fk.describe()} on {table.name}",
                    "new_table",
                    want=fk,
                )
            )
        return ops

    def must_follow(self, other):
        """After what its foreign keys reference: written inside CREATE TABLE (MySQL, PostgreSQL),
        they need the referenced table, column and key to exist already, as an added one does."""
        return any(
            fk.ref_table != self.table and _reference_made_by(other, fk.ref_table, fk.ref_columns)
            for fk in self.want.foreign_keys
        )

    def apply(self, state, dialect):
        table = copy.deepcopy(self.want)
        if not dialect.inline_foreign_keys:
            table.foreign_keys = []
        state.add_table(table)

    def statements(self, writer, before, after):
        return plain(writer.ddl.create_table(after))

    def inverse(self):
        return DropTable(self.table, self.object, "contract", f"drop table {self.table}", have=self.want)


class DropTable(Operation):
    kind = "drop_table"
    rank = 12
    differences = ("extra_table",)
    rebuilds = False

    @classmethod
    def from_difference(cls, d, expected, live):
        return [cls(d.table, d.object, "contract", f"drop table {d.table}", have=live[d.table])]

    def must_follow(self, other):
        if isinstance(other, DropForeignKey) and other.references()[0] == self.table:
            return True
        if isinstance(other, DropTable):
            return any(fk.ref_table == self.table for fk in other.have.foreign_keys)
        return False

    def apply(self, state, dialect):
        state.tables.pop(self.table, None)

    def statements(self, writer, before, after):
        return [Statement(f"DROP TABLE {writer.quote(self.table)}")]

    def loss(self, data):
        return Loss(self, data.count(self.table), "rows", False, (self.table, None, ""))

    def backup_what(self):
        return self.table

    def undermines(self):
        return (self.table, None, True)

    def inverse(self):
        return CreateTable(self.table, self.object, "expand", f"create table {self.table}", want=self.have)


class AlterPrimaryKey(Operation):
    kind = "alter_primary_key"
    rank = 7
    differences = ("primary_key",)

    @classmethod
    def from_difference(cls, d, expected, live):
        t = d.table
        return [cls(t, d.object, "contract", f"primary key of {t} to ({d.expected})", want=expected[t], have=live[t])]

    def must_follow(self, other):
        if _column_change_follows(self, other):
            return True
        # a key an auto-increment column needs goes after that column stops auto-incrementing
        return (
            isinstance(other, AlterColumn)
            and other.table == self.table
            and other.change == "autoincrement"
            and not _auto_increment_added(other)
        )

    def apply(self, state, dialect):
        state.tables[self.table].primary_key = self.want.primary_key

    def statements(self, writer, before, after):
        return plain(writer.dialect.alter_primary_key_sql(writer.quote, before, after))

    def inverse(self):
        keys = ", ".join(self.have.primary_key)
        return self._mirror(AlterPrimaryKey, "contract", f"primary key of {self.table} to ({keys})")


# ---- columns ------------------------------------------------------------------------------
def _auto_increment_added(op: Operation) -> bool:
    return op.change == "autoincrement" and bool(getattr(op.want, "autoincrement", False))


def _column_change_follows(op: Operation, other: Operation) -> bool:
    """A column change (drop, alter, primary key) runs after the constraints on it are dropped."""
    if isinstance(other, (DropIndex, DropUnique, DropCheck, DropForeignKey)) and other.touches(op.table, op.columns):
        return True
    return isinstance(other, DropForeignKey) and other.references()[0] == op.table


class AddColumn(Operation):
    kind = "add_column"
    rank = 5
    differences = ("missing_column",)
    rebuilds = False

    @classmethod
    def from_difference(cls, d, expected, live):
        """A NOT NULL column without a default is added nullable (expand) and tightened (contract)."""
        t, column = d.table, d.want
        if column.nullable or column.default is not None or column.autoincrement:
            return [cls(t, d.object, "expand", f"add column {t}.{column.name} {column.describe()}", want=column)]
        loose = dataclasses.replace(column, nullable=True)
        return [
            cls(t, d.object, "expand", f"add column {t}.{column.name} {loose.describe()}", want=loose),
            AlterColumn(t, d.object, "contract", f"tighten {t}.{column.name} to NOT NULL", "tighten", column, loose),
        ]

    def apply(self, state, dialect):
        state.tables[self.table].add_column(self.want)

    def statements(self, writer, before, after):
        definition = writer.dialect.column_definition(writer.quote, self.want)
        return [Statement(f"ALTER TABLE {writer.quote(self.table)} ADD COLUMN {definition}")]

    def inverse(self):
        return DropColumn(
            self.table, self.object, "contract", f"drop column {self.table}.{self.object}", have=self.want
        )


class DropColumn(Operation):
    kind = "drop_column"
    rank = 11
    differences = ("extra_column",)

    @classmethod
    def from_difference(cls, d, expected, live):
        return [cls(d.table, d.object, "contract", f"drop column {d.table}.{d.object}", have=d.have)]

    def must_follow(self, other):
        return _column_change_follows(self, other)

    def apply(self, state, dialect):
        table = state.tables[self.table]
        name = self.object
        table.columns.pop(name, None)
        table.indexes = {k: i for k, i in table.indexes.items() if name not in i.columns}
        table.uniques = [u for u in table.uniques if name not in u.columns]
        table.foreign_keys = [fk for fk in table.foreign_keys if name not in fk.columns]
        table.checks = [c for c in table.checks if name not in c.columns]

    def statements(self, writer, before, after):
        return [Statement(writer.dialect.drop_column_sql(writer.quote, self.table, self.object))]

    def loss(self, data):
        live_table = data.live.tables.get(self.table)
        if live_table is None or self.object not in live_table.columns:
            return None
        where = f"{data.quote(self.object)} IS NOT NULL"
        keep = _key_columns(self.object, live_table)
        return Loss(self, data.count(self.table, where), "non-null values", False, (self.table, keep, where))

    def undermines(self):
        return (self.table, self.object, True)

    def inverse(self):
        return AddColumn(self.table, self.object, "expand", f"add column {self.table}.{self.object}", want=self.have)


class AlterColumn(Operation):
    kind = "alter_column"
    rank = 6
    differences = ("column_type", "column_nullable", "column_default", "column_autoincrement")
    #: the change that undoes each change
    INVERSE_CHANGE = {
        "widen": "narrow",
        "narrow": "widen",
        "change": "change",
        "relax": "tighten",
        "tighten": "relax",
        "default": "default",
        "autoincrement": "autoincrement",
    }

    @classmethod
    def from_difference(cls, d, expected, live):
        t = d.table
        if d.kind == "column_type":
            change = type_change(d.have.type, d.want.type, live.vendor)
            phase = "expand" if change == "widen" else "contract"
            text = f"{change} {t}.{d.object} from {d.have.type} to {d.want.type}"
            return [cls(t, d.object, phase, text, change, d.want, d.have)]
        if d.kind == "column_nullable":
            relax = d.want.nullable
            change, phase = ("relax", "expand") if relax else ("tighten", "contract")
            text = f"{change} {t}.{d.object} to {'NULL' if relax else 'NOT NULL'}"
            return [cls(t, d.object, phase, text, change, d.want, d.have)]
        change = "default" if d.kind == "column_default" else "autoincrement"
        return [cls(t, d.object, "migrate", f"set {change} of {t}.{d.object} to {d.expected}", change, d.want, d.have)]

    def must_follow(self, other):
        if _column_change_follows(self, other):
            return True
        # an auto-increment column must be a key (MySQL: error 1075): made one after its table's primary key
        if _auto_increment_added(self) and isinstance(other, AlterPrimaryKey) and other.table == self.table:
            return True
        # one column's changes in phase order: relax/widen before tighten/narrow
        return (
            isinstance(other, AlterColumn)
            and other.touches(self.table, self.columns)
            and PHASE_RANK[other.phase] < PHASE_RANK[self.phase]
        )

    def apply(self, state, dialect):
        table = state.tables[self.table]
        table.columns[self.object] = self.changed(table.columns[self.object])

    def changed(self, column: Column) -> Column:
        want = self.want
        if self.change in ("relax", "tighten"):
            return dataclasses.replace(column, nullable=want.nullable)
        if self.change == "default":
            return dataclasses.replace(column, default=want.default)
        if self.change == "autoincrement":
            return dataclasses.replace(column, autoincrement=want.autoincrement)
        return dataclasses.replace(column, type=want.type, ddl_type=want.ddl_type)

    def statements(self, writer, before, after):
        column = self.columns[0]
        return plain(
            writer.dialect.alter_column_statements(
                writer.quote, self.table, before.columns[column], after.columns[column]
            )
        )

    def loss(self, data):
        live_table = data.live.tables.get(self.table)
        if live_table is None or self.object not in live_table.columns:
            # added by this plan: nullable first, so every existing row holds a NULL when it is tightened
            rows = data.count(self.table) if live_table is not None and self.change == "tighten" else 0
            return Loss(self, rows, "NULLs (a NOT NULL column without a default)", True) if rows else None
        column = data.quote(self.object)
        if self.change == "tighten":
            return Loss(self, data.count(self.table, f"{column} IS NULL"), "NULLs", True)
        if self.change not in ("widen", "narrow", "change"):
            return None
        # A value the new type would cut, clamp, round or not parse: refused whatever the flag.
        condition = type_rules.lost_values_condition(data.dialect, column, self.have.type, self.want.type)
        if condition is None:
            return None
        lost = data.count(self.table, f"{column} IS NOT NULL AND {condition}")
        if lost:
            return Loss(self, lost, "values that do not fit", True)
        if self.change == "change":
            # across families, every value is rewritten (5 becomes '5'): the flag, and a backup
            where = f"{column} IS NOT NULL"
            keep = _key_columns(self.object, live_table)
            return Loss(self, data.count(self.table, where), "non-null values", False, (self.table, keep, where))
        return None

    def undermines(self):
        return (self.table, self.object, False) if self.change in ("widen", "narrow", "change") else None

    def inverse(self):
        change = self.INVERSE_CHANGE[self.change]
        phase = (
            "expand"
            if change in ("widen", "relax")
            else "migrate"
            if change in ("default", "autoincrement")
            else "contract"
        )
        text = f"{change} {self.table}.{self.object} back"
        return self._mirror(AlterColumn, phase, text, change)


# ---- indexes and constraints ---------------------------------------------------------------
class _Creation(Operation):
    """Index and unique creation: after the columns exist, after a drop of the same name."""

    def must_follow(self, other):
        if isinstance(other, (AddColumn, AlterColumn)) and other.touches(self.table, self.columns):
            return True
        # a drop before the re-add of the same name (index names share one namespace)
        return (
            isinstance(other, (DropIndex, DropUnique, DropForeignKey)) and bool(self.name) and (self.name == other.name)
        )


class CreateIndex(_Creation):
    kind = "create_index"
    rank = 8
    differences = ("missing_index", "changed_index")
    rebuilds = False

    @classmethod
    def from_difference(cls, d, expected, live):
        t = d.table
        create = cls(
            t, d.object, "migrate" if d.want.unique else "expand", f"create {d.want.describe()} on {t}", want=d.want
        )
        if d.kind == "missing_index":
            return [create]
        drop = DropIndex(
            t, d.object, "migrate" if d.have.unique else "contract", f"drop {d.have.describe()} on {t}", have=d.have
        )
        return [drop, create]

    def apply(self, state, dialect):
        state.tables[self.table].indexes[self.want.name] = self.want

    def statements(self, writer, before, after):
        return writer.dialect.create_index_online(writer.quote, self.table, self.want)

    def inverse(self):
        return self._mirror(
            DropIndex, "migrate" if self.want.unique else "contract", f"drop {self.want.describe()} on {self.table}"
        )


class DropIndex(Operation):
    kind = "drop_index"
    rank = 3
    differences = ("extra_index",)
    rebuilds = False

    @classmethod
    def from_difference(cls, d, expected, live):
        phase = "migrate" if d.have.unique else "contract"
        return [cls(d.table, d.object, phase, f"drop {d.have.describe()} on {d.table}", have=d.have)]

    def apply(self, state, dialect):
        state.tables[self.table].indexes.pop(self.have.name, None)

    def statements(self, writer, before, after):
        return [Statement(writer.dialect.drop_index_sql(writer.quote, self.table, self.have))]

    def inverse(self):
        return self._mirror(
            CreateIndex, "migrate" if self.have.unique else "expand", f"create {self.have.describe()} on {self.table}"
        )


class _Member(Operation):
    """One member of a table's list (``collection``: its uniques, foreign keys, checks), added
    (``adds``) or dropped in the migrate phase by the dialect's ``add_<sql>_sql`` /
    ``drop_<sql>_sql``; ``mirror``: the kind that undoes it (none for a check)."""

    collection: ClassVar[str] = ""
    sql: ClassVar[str] = ""
    adds: ClassVar[bool] = True
    mirror: ClassVar[str] = ""

    @classmethod
    def from_difference(cls, d, expected, live):
        member = d.want if cls.adds else d.have
        role = {"want": member} if cls.adds else {"have": member}
        return [cls(d.table, d.object, "migrate", cls.describing(member, d.table), **role)]

    @classmethod
    def describing(cls, member, table: str) -> str:
        return f"{'add' if cls.adds else 'drop'} {member.describe()} on {table}"

    @property
    def member(self):
        return self.want if self.adds else self.have

    def same(self, other) -> bool:
        return other == self.have

    def apply(self, state, dialect):
        table = state.tables[self.table]
        members = getattr(table, self.collection)
        if self.adds:
            members.append(self.want)
        else:
            setattr(table, self.collection, [m for m in members if not self.same(m)])

    def statements(self, writer, before, after):
        write = getattr(writer.dialect, f"{'add' if self.adds else 'drop'}_{self.sql}_sql")
        return [Statement(write(writer.quote, self.table, self.member))]

    def inverse(self):
        if not self.mirror:
            return None
        cls = BY_KIND[self.mirror]
        return self._mirror(cls, "migrate", cls.describing(self.member, self.table))


class AddUnique(_Member, _Creation):
    kind = "add_unique"
    rank = 9
    differences = ("missing_unique",)
    collection, sql, mirror = "uniques", "unique", "drop_unique"


class DropUnique(_Member):
    kind = "drop_unique"
    rank = 2
    differences = ("extra_unique",)
    collection, sql, adds, mirror = "uniques", "unique", False, "add_unique"

    def same(self, other):
        return other.columns == self.have.columns


class AddForeignKey(_Member):
    kind = "add_foreign_key"
    rank = 10
    differences = ("missing_foreign_key",)
    collection, sql, mirror = "foreign_keys", "foreign_key", "drop_foreign_key"

    def must_follow(self, other):
        ref_table, ref_columns = self.references()
        if isinstance(other, CreateTable) and other.table == self.table:
            return True
        if isinstance(other, (AddColumn, AlterColumn)) and other.touches(self.table, self.columns):
            return True
        if _reference_made_by(other, ref_table, ref_columns):
            return True
        return isinstance(other, DropForeignKey) and self.name is not None and self.name == other.name

    @property
    def written_with_table(self) -> bool:  # a new table's foreign key
        return self.change == "new_table"


def _reference_made_by(op: Operation, ref_table: str, ref_columns) -> bool:
    """Whether ``op`` makes what a foreign key to ``ref_table (ref_columns)`` needs: the table,
    the column as it must be, or the key on it (MySQL and PostgreSQL refuse a reference without)."""
    if isinstance(op, CreateTable):
        return op.table == ref_table
    return isinstance(op, (AddColumn, AlterColumn, CreateIndex, AddUnique, AlterPrimaryKey)) and op.touches(
        ref_table, ref_columns
    )


class DropForeignKey(_Member):
    kind = "drop_foreign_key"
    rank = 0
    differences = ("extra_foreign_key",)
    collection, sql, adds, mirror = "foreign_keys", "foreign_key", False, "add_foreign_key"


class DropCheck(_Member):
    kind = "drop_check"
    rank = 1
    differences = ("extra_check",)
    collection, sql, adds = "checks", "check", False

    @classmethod
    def describing(cls, member, table):
        return f"drop CHECK {member.name or ', '.join(member.columns)} on {table}"


OPERATIONS: tuple[type[Operation], ...] = (
    CreateTable,
    DropTable,
    AddColumn,
    DropColumn,
    AlterColumn,
    AlterPrimaryKey,
    CreateIndex,
    DropIndex,
    AddUnique,
    DropUnique,
    AddForeignKey,
    DropForeignKey,
    DropCheck,
)
BY_KIND = {cls.kind: cls for cls in OPERATIONS}
#: Difference kind -> the operation class that plans it.
FOR_DIFFERENCE = {kind: cls for cls in OPERATIONS for kind in cls.differences}
