"""Delete rows from the shadow tables, as ``nova-manage db purge`` does.

With a date, a row goes when its timestamp is earlier: ``deleted_at``,
falling back to ``updated_at`` then ``created_at`` where that is empty (row
by row: instance actions and faults, archived with their instance without
ever being soft-deleted, have no ``deleted_at``; Nova special-cases them the
same way). Without a date (``--all``) every shadow row goes. Each table is
one ``DELETE`` in its own transaction.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from ..dialects import dialect_for
from ..introspect import introspect, live_table_names
from ..names import printable
from ..type_rules import type_info
from .shadow import SHADOW_PREFIX

TIMESTAMP_COLUMNS = ("deleted_at", "updated_at", "created_at")


@dataclass(frozen=True)
class Purged:
    table: str
    rows: int
    #: the timestamp columns the date was compared with (empty for --all)
    columns: tuple[str, ...] = ()
    #: why the table was left alone, if it was
    skipped: str = ""

    def describe(self) -> str:
        if self.skipped:
            return f"Unable to purge table {printable(self.table)} because it {self.skipped}"
        if not self.columns:
            based = "(n/a)"
        elif len(self.columns) == 1:
            based = self.columns[0]
        else:
            based = f"{self.columns[0]} (else {', '.join(self.columns[1:])})"
        return f"Deleted {self.rows} rows from {printable(self.table)} based on timestamp column {based}"


def shadow_tables(connection) -> list[str]:
    return [name for name in live_table_names(connection) if name.startswith(SHADOW_PREFIX)]


def purge_shadow_tables(connection, before=None) -> list[Purged]:
    """Delete shadow rows older than ``before`` (all of them when None); one result per table."""
    dialect = dialect_for(connection)
    q = dialect.quote_for_params  # the DELETE always runs with parameters (perhaps none)
    live = introspect(connection, tables=shadow_tables(connection))
    results = []
    for name, table in sorted(live.tables.items()):
        if before is None:
            columns, where, params = (), "", []
        else:
            columns = tuple(c for c in TIMESTAMP_COLUMNS if c in table.columns)
            skipped = _no_timestamps(table, columns, dialect)
            if skipped:
                results.append(Purged(name, 0, skipped=skipped))
                continue
            stamp = columns[0] if len(columns) == 1 else f"COALESCE({', '.join(map(q, columns))})"
            where = f" WHERE {q(stamp) if len(columns) == 1 else stamp} < %s"
            params = [connection.ops.adapt_datetimefield_value(before)]
        with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {q(name)}{where}", params)
            results.append(Purged(name, cursor.rowcount, columns))
    return results


def _no_timestamps(table, columns, dialect) -> str:
    """Why a date cannot be compared with ``columns`` of a shadow table (none, or not all dates and times)."""
    if not columns:
        return "has no timestamp column"
    others = [f"{c} is {table.columns[c].type}" for c in columns if not _holds_times(table.columns[c], dialect)]
    return f"has timestamp columns that are not dates and times ({', '.join(others)})" if others else ""


def _holds_times(column, dialect) -> bool:
    """A date-time column (with or without a time zone): one a date compares with on every backend."""
    return type_info(dialect, column.type).family == "datetime" or column.type.startswith("datetime")
