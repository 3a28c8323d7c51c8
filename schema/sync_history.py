"""Every sync novaweb applies, recorded in the Nova database: the way back starts here.

``novaweb_sync_history`` (novaweb's own table: ``db_drift`` never reports it)
holds one row per applied ``db_sync`` / ``db_expand`` / ``db_migrate`` /
``db_contract``: when, which command, the plan, the live schema it started
from, each statement as it was started and as it finished (a sync killed
half-way says which statements ran), the snapshot and the backup tables it
made, and whether it was undone. ``db_undo`` reads it; the admin schema
page shows it. The table has a primary key (Galera's rule); ids are given
out under the sync lock.
"""

from __future__ import annotations

import datetime
import json
import re
from dataclasses import dataclass, field

from .backup import PREFIX as BACKUP_PREFIX
from .ddl import DDLWriter
from .introspect import live_table_names
from .schema import Column, Table

TABLE = "novaweb_sync_history"
#: JSON can outgrow MySQL's 64 KB ``text``: a whole schema's plan does.
LONG_TEXT = {"mysql": "longtext"}

_BACKUP_CREATED = re.compile(rf"CREATE TABLE [`\"]?({BACKUP_PREFIX}\w+)")

RUNNING, APPLIED, FAILED, UNDONE = "running", "applied", "failed", "undone"


def utc_now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M:%S")


def history_table(vendor: str) -> Table:
    text = LONG_TEXT.get(vendor, "text")

    def col(name, type_, nullable=True):
        return Column(name, type_, nullable=nullable, ddl_type=type_)

    columns = [
        col("id", "int", nullable=False),
        col("started_at", "varchar(19)", nullable=False),
        col("finished_at", "varchar(19)"),
        col("command", "varchar(32)", nullable=False),
        col("status", "varchar(16)", nullable=False),
        col("snapshot", "varchar(1024)"),
        col("version_before", "int"),
        col("phase_before", "varchar(16)"),
        col("plan", text),
        col("before_schema", text),
        col("statements", text),
        col("backups", text),
        col("undone_at", "varchar(19)"),
        col("undo", text),
    ]
    return Table(TABLE, {c.name: c for c in columns}, primary_key=("id",))


@dataclass
class SyncRecord:
    id: int
    started_at: str
    command: str
    status: str
    finished_at: str | None = None
    snapshot: str | None = None
    version_before: int | None = None
    phase_before: str | None = None
    plan: dict = field(default_factory=dict)
    before_schema: dict = field(default_factory=dict)
    #: [{"sql": ..., "state": "started" | "done"}] in the order they ran
    statements: list = field(default_factory=list)
    #: [{"table", "kind", "object", "backup", "rows", "columns"}]
    backups: list = field(default_factory=list)
    undone_at: str | None = None
    undo: dict | None = None

    JSON_FIELDS = ("plan", "before_schema", "statements", "backups", "undo")

    @property
    def statements_done(self) -> int:
        return sum(1 for s in self.statements if s["state"] == "done")

    @property
    def undo_command(self) -> str:
        return f"./manage.py db_undo {self.id}"

    def summary(self) -> str:
        ops = len(self.plan.get("operations", []))
        return f"{ops} operations, {self.statements_done}/{self.planned_statements} statements run"

    @property
    def planned_statements(self) -> int:
        return sum(len(op.get("statements", [])) for op in self.plan.get("operations", []))


_COLUMNS = tuple(history_table("sqlite").columns)


def ensure_table(connection) -> None:
    if TABLE in live_table_names(connection):
        return
    writer = DDLWriter(connection)
    with connection.cursor() as cursor:
        for sql in writer.create_table(history_table(connection.vendor)):
            cursor.execute(sql)


def _row(record: SyncRecord) -> list:
    values = []
    for name in _COLUMNS:
        value = getattr(record, name)
        values.append(json.dumps(value, default=str) if name in SyncRecord.JSON_FIELDS and value is not None else value)
    return values


def _record(row) -> SyncRecord:
    data = dict(zip(_COLUMNS, row, strict=True))
    for name in SyncRecord.JSON_FIELDS:
        if data[name] is not None:
            data[name] = json.loads(data[name])
    for name, empty in (("plan", {}), ("before_schema", {}), ("statements", []), ("backups", [])):
        if data[name] is None:
            data[name] = empty
    return SyncRecord(**data)


