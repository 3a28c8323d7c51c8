"""MySQL/MariaDB's fastest bulk path: ``LOAD DATA LOCAL INFILE`` from files novaweb writes.

At a million instances the server stores rows from ``LOAD DATA`` about twice
as fast as from multi-row INSERTs, and the file is written by the C loop of
Python's ``csv`` module instead of MySQLdb's per-value escaping in Python.

The file format cannot be misread (``FILE_FORMAT``):

- fields end with ``,``, lines with ``\\n``; the file is UTF-8 (``CHARACTER SET utf8mb4``);
- every string is enclosed in ``"``, each ``"`` inside doubled, nothing else
  escaped (``ESCAPED BY ''``): backslashes, tabs, newlines, carriage returns,
  NULs and the ``,`` are read as they are inside the quotes;
- NULL is the bare word ``NULL`` (the string ``'NULL'`` is enclosed);
- integers bare, booleans as ``1``/``0`` (what MySQLdb sends), floats bare in
  Python's shortest exact form (``repr``), naive datetimes and dates as the
  text MySQLdb sends for them.

A batch holding any other value (bytes, ``Decimal``, an infinite float, an
aware datetime...) goes through :meth:`BulkLoad.bulk_insert` instead, which is
the reference the file must match (``tests/schema/test_load_data.py`` checks
both against the server).

``LOCAL`` makes the server turn a bad value into a warning (it cannot stop the
client in the middle of a file): a load that leaves any warning, or stores
another number of rows than it was given, is an error here, so nothing is cut
or dropped silently.

The load runs on the dialect's own connection, in its current transaction
(one is opened when there is none): the rows commit with whatever else the
caller writes there, or not at all, whichever way the connection dies.
``local_infile`` is a client option fixed when the connection opens: the
caller reopens its connection with it for the load (:func:`local_infile`,
``Dialect.bulk_connection``) and every other connection keeps it off. Without
it the dialect falls back to multi-row INSERTs and says so.
"""

from __future__ import annotations

import contextlib
import csv
import datetime
import itertools
import math
import os
import shutil
import tempfile

from django.db import transaction
from django.db.utils import DataError

from .bulk import BulkSession

FILE_FORMAT = (
    "CHARACTER SET utf8mb4 FIELDS TERMINATED BY ',' OPTIONALLY ENCLOSED BY '\"' ESCAPED BY '' LINES TERMINATED BY '\\n'"
)


class _Null(float):
    """Written bare as ``NULL``: ``csv`` leaves numbers unquoted and prints them with ``str()``."""

    __slots__ = ()
    __str__ = "NULL".__str__


NULL = _Null()
#: None and booleans as the file spells them; any other value as it is (``dict.get(value, value)``).
_SPELLING = {None: NULL, True: 1, False: 0}.get
#: the values ``_SPELLING`` maps without a mistake (a float 1.0 or -0.0 would equal True/False)
_PLAIN_TYPES = frozenset({str, int, bool, type(None)})


class _Unrepresentable(Exception):
    pass


def _field(value):
    """One value in the file's spelling; ``_Unrepresentable`` when the file has no exact form for it."""
    kind = type(value)
    if kind is str or kind is int:
        return value
    if value is None:
        return NULL
    if kind is bool:
        return int(value)
    if kind is float and math.isfinite(value):
        return value
    if kind is datetime.datetime and value.tzinfo is None:
        return value.isoformat(" ")  # MySQLdb's format_TIMESTAMP: microseconds only when there are some
    if kind is datetime.date:
        return value.isoformat()
    raise _Unrepresentable


