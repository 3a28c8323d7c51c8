"""Keep what a destructive change removes, in a table the operator can read back.

Every backup is a plain table in the same database, named
``novaweb_backup_<what>_<UTC timestamp>`` (shortened with a hash to fit the
backend's identifier limit): a keyed copy (:mod:`schema.copies`) holding the
rows exactly as they were, with its own ``novaweb_backup_id`` primary key
(Galera's rule). ``schema.engine.own_tables`` reports
these tables as novaweb's own, never as drift. To restore, insert the rows
back, naming the columns: ``INSERT INTO t (a, b) SELECT a, b FROM novaweb_backup_...``.
"""

from __future__ import annotations

import datetime
import hashlib
import re

from .copies import keyed_copy

PREFIX = "novaweb_backup_"
BACKUP_KEY = "novaweb_backup_id"
#: PostgreSQL cuts identifiers at 63 characters, MySQL refuses more than 64.
MAX_NAME = 63


def backup_table_name(what: str, now: datetime.datetime | None = None) -> str:
    """``novaweb_backup_<what>_<YYYYmmdd_HHMMSS>``: lowercase letters, digits and ``_`` only.

    So the README's unquoted ``INSERT ... SELECT ... FROM novaweb_backup_...``
    names it on every backend (PostgreSQL folds an unquoted name to lowercase).
    A ``what`` with other characters (a table named ``A/b``) keeps a hash of
    the original, so two such tables never share a backup name.
    """
    stamp = (now or datetime.datetime.now(datetime.UTC)).strftime("%Y%m%d_%H%M%S")
    safe = re.sub(r"[^a-z0-9_]+", "_", what.lower()).strip("_") or "table"
    digest = hashlib.sha1(what.encode()).hexdigest()[:8]
    if safe != what:
        safe = f"{safe}_{digest}"
    name = f"{PREFIX}{safe}_{stamp}"
    if len(name) <= MAX_NAME:
        return name
    room = MAX_NAME - len(PREFIX) - len(stamp) - len(digest) - 2
    return f"{PREFIX}{safe[:room]}_{digest}_{stamp}"


def _free_name(name: str, taken: set[str]) -> str:
    """``name``, or ``name_2``, ``name_3``... when a backup of the same thing was made in the same second."""
    candidate, n = name, 1
    while candidate in taken:
        n += 1
        suffix = f"_{n}"
        candidate = name[: MAX_NAME - len(suffix)] + suffix
    return candidate


def copy_to_backup(
    connection, table: str, *, what: str | None = None, columns=None, where: str = "", params=(), now=None
) -> tuple[str, int]:
    """Copy the rows of ``table`` (``columns`` of them, matching ``where``) into a new backup table.

    Returns ``(backup table name, rows copied)``. Runs on the caller's
    connection and transaction.
    """
    from .ddl import DDLWriter
    from .introspect import introspect, live_table_names

    writer = DDLWriter(connection)
    quote = writer.dialect.quote_for_params if params else writer.dialect.quote
    source = introspect(connection, tables=[table])[table]
    name = _free_name(backup_table_name(what or table, now), set(live_table_names(connection)))
    backup = keyed_copy(source, name, BACKUP_KEY, writer.dialect, columns)
    copied = ", ".join(quote(c) for c in backup.columns if c != BACKUP_KEY)
    condition = f" WHERE {where}" if where else ""
    with connection.cursor() as cursor:
        for sql in writer.create_table(backup):
            cursor.execute(sql)
        cursor.execute(
            f"INSERT INTO {quote(backup.name)} ({copied}) SELECT {copied} FROM {quote(table)}{condition}",
            params or None,
        )
        cursor.execute(f"SELECT COUNT(*) FROM {quote(backup.name)}")
        (count,) = cursor.fetchone()
    return backup.name, count
