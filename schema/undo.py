"""The way back from a recorded sync (:mod:`schema.sync_history`): ``db_undo``.

The engine plans it: the schema the sync started from (kept in its record)
is the target, the live schema the start, so every operation the sync ran
gets its inverse from the same planner, in dependency order: a created index
is dropped, a relaxed column tightened again, a dropped column or table
created again. Values come back from the backup tables the sync made, right
after the step that recreated their column or table (before a NOT NULL is
tightened on them). Where no inverse can keep the data (a tightening that
the values written since would break, a loss the sync never backed up, a run
killed before it named its backups) the touched tables are restored from the
sync's snapshot, and the rest is planned again from there.
"""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass, field

from .backup import BACKUP_KEY
from .dependents import find as find_dependents
from .destructive import assess, back_up
from .dialects import dialect_for
from .dialects.postgresql import name_literal
from .diff import diff
from .engine import Comparison, own_tables
from .introspect import introspect
from .operations import DropTable
from .plan import Step, apply_statements, build_plan
from .schema import Index, Schema
from .schema_json import schema_from_dict
from .statements import Statement


class UndoRefused(Exception):
    """The sync cannot be undone safely (exit 1)."""


@dataclass
class CopyBack:
    """Values of one backup table put back after ``after`` (an undo step's description)."""

    backup: str
    table: str
    #: the columns copied; ``key``: the columns rows are matched on (none: the rows are inserted)
    columns: list
    key: list = field(default_factory=list)
    after: str = ""

    def describe(self) -> str:
        if self.key:
            return (
                f"put back {', '.join(c for c in self.columns if c not in self.key)} of {self.table} from {self.backup}"
            )
        return f"insert the rows of {self.table} back from {self.backup}"


@dataclass
class UndoPlan:
    steps: list[Step]
    #: step index -> values to copy back after it
    copy_backs: dict[int, list[CopyBack]]
    #: the tables restored from the snapshot first (no inverse keeps their data)
    from_snapshot: list[str]
    #: why the snapshot is needed
    reasons: list[str]
    #: what the undo itself would destroy (backed up first)
    losses: list

    @property
    def empty(self) -> bool:
        return not self.steps and not self.from_snapshot


def _before(record) -> Schema:
    return schema_from_dict(record.before_schema)


def created_tables(record) -> list[str]:
    return sorted({op["table"] for op in record.plan.get("operations", []) if op["kind"] == "create_table"})


def plan_undo(
    connection, record, *, no_snapshot: str | None, snapshot_tables=frozenset(), after_snapshot: bool = False
) -> UndoPlan:
    """The way back from ``record``; ``no_snapshot``: why its snapshot cannot be restored (None: it can),
    ``snapshot_tables``: the tables it holds; ``after_snapshot``: its snapshot was restored already, so
    every value the sync destroyed is back and its backups are not needed."""
    before = _before(record)
    live = introspect(connection)
    ours = own_tables(live) | own_tables(before)
    dialect = dialect_for(connection)
    result = diff(_without(before, ours), _without(live, ours), dialect)
    plan = build_plan(connection, Comparison(before, live, result), drop_tables=created_tables(record))
    steps = _placed(connection, plan.steps, before, live)
    never_dropped = [] if after_snapshot else _never_dropped(record, steps)
    for op in never_dropped:
        if op.table not in snapshot_tables:
            raise UndoRefused(
                f"{op.description}: it was dropped after sync {record.id} (by a later sync missing from the "
                f"history, or by hand), and none of its backups holds the values; put it back with its values "
                "(a novaweb_backup_* table may hold them), then undo again"
            )
    readers = find_dependents(connection, [s.operation for s in steps], live, restoring=before)
    if readers:
        raise UndoRefused(
            "; ".join(r.describe() for r in readers) + " (another application's objects: drop or change them first)"
        )
    copy_backs, unusable = _copy_backs(connection, record, steps, before, live) if not after_snapshot else ({}, [])
    losses = assess(connection, [s.operation for s in steps], live)
    reasons = [f"{loss.describe()} (values written since the sync do not allow it)" for loss in losses if loss.blocking]
    reasons += unusable
    reasons += _lost_without_backup(record, steps) if not after_snapshot else []
    reasons += [
        f"{op.description}: the sync never dropped it (a killed undo or a hand change did)" for op in never_dropped
    ]
    touched = sorted({s.operation.table for s in steps if s.operation.table in before.tables})
    if reasons:
        if no_snapshot:
            raise UndoRefused(f"no inverse keeps the data, and {no_snapshot}: " + "; ".join(reasons))
        return UndoPlan([], {}, touched or sorted(before.tables), reasons, [])
    return UndoPlan(steps, copy_backs, [], [], [loss for loss in losses if not loss.blocking])


