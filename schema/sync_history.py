"""Every sync novaweb applies, recorded in the Nova database: the way back starts here.

``novaweb_sync_history`` (novaweb's own table: ``db_drift`` never reports it)
holds one row per applied ``db_sync`` / ``db_expand`` / ``db_migrate`` /
``db_contract``: when, which command, the plan, the live schema it started
from, the snapshot and the backup tables it made, and whether it was undone.
``novaweb_sync_statements`` holds each statement as the sync started it, one
small row each (a sync killed half-way says which statements ran: all but
the last surely did, the last may or may not have). ``db_undo`` reads them;
the admin schema page shows them. Both tables have primary keys (Galera's
rule); ids are given out under the sync lock.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import re
from dataclasses import dataclass, field

from .backup import PREFIX as BACKUP_PREFIX
from .ddl import DDLWriter
from .dialects import dialect_for
from .introspect import live_table_names
from .schema import Column, Table
from .schema_json import schema_from_dict

TABLE = "novaweb_sync_history"
STATEMENTS_TABLE = "novaweb_sync_statements"
#: JSON can outgrow MySQL's 64 KB ``text``: a whole schema's plan does.
LONG_TEXT = {"mysql": "longtext"}
_BACKUP_CREATED = re.compile(rf"CREATE TABLE [`\"]?({BACKUP_PREFIX}\w+)")

RUNNING, APPLIED, FAILED, UNDONE = "running", "applied", "failed", "undone"


def utc_now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M:%S")


def _col(name, type_, nullable=True):
    return Column(name, type_, nullable=nullable, ddl_type=type_)


def history_table(vendor: str) -> Table:
    text = LONG_TEXT.get(vendor, "text")
    columns = [
        _col("id", "int", nullable=False),
        _col("started_at", "varchar(19)", nullable=False),
        _col("finished_at", "varchar(19)"),
        _col("command", "varchar(32)", nullable=False),
        _col("status", "varchar(16)", nullable=False),
        _col("snapshot", "varchar(1024)"),
        _col("version_before", "int"),
        _col("phase_before", "varchar(16)"),
        _col("plan", text),
        _col("before_schema", text),
        _col("backups", text),
        _col("undone_at", "varchar(19)"),
        _col("undo", text),
    ]
    return Table(TABLE, {c.name: c for c in columns}, primary_key=("id",))


def statements_table(vendor: str) -> Table:
    columns = [
        _col("sync_id", "int", nullable=False),
        _col("seq", "int", nullable=False),
        _col("started_at", "varchar(19)", nullable=False),
        _col("statement", LONG_TEXT.get(vendor, "text"), nullable=False),
    ]
    return Table(STATEMENTS_TABLE, {c.name: c for c in columns}, primary_key=("sync_id", "seq"))


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
    #: [{"table", "kind", "object", "backup", "rows", "columns"}]
    backups: list = field(default_factory=list)
    undone_at: str | None = None
    undo: dict | None = None
    #: the statements as they were started, in order (from ``novaweb_sync_statements``)
    started: list = field(default_factory=list)
    #: what cannot be read in the row (edited by hand): ``db_undo`` refuses to plan from it
    damaged: str | None = None
    #: ``novaweb_sync_statements`` was dropped by hand: which statements ran is not known
    statements_lost: bool = False

    JSON_FIELDS = ("plan", "before_schema", "backups", "undo")

    @property
    def statements(self) -> list[dict]:
        """``[{"sql", "state"}]``: ``done``, or ``started`` for the last one of a run that did not finish."""
        unsure = self.status in (RUNNING, FAILED)
        return [
            {"sql": sql, "state": "started" if unsure and i == len(self.started) - 1 else "done"}
            for i, sql in enumerate(self.started)
        ]

    @property
    def statements_done(self) -> int:
        return sum(1 for s in self.statements if s["state"] == "done")

    @property
    def planned_statements(self) -> int:
        return sum(len(op.get("statements", [])) for op in self.plan.get("operations", []))

    @property
    def statements_run(self) -> str:
        """``"3 of 5"``: how many of the planned statements ran."""
        if self.statements_lost:
            return f"not known ({STATEMENTS_TABLE} is gone) of {self.planned_statements}"
        return f"{self.statements_done} of {self.planned_statements}"

    @property
    def undo_command(self) -> str:
        return f"./manage.py db_undo {self.id}"


_COLUMNS = tuple(history_table("sqlite").columns)


def ensure_tables(connection) -> None:
    present = live_table_names(connection)
    writer = DDLWriter(connection)
    with connection.cursor() as cursor:
        for table in (history_table(connection.vendor), statements_table(connection.vendor)):
            if table.name not in present:
                for sql in writer.create_table(table):
                    cursor.execute(sql)


def _row(record: SyncRecord) -> list:
    values = []
    for name in _COLUMNS:
        value = getattr(record, name)
        values.append(json.dumps(value, default=str) if name in SyncRecord.JSON_FIELDS and value is not None else value)
    return values


#: the JSON type of each field, and what stands in for it when the row has none (or cannot be read)
_JSON_SHAPES = {"plan": (dict, dict), "before_schema": (dict, dict), "backups": (list, list), "undo": (dict, None)}
_STATUSES = (RUNNING, APPLIED, FAILED, UNDONE)


def _record(row) -> SyncRecord:
    """A history row as a record; one edited by hand into what cannot be read is marked ``damaged``."""
    data = dict(zip(_COLUMNS, row, strict=True))
    problems = []
    for name, (shape, empty) in _JSON_SHAPES.items():
        value, problem = _json_field(data[name], shape)
        if problem:
            problems.append(f"{name} {problem}")
        data[name] = value if value is not None else (empty() if empty else None)
    if data["status"] not in _STATUSES:
        problems.append(f"status {data['status']!r} is none of {', '.join(_STATUSES)}")
    return SyncRecord(**data, damaged="; ".join(problems) or None)


def _json_field(text, shape) -> tuple:
    """``(value, None)``, or ``(None, why)`` when ``text`` is not JSON of ``shape``."""
    if text is None:
        return None, None
    try:
        value = json.loads(text)
    except ValueError:
        return None, "is not JSON"
    if value is not None and not isinstance(value, shape):
        return None, f"is not a JSON {'object' if shape is dict else 'array'}"
    return value, None


def damage(record: SyncRecord) -> str | None:
    """Why ``db_undo`` cannot plan from ``record`` (a row edited by hand), or None."""
    if record.damaged:
        return record.damaged
    try:
        schema_from_dict(record.before_schema)
    except (KeyError, TypeError, AttributeError, ValueError) as exc:
        return f"before_schema is not a schema ({type(exc).__name__}: {exc})"
    entries = (("plan", record.plan.get("operations", []), ("kind", "table")), ("backups", record.backups, ("backup",)))
    for name, items, keys in entries:
        if not isinstance(items, list) or not all(isinstance(i, dict) and all(k in i for k in keys) for i in items):
            return f"{name} has an entry without {' or '.join(keys)}"
    return None


def start(connection, command: str, *, plan: dict, before_schema: dict, snapshot=None, version=None, phase=None):
    """A new ``running`` record (call under the sync lock); returns it."""
    ensure_tables(connection)
    q = dialect_for(connection).quote
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
    q = dialect_for(connection).quote
    names = fields or [c for c in _COLUMNS if c != "id"]
    values = dict(zip(_COLUMNS, _row(record), strict=True))
    assignments = ", ".join(f"{q(n)} = %s" for n in names)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {q(TABLE)} SET {assignments} WHERE {q('id')} = %s", [values[n] for n in names] + [record.id]
        )


def finish(connection, record: SyncRecord, status: str) -> None:
    record.status = status
    record.finished_at = utc_now()
    save(connection, record, "status", "finished_at", "backups")


def records(connection, limit: int | None = None) -> list[SyncRecord]:
    """The recorded syncs, newest first (none when nothing was ever recorded)."""
    tables = live_table_names(connection)
    if TABLE not in tables:
        return []
    q = dialect_for(connection).quote
    names = ", ".join(q(c) for c in _COLUMNS)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {names} FROM {q(TABLE)} ORDER BY {q('id')} DESC")
        found = [_record(row) for row in (cursor.fetchmany(limit) if limit else cursor.fetchall())]
        if STATEMENTS_TABLE not in tables:  # dropped by hand: which statements ran is not known
            for record in found:
                record.statements_lost = True
        elif found:
            by_id = {r.id: r for r in found}
            cursor.execute(
                f"SELECT {q('sync_id')}, {q('statement')} FROM {q(STATEMENTS_TABLE)} "
                f"WHERE {q('sync_id')} >= %s ORDER BY {q('sync_id')}, {q('seq')}",
                [min(by_id)],
            )
            for sync_id, sql in cursor.fetchall():
                if sync_id in by_id:
                    by_id[sync_id].started.append(sql)
    return found


class StatementRecorder:
    """Writes each planned statement down just before it runs.

    Installed with ``connection.execute_wrapper``: the sync's own code runs
    unchanged. Where DDL is transactional the rows go with the statements'
    transaction, committed or rolled back together. On MySQL each DDL commits
    by itself, and its row is committed before it runs: the row opens a
    transaction that the server's implicit commit of the DDL ends before the
    DDL starts (one commit, not two; a row written on its own cost a log flush
    per statement, a tenth of a sync from empty). A run killed half-way leaves
    the history saying which statements it started.
    """

    def __init__(self, connection, record: SyncRecord, planned):
        self.connection = connection
        self.record = record
        self.planned = set()
        for statement in planned:
            self.planned.add(statement.sql)
            if statement.fallback:
                self.planned.add(statement.fallback)
        self._busy = False

    def __call__(self, execute, sql, params, many, context):
        if self._busy:
            return execute(sql, params, many, context)
        if sql in self.planned:
            joined = self._write_down(sql)
            try:
                return execute(sql, params, many, context)
            except Exception:
                if joined:  # refused before the server's commit (it could not even parse it): the row stays
                    self._commit_row()
                raise
        result = execute(sql, params, many, context)
        self._note_backup(sql)
        return result

    @contextlib.contextmanager
    def _own_cursor(self):
        """A cursor for the recorder's own rows, which it does not record."""
        self._busy = True
        try:
            with self.connection.cursor() as cursor:
                yield cursor
        finally:
            self._busy = False

    def _write_down(self, sql: str) -> bool:
        """The row of ``sql``; True when it waits for the DDL's own commit (see the class)."""
        dialect = dialect_for(self.connection)
        q = dialect.quote
        self.record.started.append(sql)
        columns = ", ".join(q(c) for c in ("sync_id", "seq", "started_at", "statement"))
        joined = dialect.commits_before(sql) and self.connection.get_autocommit()
        with self._own_cursor() as cursor:
            if joined:
                cursor.execute("START TRANSACTION")
            try:
                cursor.execute(
                    f"INSERT INTO {q(STATEMENTS_TABLE)} ({columns}) VALUES (%s, %s, %s, %s)",
                    [self.record.id, len(self.record.started), utc_now(), sql],
                )
            except Exception:
                if joined:
                    cursor.execute("ROLLBACK")
                raise
        return joined

    def _commit_row(self) -> None:
        with self._own_cursor() as cursor:
            cursor.execute("COMMIT")

    def _note_backup(self, sql: str) -> None:
        """A backup table the sync made (described in full when the sync finishes)."""
        match = _BACKUP_CREATED.match(sql)
        if match:
            self.record.backups.append({"backup": match.group(1)})
            with self._own_cursor():
                save(self.connection, self.record, "backups")
