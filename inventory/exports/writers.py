"""Writing an export's rows: CSV or JSON lines, in one transaction, in bounded memory.

The rows come from the database already formatted (``query``), and the server
writes as much of the file as it can:

- PostgreSQL: ``COPY (SELECT ...) TO STDOUT WITH (FORMAT csv)``, the bytes
  copied as they come;
- MariaDB/MySQL: each CSV line built by the query (``ExportQuery.csv_lines``),
  fetched by a server-side cursor (``SSCursor``) a chunk at a time;
- SQLite: rows from a cursor a chunk at a time, written by ``csv.writer.writerows``;
- JSON lines: each object built by the query (``ExportQuery.json_lines``),
  fetched a chunk at a time.

Lines end with ``\\r\\n`` (RFC 4180; the csv module quotes a lone ``\\r`` only
when it is part of the line end), except COPY's, which end with ``\\n``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator

from django.db import transaction

from .query import ExportQuery, prepare_session

CHUNK_SIZE = 10_000
FORMATS = ("csv", "jsonl")

Progress = Callable[[int], None]


def streamed_rows(query: ExportQuery, connection, sql=None, params=None) -> Iterator[list[tuple]]:
    """The query's rows (or ``sql``'s), CHUNK_SIZE at a time, from a server-side cursor (caller's transaction)."""
    if connection.vendor == "mysql":
        from MySQLdb.cursors import SSCursor

        connection.ensure_connection()
        cursor = connection.connection.cursor(SSCursor)
    else:  # a named cursor on PostgreSQL; SQLite steps through the result by itself
        cursor = connection.chunked_cursor()
    try:
        cursor.execute(sql or query.sql, query.params if params is None else params)
        while chunk := cursor.fetchmany(CHUNK_SIZE):
            yield chunk
    finally:
        cursor.close()


def write_csv(query: ExportQuery, connection, out, progress: Progress | None = None) -> int:
    """Write the header and rows to the binary file ``out`` as UTF-8 CSV; the number of rows (see ``write``)."""
    copy = connection.vendor == "postgresql"
    text = io.TextIOWrapper(out, encoding="utf-8", newline="")
    writer = csv.writer(text, lineterminator="\n" if copy else "\r\n")
    writer.writerow([column.header for column in query.columns])
    if connection.vendor in ("postgresql", "mysql"):
        text.flush()
        text.detach()  # ``out`` stays open, for the server's bytes
        return (copy_csv if copy else server_csv)(query, connection, out, progress)
    rows = 0
    for chunk in streamed_rows(query, connection):
        writer.writerows(chunk)
        rows += len(chunk)
        if progress:
            progress(rows)
    text.flush()
    text.detach()
    return rows


def server_csv(query: ExportQuery, connection, out, progress: Progress | None) -> int:
    """MariaDB/MySQL: the server builds each CSV line (``ExportQuery.csv_lines``)."""
    sql, params = query.csv_lines()
    rows = 0
    for chunk in streamed_rows(query, connection, sql, params):
        out.write(b"\r\n".join(line for (line,) in chunk) + b"\r\n")
        rows += len(chunk)
        if progress:
            progress(rows)
    return rows


def copy_csv(query: ExportQuery, connection, out, progress: Progress | None) -> int:
    """PostgreSQL: the server writes the CSV (``COPY ... TO STDOUT``)."""
    statement = f"COPY ({query.sql}) TO STDOUT WITH (FORMAT csv)"
    rows = 0
    with connection.cursor() as cursor, cursor.cursor.copy(statement, query.params) as copy:
        for data in copy:  # one message per row
            out.write(data)
            rows += 1
            if progress and rows % CHUNK_SIZE == 0:
                progress(rows)
    if progress:
        progress(rows)
    return rows


def write_jsonl(query: ExportQuery, connection, out, progress: Progress | None = None) -> int:
    """One JSON object per row, built by the server (``ExportQuery.json_lines``); the number of rows."""
    sql, params = query.json_lines(connection.vendor)
    rows = 0
    for chunk in streamed_rows(query, connection, sql, params):
        out.write("".join(f"{line}\n" for (line,) in chunk).encode())
        rows += len(chunk)
        if progress:
            progress(rows)
    return rows


def write(query: ExportQuery, connection, out, fmt: str = "csv", progress: Progress | None = None) -> int:
    """Write the export as ``fmt`` to the binary file ``out``, in one transaction (one snapshot); the row count."""
    with transaction.atomic(using=connection.alias):
        prepare_session(connection)
        return (write_csv if fmt == "csv" else write_jsonl)(query, connection, out, progress)