def _never_dropped(record, steps) -> list:
    """The operations creating again a column or table that the sync did not drop: something after it did
    (a later sync whose history row is gone, a killed undo, a hand change), so the values it held are in
    none of the sync's backups and would come back empty."""
    dropped = {
        (op.get("table"), op.get("object") if op.get("kind") == "drop_column" else None)
        for op in record.plan.get("operations", [])
        if op.get("kind") in ("drop_column", "drop_table")
    }
    created = created_tables(record)
    return [
        step.operation
        for step in steps
        if step.operation.kind in ("add_column", "create_table")
        and (step.operation.table, step.operation.object if step.operation.kind == "add_column" else None)
        not in dropped
        and step.operation.table not in created
    ]


def _without(schema: Schema, names) -> Schema:
    return Schema(schema.vendor, {n: t for n, t in schema.tables.items() if n not in names})


def _placed(connection, steps, before: Schema, live: Schema) -> list[Step]:
    """A re-added column where it was (on backends that can say so): rows read back byte for byte."""
    sql = undo_sql(connection)
    present = {name: list(t.columns) for name, t in live.tables.items()}
    placed = []
    for step in steps:
        op = step.operation
        if op.kind == "add_column" and op.table in before.tables and len(step.statements) == 1:
            order = list(before.tables[op.table].columns)
            have = present.setdefault(op.table, [])
            earlier = [c for c in order[: order.index(op.object)] if c in have] if op.object in order else []
            clause = sql.column_position(earlier[-1] if earlier else None)
            if clause:
                statement = dataclasses.replace(step.statements[0], sql=step.statements[0].sql + clause)
                step = dataclasses.replace(step, statements=[statement])
            have.append(op.object)
        placed.append(step)
    return placed


def _copy_backs(connection, record, steps, before: Schema, live: Schema):
    """Which backup is copied back after which undo step; and why the backups no step can use cannot be."""
    found: dict[int, list[CopyBack]] = {}
    unusable = []
    for backup in record.backups:
        if "kind" not in backup:
            unusable.append(f"the sync's backup {backup['backup']} is not described (the run was killed)")
            continue
        table = before.tables.get(backup["table"])
        index = _step_recreating(steps, backup)
        if table is None or index is None:
            continue  # nothing recreates it: the object is there already
        columns = [c for c in (backup["columns"] or list(table.columns)) if c != BACKUP_KEY]
        key = [] if backup["kind"] == "drop_table" else [c for c in table.primary_key if c in columns]
        problem = _backup_problem(connection, backup, columns, live) or (
            None if key or backup["kind"] == "drop_table" else "is not described (the run was killed)"
        )
        if problem:
            unusable.append(f"the sync's backup {backup['backup']} {problem}")
            continue
        found.setdefault(index, []).append(
            CopyBack(backup["backup"], backup["table"], columns, key, steps[index].operation.description)
        )
    return found, unusable