def write_rows(out, rows) -> bool:
    """Write ``rows`` to the text stream ``out`` in ``FILE_FORMAT``.

    Returns False, having written nothing, when a value has no exact spelling
    in the file (the caller inserts those rows another way).
    """
    writer = csv.writer(out, quoting=csv.QUOTE_NONNUMERIC, lineterminator="\n")
    if set(map(type, itertools.chain.from_iterable(rows))) <= _PLAIN_TYPES:
        # All in C: for each row, map(_SPELLING, row, row) -> _SPELLING(value, value).
        writer.writerows(map(map, itertools.repeat(_SPELLING), rows, rows))
        return True
    try:
        spelled = [tuple(map(_field, row)) for row in rows]
    except _Unrepresentable:
        return False
    writer.writerows(spelled)
    return True


def load_data_sql(quote, table: str, columns) -> str:
    """The statement that loads one file (its path is the statement's one parameter)."""
    names = ", ".join(map(quote, columns))
    return f"LOAD DATA LOCAL INFILE %s INTO TABLE {quote(table)} {FILE_FORMAT} ({names})"


class LoadDataSession(BulkSession):
    def __init__(self, dialect, cursor, folder):
        super().__init__(dialect, cursor)
        self.method = "LOAD DATA LOCAL INFILE"
        self.folder = folder
        self._names = itertools.count(1)

    def encode(self, table, columns, rows):
        path = os.path.join(self.folder, f"{next(self._names)}.csv")
        with open(path, "w", encoding="utf-8", newline="") as out:
            exact = write_rows(out, rows)
        if not exact:
            os.remove(path)
            return table, columns, rows, None
        return table, columns, len(rows), path

    def send(self, payload) -> None:
        table, columns, rows, path = payload
        if path is None:
            self.dialect.bulk_insert(self.cursor, table, columns, rows)
            return
        try:
            self.cursor.execute(load_data_sql(self.dialect.quote_for_params, table, columns), [path])
            loaded = self.cursor.rowcount
            if self.dialect.connection.connection.warning_count():
                self.cursor.execute("SHOW WARNINGS LIMIT 3")
                found = "; ".join(f"{code} {message}" for _, code, message in self.cursor.fetchall())
                raise DataError(f"LOAD DATA into {table} was refused: {found}")
            if loaded != rows:
                raise DataError(f"LOAD DATA into {table} stored {loaded} of {rows} rows")
        finally:
            os.remove(path)


def has_local_infile(connection) -> bool:
    """Whether ``connection`` opens (or was opened) with the client's ``local_infile`` on."""
    return bool(connection.settings_dict.get("OPTIONS", {}).get("local_infile"))


@contextlib.contextmanager
def local_infile(connection):
    """``connection`` reopened with the client's ``local_infile`` on for the block, then closed and back as it was.

    Only the caller's Django connection object (this thread's) changes, never the alias's settings:
    every other connection novaweb opens keeps ``local_infile`` off. Inside a transaction the
    connection cannot be reopened: it is left as it is (the bulk session then uses INSERTs, said so).
    """
    if has_local_infile(connection) or connection.in_atomic_block:
        yield
        return
    original = connection.settings_dict
    connection.close()
    connection.settings_dict = {**original, "OPTIONS": {**original.get("OPTIONS", {}), "local_infile": True}}
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict = original


@contextlib.contextmanager
def load_data_session(dialect):
    """A :class:`LoadDataSession` on the dialect's connection (opened with ``local_infile``), in its transaction.

    Inside the caller's transaction (``DemoCloud.build``) the rows commit with it; alone, the
    session is one transaction. The session is used from one thread at a time: the caller's
    thread does not touch the connection while another thread sends (``BulkWriter``).
    """
    connection = dialect.connection
    folder = tempfile.mkdtemp(prefix="novaweb-load-")
    connection.inc_thread_sharing()
    try:
        with (
            transaction.atomic(using=connection.alias, savepoint=False),
            connection.cursor() as cursor,
            dialect.bulk_load(cursor),
        ):
            yield LoadDataSession(dialect, cursor, folder)
    finally:
        connection.dec_thread_sharing()
        shutil.rmtree(folder, ignore_errors=True)
