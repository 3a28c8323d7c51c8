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
from .schema import Schema
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
        ops = [op for op in ops if not op.written_with_table]
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
        op.apply(self.state, self.dialect)
        after = self.state.tables.get(op.table)
        if self.dialect.rebuilds_tables and op.rebuilds:
            return plain(self.dialect.rebuild_table(self.ddl, after, before))
        return op.statements(self, before, after)


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