def _backup_problem(connection, backup: dict, columns: list, live: Schema) -> str | None:
    """Why a backup table cannot give back what the sync put there (dropped, altered or emptied by hand)."""
    table = live.tables.get(backup["backup"])
    if table is None:
        return "is gone"
    lacking = [c for c in columns if c not in table.columns]
    if lacking:
        return f"lacks {', '.join(lacking)}"
    if backup.get("rows") is None:
        return None
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {dialect_for(connection).quote(backup['backup'])}")
        (rows,) = cursor.fetchone()
    return None if rows == backup["rows"] else f"holds {rows} rows, the sync put {backup['rows']} there"


def _step_recreating(steps, backup) -> int | None:
    for i, step in enumerate(steps):
        op = step.operation
        if op.table != backup["table"]:
            continue
        if backup["kind"] == "drop_table" and op.kind == "create_table":
            return i
        if backup["kind"] == "drop_column" and op.kind == "add_column" and op.object == backup["object"]:
            return i  # before any tightening that follows it
        if backup["kind"] == "alter_column" and op.kind == "alter_column" and op.object == backup["object"]:
            last = i
            while last + 1 < len(steps) and steps[last + 1].operation.object == op.object:
                last += 1
            return last
    return None


def _lost_without_backup(record, steps) -> list[str]:
    """Data the sync destroyed with no backup to bring it back (a loss it counted as none)."""
    backed = {(b.get("table"), b.get("object")) for b in record.backups}
    reasons = []
    for op in record.plan.get("operations", []):
        changed = op["kind"] == "alter_column" and op.get("change") == "change"
        if (
            changed
            and (op["table"], op["object"]) not in backed
            and any(s.operation.table == op["table"] and s.operation.object == op["object"] for s in steps)
        ):
            reasons.append(f"{op['description']}: the old values were not backed up")
    return reasons


# ---- SQL that differs per backend ----------------------------------------------------------
class UndoSQL:
    """Standard SQL (PostgreSQL, SQLite 3.33+): ``UPDATE ... FROM``; an added column goes last."""

    def __init__(self, connection):
        self.quote = dialect_for(connection).quote

    def column_position(self, previous: str | None) -> str:
        return ""

    def update_from(self, table: str, backup: str, key: list, columns: list) -> str:
        q = self.quote
        sets = ", ".join(f"{q(c)} = b.{q(c)}" for c in columns)
        match = " AND ".join(f"{q(table)}.{q(k)} = b.{q(k)}" for k in key)
        return f"UPDATE {q(table)} SET {sets} FROM {q(backup)} AS b WHERE {match}"

    def after_insert(self, table) -> list[str]:
        return []

    def keeping_dangling_references(self, statements: list[Statement]) -> list[Statement]:
        """``statements`` that drop a table the restored schema's foreign keys still name."""
        return statements


class MySQLUndoSQL(UndoSQL):
    """MySQL / MariaDB: ``UPDATE ... JOIN``; ``ADD COLUMN ... AFTER`` puts a column back in place."""

    def column_position(self, previous: str | None) -> str:
        return f" AFTER {self.quote(previous)}" if previous else " FIRST"

    def update_from(self, table: str, backup: str, key: list, columns: list) -> str:
        q = self.quote
        sets = ", ".join(f"{q(table)}.{q(c)} = b.{q(c)}" for c in columns)
        match = " AND ".join(f"{q(table)}.{q(k)} = b.{q(k)}" for k in key)
        return f"UPDATE {q(table)} JOIN {q(backup)} AS b ON {match} SET {sets}"

    def keeping_dangling_references(self, statements: list[Statement]) -> list[Statement]:
        # The schema the sync started from had foreign keys naming a table that was not there
        # (dropped with foreign_key_checks off): InnoDB refuses to drop a table they name, unless
        # the checks are off again for the drop. Only the undo does this, never a sync.
        return [
            Statement("SET SESSION foreign_key_checks = 0"),
            *statements,
            Statement("SET SESSION foreign_key_checks = 1"),
        ]