def start(connection, command: str, *, plan: dict, before_schema: dict, snapshot=None, version=None, phase=None):
    """A new ``running`` record (call under the sync lock); returns it."""
    ensure_table(connection)
    q = DDLWriter(connection).quote
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COALESCE(MAX({q('id')}), 0) + 1 FROM {q(TABLE)}")
        (new_id,) = cursor.fetchone()
    record = SyncRecord(
        int(new_id),
        utc_now(),
        command,
        RUNNING,
        snapshot=snapshot,
        version_before=version,
        phase_before=phase,
        plan=plan,
        before_schema=before_schema,
    )
    names = ", ".join(q(c) for c in _COLUMNS)
    marks = ", ".join(["%s"] * len(_COLUMNS))
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {q(TABLE)} ({names}) VALUES ({marks})", _row(record))
    return record


def save(connection, record: SyncRecord, *fields) -> None:
    """Write ``fields`` of ``record`` (all of them when none are named)."""
    q = DDLWriter(connection).quote
    names = fields or [c for c in _COLUMNS if c != "id"]
    values = dict(zip(_COLUMNS, _row(record), strict=True))
    assignments = ", ".join(f"{q(n)} = %s" for n in names)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {q(TABLE)} SET {assignments} WHERE {q('id')} = %s", [values[n] for n in names] + [record.id]
        )


def finish(connection, record: SyncRecord, status: str) -> None:
    """The run is over. A failed one keeps the statement marks the database kept (a rolled-back
    transaction took its own marks with it)."""
    record.status = status
    record.finished_at = utc_now()
    if status == FAILED:
        save(connection, record, "status", "finished_at", "backups")
    else:
        save(connection, record, "status", "finished_at", "statements", "backups")


def records(connection, limit: int | None = None) -> list[SyncRecord]:
    """The recorded syncs, newest first (none when nothing was ever recorded)."""
    if TABLE not in live_table_names(connection):
        return []
    q = DDLWriter(connection).quote
    names = ", ".join(q(c) for c in _COLUMNS)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {names} FROM {q(TABLE)} ORDER BY {q('id')} DESC")
        rows = cursor.fetchmany(limit) if limit else cursor.fetchall()
    return [_record(row) for row in rows]


def get(connection, sync_id: int) -> SyncRecord | None:
    return next((r for r in records(connection) if r.id == sync_id), None)


def last_undoable(connection) -> SyncRecord | None:
    """The newest sync not undone yet."""
    return next((r for r in records(connection) if r.status != UNDONE), None)


class StatementRecorder:
    """Marks each planned statement ``started`` before it runs and ``done`` after it ran.

    Installed with ``connection.execute_wrapper``: the sync's own code runs
    unchanged. On MySQL each DDL commits by itself, and so does each mark
    (autocommit): a run killed half-way leaves the history saying which
    statements ran (the last one ``started`` may or may not have).
    """

    def __init__(self, connection, record: SyncRecord, planned):
        self.connection = connection
        self.record = record
        self.planned = {}
        for statement in planned:
            self.planned[statement.sql] = statement.sql
            if statement.fallback:
                self.planned[statement.fallback] = statement.fallback
        self._busy = False

    def __call__(self, execute, sql, params, many, context):
        if self._busy:
            return execute(sql, params, many, context)
        if sql not in self.planned:
            result = execute(sql, params, many, context)
            self._note_backup(sql)
            return result
        entry = {"sql": sql, "state": "started"}
        self.record.statements.append(entry)
        self._mark()
        result = execute(sql, params, many, context)
        entry["state"] = "done"
        self._mark()
        return result

    def _note_backup(self, sql: str) -> None:
        """A backup table the sync made (named in full when the sync finishes)."""
        match = _BACKUP_CREATED.match(sql)
        if match:
            self.record.backups.append({"backup": match.group(1)})
            self._mark("backups")

    def _mark(self, what: str = "statements") -> None:
        self._busy = True
        try:
            save(self.connection, self.record, what)
        finally:
            self._busy = False
