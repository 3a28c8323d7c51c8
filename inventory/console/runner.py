"""Run one statement on the read-only alias, within the console's time limit and row cap.

Each run opens a connection of its own (``connections.create_connection``) and
closes it afterwards, so nothing a statement does to its session (a ``SET``)
outlives it. Rows are read through a cursor that does not load the whole
result into memory, at most ``max_rows + 1`` of them (the extra row tells
that there are more), each value cut to ``max_cell_chars`` for the page as it is
read (``instances.user_data`` holds up to 64 KiB a row; the CSV keeps values whole):

- PostgreSQL: a server-side cursor (``DECLARE``, the extended protocol: one
  statement only) inside a transaction that is always rolled back; any other
  statement through the extended protocol too (``binary=True``), never the
  simple protocol that would run ``COMMIT; SET ...; UPDATE ...`` in one string;
- MySQL/MariaDB: an unbuffered cursor (``SSCursor``); when the cap stops the
  read, the connection is closed rather than drained;
- SQLite: its cursor steps row by row; a progress handler stops a statement at
  the time limit (the other servers stop it themselves: ``statement_timeout``,
  ``max_statement_time``).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

from django.db import DatabaseError, connections

from .database import READONLY_ALIAS, timeout_seconds

#: Rows fetched from the server per round trip.
BATCH = 500

EXPLAIN_PREFIX = {"postgresql": "EXPLAIN ", "mysql": "EXPLAIN ", "sqlite": "EXPLAIN QUERY PLAN "}


class QueryFailed(Exception):
    """The server refused or stopped the statement; ``str()`` is one line for the user."""

    def __init__(self, message: str, *, timed_out: bool = False):
        super().__init__(message)
        self.timed_out = timed_out


@dataclass
class Result:
    columns: list[str]
    rows: list[tuple] = field(default_factory=list)
    #: True when the statement had more rows than the cap (only the cap is kept).
    truncated: bool = False
    duration_ms: int = 0
    #: How many values were longer than ``max_cell_chars`` and are cut (ending with …).
    cut_values: int = 0


def explain_sql(sql: str, vendor: str) -> str:
    return EXPLAIN_PREFIX[vendor] + sql


def run(
    sql: str,
    params=None,
    *,
    max_rows: int,
    max_cell_chars: int | None = None,
    alias: str = READONLY_ALIAS,
    is_query: bool = True,
) -> Result:
    """Run ``sql`` and return at most ``max_rows`` rows (``truncated`` says when there were more).

    A text or binary value longer than ``max_cell_chars`` is cut to that length
    and ``…`` (``cut_values`` counts them). ``is_query``: the statement returns
    rows (a SELECT): on PostgreSQL it is then read through a server-side cursor.
    Raises :class:`QueryFailed`.
    """
    started = time.monotonic()
    with session(alias) as connection, _executed(connection, sql, params, is_query) as cursor:
        columns = _columns(cursor)
        rows, cut = [], 0
        while columns and len(rows) <= max_rows:
            batch = cursor.fetchmany(min(BATCH, max_rows + 1 - len(rows)))
            if not batch:
                break
            for row in batch:
                values = tuple(_cut(value, max_cell_chars) for value in row)
                cut += sum(shown is not value for shown, value in zip(values, row, strict=True))
                rows.append(values)
        truncated = len(rows) > max_rows
        return Result(columns, rows[:max_rows], truncated, int((time.monotonic() - started) * 1000), cut)


def _cut(value, max_chars: int | None):
    """``value``, or its first ``max_chars`` characters (bytes) and ``…`` when it is longer."""
    if max_chars is None or not isinstance(value, (str, bytes, bytearray, memoryview)) or len(value) <= max_chars:
        return value
    if isinstance(value, str):
        return value[:max_chars] + "…"
    return f"{bytes(value[:max_chars])!r}…"


def stream(
    sql: str, params=None, *, max_rows: int, alias: str = READONLY_ALIAS, is_query: bool = True, on_close=None
) -> Iterator[tuple]:
    """The column names, then each row (at most ``max_rows``), read batch by batch.

    ``on_close(rows, truncated, error)`` is called once the stream ends, however it ends.
    """
    rows = 0
    truncated = False
    error = None
    try:
        with session(alias) as connection, _executed(connection, sql, params, is_query) as cursor:
            yield tuple(_columns(cursor))
            while True:
                batch = cursor.fetchmany(BATCH)
                if not batch:
                    break
                for row in batch:
                    if rows == max_rows:
                        truncated = True
                        return
                    rows += 1
                    yield tuple(row)
    except QueryFailed as exc:
        error = exc
        raise
    finally:
        if on_close is not None:
            on_close(rows, truncated, error)


@contextlib.contextmanager
def session(alias: str = READONLY_ALIAS):
    """A fresh connection of ``alias`` for one statement; closed (never reused) afterwards."""
    connection = connections.create_connection(alias)
    try:
        with _translated(connection):
            connection.ensure_connection()
        yield connection
    finally:
        with contextlib.suppress(DatabaseError):
            connection.close()


@contextlib.contextmanager
def _executed(connection, sql, params, is_query):
    vendor = connection.vendor
    with _translated(connection):
        if vendor == "postgresql":
            cursor = _execute_postgresql(connection, sql, params, is_query)
        elif vendor == "mysql":
            import MySQLdb.cursors

            cursor = connection.connection.cursor(MySQLdb.cursors.SSCursor)
            cursor.execute(sql, params)
        else:
            _set_deadline(connection)
            cursor = connection.cursor()
            cursor.execute(sql, params)
    try:
        with _translated(connection):
            yield cursor
    finally:
        _release(connection, cursor)


def _execute_postgresql(connection, sql, params, is_query):
    import psycopg

    raw = connection.connection
    raw.autocommit = False  # one transaction per run, read-only by the session default
    if is_query:
        cursor = raw.cursor(name="novaweb_console")  # server-side: DECLARE ... CURSOR FOR
        cursor.execute(sql, params or None)
    else:
        cursor = psycopg.Cursor(raw)
        cursor.execute(sql, params or None, binary=True)  # the extended protocol: exactly one statement
    return cursor


def _release(connection, cursor) -> None:
    """Close the statement without reading what is left of its result."""
    if connection.vendor == "sqlite":
        connection.connection.set_progress_handler(None, 0)
    if connection.vendor == "mysql":
        # Closing an unbuffered cursor would read every remaining row first: drop the connection.
        with contextlib.suppress(Exception):  # noqa: BLE001 -- the connection is discarded anyway
            connection.connection.close()
        connection.connection = None
        return
    with contextlib.suppress(Exception):  # noqa: BLE001 -- a failed statement leaves an aborted transaction
        cursor.close()
    if connection.vendor == "postgresql":
        with contextlib.suppress(Exception):  # noqa: BLE001
            connection.connection.rollback()


def _set_deadline(connection) -> None:
    deadline = time.monotonic() + timeout_seconds(connection)
    connection.connection.set_progress_handler(lambda: int(time.monotonic() > deadline), 1000)


def _columns(cursor) -> list[str]:
    return [column[0] for column in cursor.description or ()]


# --- errors ------------------------------------------------------------------------------

#: MariaDB ER_STATEMENT_TIMEOUT, MySQL ER_QUERY_TIMEOUT.
_MYSQL_TIMEOUTS = {1969, 3024}


@contextlib.contextmanager
def _translated(connection):
    """The driver's error as a one-line :class:`QueryFailed` (a time limit said plainly)."""
    try:
        with connection.wrap_database_errors:
            yield
    except DatabaseError as exc:
        raise _failure(connection, exc) from exc


def _failure(connection, exc) -> QueryFailed:
    cause = exc.__cause__ or exc
    code = getattr(cause, "sqlstate", None) or (cause.args[0] if cause.args else None)
    if code == "57014" or code in _MYSQL_TIMEOUTS or str(cause).strip() == "interrupted":
        limit = timeout_seconds(connection)
        return QueryFailed(f"stopped at the console's time limit of {limit:g} s", timed_out=True)
    if connection.vendor == "mysql" and len(cause.args) >= 2:
        message = f"{cause.args[0]} {cause.args[1]}"
    else:
        message = str(cause)
    first = message.strip().splitlines()[0] if message.strip() else type(cause).__name__
    return QueryFailed(first)