class PostgreSQLUndoSQL(UndoSQL):
    """PostgreSQL: rows inserted with their ids leave the serial's sequence behind; move it on."""

    def after_insert(self, table) -> list[str]:
        q = self.quote
        return [
            f"SELECT setval(pg_get_serial_sequence({name_literal(q(table.name))}, {name_literal(column)}), "
            f"COALESCE(MAX({q(column)}), 0) + 1, false) FROM {q(table.name)}"
            for column in table.sequences
        ]


_UNDO_SQL = {"mysql": MySQLUndoSQL, "postgresql": PostgreSQLUndoSQL}


def undo_sql(connection) -> UndoSQL:
    return _UNDO_SQL.get(connection.vendor, UndoSQL)(connection)


def copy_back_statements(connection, copy_back: CopyBack, before: Schema) -> list[str]:
    sql = undo_sql(connection)
    q = sql.quote
    table = before.tables[copy_back.table]
    if not copy_back.key:
        columns = ", ".join(q(c) for c in copy_back.columns)
        insert = f"INSERT INTO {q(copy_back.table)} ({columns}) SELECT {columns} FROM {q(copy_back.backup)}"
        return [insert, *sql.after_insert(table)]
    index = "novaweb_undo_" + hashlib.sha1(copy_back.backup.encode()).hexdigest()[:12]
    values = [c for c in copy_back.columns if c not in copy_back.key]
    return [
        f"CREATE INDEX {q(index)} ON {q(copy_back.backup)} ({', '.join(q(k) for k in copy_back.key)})",
        sql.update_from(copy_back.table, copy_back.backup, copy_back.key, values),
        dialect_for(connection).drop_index_sql(q, copy_back.backup, Index(index, tuple(copy_back.key))),
    ]


# ---- running ---------------------------------------------------------------------------------
def run_undo(connection, plan: UndoPlan, record, *, warn) -> list[str]:
    """Apply the steps, copying values back where due; returns the statements run."""
    before = _before(record)
    ran = []
    for name, count, loss in back_up(connection, plan.losses):
        warn(f"Backed up {count} rows for '{loss.operation.description}' into {name}")
    # Tables the restored schema's foreign keys name without having them (dropped with the checks off).
    dangling = {fk.ref_table for t in before.tables.values() for fk in t.foreign_keys} - set(before.tables)
    sql = undo_sql(connection)
    for i, step in enumerate(plan.steps):
        statements = step.statements
        if isinstance(step.operation, DropTable) and step.operation.table in dangling:
            statements = sql.keeping_dangling_references(statements)
        apply_statements(connection, statements, warn=warn)
        ran += [s.sql for s in statements]
        for copy_back in plan.copy_backs.get(i, []):
            statements = copy_back_statements(connection, copy_back, before)
            apply_statements(connection, [Statement(sql) for sql in statements], warn=warn)
            ran += statements
    return ran


def restore_bookkeeping(connection, record) -> None:
    """``migrate_version`` and the phase marker as they were before the sync."""
    from . import sync_state
    from .introspect import live_table_names
    from .models import REPOSITORY_ID, MigrateVersion
    from .versioning import set_version, version_or_none

    tables = live_table_names(connection)
    if "migrate_version" in tables and version_or_none(connection) != record.version_before:
        if record.version_before is None:
            MigrateVersion.objects.using(connection.alias).filter(repository_id=REPOSITORY_ID).delete()
        else:
            set_version(connection, record.version_before)
    if record.phase_before is None:
        sync_state.clear_phase(connection)
    else:
        sync_state.record_phase(connection, record.phase_before)


def remaining_differences(connection, record) -> list:
    """How the live schema still differs from the one the sync started from (novaweb's own tables aside)."""
    before = _before(record)
    live = introspect(connection)
    ours = own_tables(live) | own_tables(before)
    return diff(_without(before, ours), _without(live, ours), dialect_for(connection)).differences
