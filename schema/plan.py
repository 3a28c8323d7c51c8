"""A plan: the ordered operations that bring the live schema to the models, with their DDL.

Built from the live state every time (a run killed half-way is planned again
from what it left, so MySQL's non-transactional DDL converges). The DDL of
each operation is computed against a simulated schema: the live one with
every earlier operation applied, so a MySQL ``MODIFY`` in *expand* keeps the
nullability that *contract* tightens later, and a SQLite table rebuild
carries only the changes of its own phase.

A plan has a JSON form (``--dry-run --format json``) that carries the
``sha256`` fingerprint of the live schema it was computed from; ``--plan
FILE`` applies it only while the live schema still has that fingerprint and
the plan computed now has the same statements.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import json
from dataclasses import dataclass, field

from .ddl import DDLWriter
from .dialects import dialect_for
from .engine import own_tables
from .models import MODELS_VERSION
from .phases import PHASES, Operation, plan_operations
from .schema import Schema, Table
from .statements import Statement, plain

PLAN_FORMAT = "novaweb-plan/1"


class PlanError(Exception):
    """A ``--plan`` file that cannot be read (exit 2); see :mod:`schema.plan_file`."""


class StalePlan(Exception):
    """A ``--plan`` file computed from another schema than the live one (exit 1)."""


@dataclass
class Step:
    operation: Operation
    statements: list[Statement] = field(default_factory=list)

    @property
    def phase(self) -> str:
        return self.operation.phase

    def as_dict(self) -> dict:
        return {**self.operation.as_dict(), "statements": [s.as_dict() for s in self.statements]}


@dataclass
class Plan:
    vendor: str
    fingerprint: str
    steps: list[Step]

    def in_phases(self, phases) -> list[Step]:
        return [s for s in self.steps if s.phase in phases]

    def pending(self) -> dict[str, int]:
        """Operations per phase, phases without any left out."""
        counts = {p: sum(1 for s in self.steps if s.phase == p) for p in PHASES}
        return {p: n for p, n in counts.items() if n}

    def as_dict(self, phases=PHASES, database=None) -> dict:
        return {
            "format": PLAN_FORMAT,
            "vendor": self.vendor,
            "database": database,
            "models_version": MODELS_VERSION,
            "fingerprint": self.fingerprint,
            "phases": list(phases),
            "operations": [s.as_dict() for s in self.in_phases(phases)],
        }


# ---- fingerprint -------------------------------------------------------------------
def fingerprint(live: Schema) -> str:
    """sha256 of the live schema (novaweb's own tables left out): what a plan was computed from."""
    ours = own_tables(live)
    tables = {}
    for name in sorted(live.tables):
        if name in ours:
            continue
        table = dataclasses.asdict(live.tables[name])
        for key in ("uniques", "foreign_keys", "checks"):
            table[key] = sorted(table[key], key=lambda item: json.dumps(item, sort_keys=True, default=str))
        tables[name] = table
    text = json.dumps({"vendor": live.vendor, "tables": tables}, sort_keys=True, default=str)
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


# ---- building --------------------------------------------------------------------------
def kept_tables(differences, drop_tables=()) -> list[str]:
    """Live tables outside the models that a plan leaves alone: all but those named to drop.

    Like sqldef without ``--enable-drop-table``: a table novaweb does not model
    may belong to another application (or hold a view's rows), so it is only
    ever dropped by name (``--drop-table NAME``), and then backed up first.
    """
    return [d.table for d in differences if d.kind == "extra_table" and d.table not in drop_tables]


def build_plan(connection, comparison, drop_tables=()) -> Plan:
    kept = set(kept_tables(comparison.result.differences, drop_tables))
    differences = [d for d in comparison.result.differences if not (d.kind == "extra_table" and d.table in kept)]
    ops = plan_operations(differences, comparison.expected, comparison.live)
    writer = _PlanWriter(connection, comparison.live)
    if writer.dialect.inline_foreign_keys:  # written inside CREATE TABLE
        ops = [op for op in ops if not (op.kind == "add_foreign_key" and op.change == "new_table")]
    steps = [Step(op, writer.statements(op)) for op in ops]
    return Plan(connection.vendor, fingerprint(comparison.live), steps)


class _PlanWriter:
    """DDL per operation, against the live schema as the earlier operations leave it."""

    def __init__(self, connection, live: Schema):
        self.ddl = DDLWriter(connection)
        self.dialect = self.ddl.dialect
        self.quote = self.ddl.quote
        self.state = copy.deepcopy(live)

    def statements(self, op: Operation) -> list[Statement]:
        before = copy.deepcopy(self.state.tables.get(op.table))
        _apply(op, self.state, self.dialect)
        after = self.state.tables.get(op.table)
        if self.dialect.rebuilds_tables and op.kind not in _NO_REBUILD:
            return plain(self.ddl.rebuild_table(after, before))
        return getattr(self, op.kind)(op, before, after)

    def create_table(self, op, before, after):
        return plain(self.ddl.create_table(after))

    def drop_table(self, op, before, after):
        return [Statement(f"DROP TABLE {self.quote(op.table)}")]

    def add_column(self, op, before, after):
        definition = self.dialect.column_definition(self.quote, op.want)
        return [Statement(f"ALTER TABLE {self.quote(op.table)} ADD COLUMN {definition}")]

    def drop_column(self, op, before, after):
        return [Statement(self.dialect.drop_column_sql(self.quote, op.table, op.object))]

    def alter_column(self, op, before, after):
        column = op.columns[0]
        return plain(
            self.dialect.alter_column_statements(self.quote, op.table, before.columns[column], after.columns[column])
        )

    def alter_primary_key(self, op, before, after):
        return plain(self.dialect.alter_primary_key_sql(self.quote, before, after))

    def create_index(self, op, before, after):
        return self.dialect.create_index_online(self.quote, op.table, op.want)

    def drop_index(self, op, before, after):
        return [Statement(self.dialect.drop_index_sql(self.quote, op.table, op.have))]

    def add_unique(self, op, before, after):
        return [Statement(self.dialect.add_unique_sql(self.quote, op.table, op.want))]

    def drop_unique(self, op, before, after):
        return [Statement(self.dialect.drop_unique_sql(self.quote, op.table, op.have))]

    def add_foreign_key(self, op, before, after):
        return [Statement(self.dialect.add_foreign_key_sql(self.quote, op.table, op.want))]

    def drop_foreign_key(self, op, before, after):
        return [Statement(self.dialect.drop_foreign_key_sql(self.quote, op.table, op.have))]

    def drop_check(self, op, before, after):
        return [Statement(self.dialect.drop_check_sql(self.quote, op.table, op.have))]


#: Operations every backend does in place (no SQLite table rebuild).
_NO_REBUILD = {"create_table", "drop_table", "add_column", "create_index", "drop_index"}


def _apply(op: Operation, state: Schema, dialect) -> None:
    """What ``op`` does to the simulated schema."""
    if op.kind == "create_table":
        table = copy.deepcopy(op.want)
        if not dialect.inline_foreign_keys:
            table.foreign_keys = []
        state.add_table(table)
        return
    if op.kind == "drop_table":
        state.tables.pop(op.table, None)
        return
    table: Table = state.tables[op.table]
    if op.kind == "add_column":
        table.add_column(op.want)
    elif op.kind == "drop_column":
        _drop_column(table, op.object)
    elif op.kind == "alter_column":
        table.columns[op.object] = _changed_column(op, table.columns[op.object])
    elif op.kind == "alter_primary_key":
        table.primary_key = op.want.primary_key
    elif op.kind == "create_index":
        table.indexes[op.want.name] = op.want
    elif op.kind == "drop_index":
        table.indexes.pop(op.have.name, None)
    elif op.kind == "add_unique":
        table.uniques.append(op.want)
    elif op.kind == "drop_unique":
        table.uniques = [u for u in table.uniques if u.columns != op.have.columns]
    elif op.kind == "add_foreign_key":
        table.foreign_keys.append(op.want)
    elif op.kind == "drop_foreign_key":
        table.foreign_keys = [fk for fk in table.foreign_keys if fk != op.have]
    elif op.kind == "drop_check":
        table.checks = [c for c in table.checks if c != op.have]


def _changed_column(op: Operation, column):
    want = op.want
    if op.change in ("relax", "tighten"):
        return dataclasses.replace(column, nullable=want.nullable)
    if op.change == "default":
        return dataclasses.replace(column, default=want.default)
    if op.change == "autoincrement":
        return dataclasses.replace(column, autoincrement=want.autoincrement)
    return dataclasses.replace(column, type=want.type, ddl_type=want.ddl_type)


def _drop_column(table: Table, name: str) -> None:
    table.columns.pop(name, None)
    table.indexes = {k: i for k, i in table.indexes.items() if name not in i.columns}
    table.uniques = [u for u in table.uniques if name not in u.columns]
    table.foreign_keys = [fk for fk in table.foreign_keys if name not in fk.columns]
    table.checks = [c for c in table.checks if name not in c.columns]


# ---- --plan FILE -------------------------------------------------------------------------
def verify_plan_file(data: dict, plan: Plan, phases) -> None:
    """Refuse a plan made from another schema, or one whose statements differ from today's plan."""
    if data.get("vendor") != plan.vendor:
        raise StalePlan(f"the plan is for a {data.get('vendor')} database, this one is {plan.vendor}")
    if data["fingerprint"] != plan.fingerprint:
        raise StalePlan(
            f"the live schema has changed since the plan was made (plan {data['fingerprint'][:19]}..., "
            f"live {plan.fingerprint[:19]}...): make a new plan with --dry-run --format json"
        )
    wanted = [
        [Statement.from_dict(s) for s in op.get("statements", [])]
        for op in data.get("operations", [])
        if op.get("phase") in phases
    ]
    if wanted != [s.statements for s in plan.in_phases(phases)]:
        raise StalePlan("the plan's statements differ from what this version of novaweb plans: make a new plan")


# ---- running -------------------------------------------------------------------------------
def apply_statements(connection, statements: list[Statement], *, warn) -> None:
    """Run ``statements`` in order: transactional ones together (atomic where DDL rolls back),
    the others on their own outside a transaction, an online statement's fallback when refused."""
    from django.db import DatabaseError

    from .ddl import run_statements

    dialect = dialect_for(connection)
    batch: list[str] = []
    for statement in statements:
        if statement.transactional and statement.fallback is None:
            batch.append(statement.sql)
            continue
        if batch:
            run_statements(connection, batch)
            batch = []
        with connection.schema_editor(atomic=False) as editor:
            try:
                editor.execute(statement.sql, params=None)
            except DatabaseError as exc:
                if statement.fallback is None or not dialect.online_refused(exc):
                    raise
                warn(f"warning: the online form was refused ({exc.args[-1]}); running instead: {statement.fallback}")
                editor.execute(statement.fallback, params=None)
    if batch:
        run_statements(connection, batch)
