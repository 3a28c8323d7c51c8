"""Keep what a destructive change removes, in a table the operator can read back.

Every backup is a plain table in the same database, named
``novaweb_backup_<what>_<UTC timestamp>`` (shortened with a hash to fit the
backend's identifier limit), made with ``CREATE TABLE ... AS SELECT`` so it
holds the rows exactly as they were. ``schema.engine.own_tables`` reports
these tables as novaweb's own, never as drift. To restore, insert the rows
back: ``INSERT INTO t SELECT * FROM novaweb_backup_...`` (the columns match
the table as it was when the backup was taken).
"""

from __future__ import annotations

import datetime
import hashlib

PREFIX = "novaweb_backup_"
#: PostgreSQL cuts identifiers at 63 characters, MySQL refuses more than 64.
MAX_NAME = 63


def backup_table_name(what: str, now: datetime.datetime | None = None) -> str:
    stamp = (now or datetime.datetime.now(datetime.UTC)).strftime("%Y%m%dT%H%M%S")
    name = f"{PREFIX}{what}_{stamp}"
    if len(name) <= MAX_NAME:
        return name
    digest = hashlib.sha1(what.encode()).hexdigest()[:8]
    room = MAX_NAME - len(PREFIX) - len(stamp) - len(digest) - 2
    return f"{PREFIX}{what[:room]}_{digest}_{stamp}"


def copy_to_backup(
    connection, table: str, *, what: str | None = None, columns=None, where: str = "", params=(), now=None
) -> tuple[str, int]:
    """Copy the rows of ``table`` (``columns`` of them, matching ``where``) into a new backup table.

    Returns ``(backup table name, rows copied)``. Runs on the caller's
    connection and transaction.
    """
    quote = connection.ops.quote_name
    name = backup_table_name(what or table, now)
    selected = ", ".join(map(quote, columns)) if columns else "*"
    condition = f" WHERE {where}" if where else ""
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TABLE {quote(name)} AS SELECT {selected} FROM {quote(table)}{condition}", params or None
        )
        cursor.execute(f"SELECT COUNT(*) FROM {quote(name)}")
        (count,) = cursor.fetchone()
    return name, count


def list_backups(connection) -> list[str]:
    from .introspect import live_table_names

    return [name for name in live_table_names(connection) if name.startswith(PREFIX)]
