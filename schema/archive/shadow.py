"""The ``shadow_<table>`` tables archived rows move to.

A shadow table is a keyed copy (:mod:`schema.copies`) of its live table,
keyed by ``shadow_id``. Every table needs a primary key on Galera
(row-based replication finds a row by it; without one each replicated
DELETE of ``db_purge`` scans the table on every node), and the live
table's own id cannot be it: a live id can be handed out again after
its row was archived (SQLite reuses the highest rowid, MySQL before 8.0
resets its counter on restart), and the same id must archive twice. To
restore rows, name the live table's columns:
``INSERT INTO t (a, b, ...) SELECT a, b, ... FROM shadow_t WHERE ...``.
The command creates a shadow table the first time it archives rows of a
table, and adds a column to it when the live table has gained one since.
``schema.engine.own_tables`` reports shadow tables as novaweb's own, never
as drift.
"""

from __future__ import annotations

from ..copies import keyed_copy
from ..ddl import DDLWriter, run_statements
from ..phases import type_change
from ..schema import Schema, Table

SHADOW_PREFIX = "shadow_"
#: The shadow table's own primary key.
SHADOW_KEY = "shadow_id"


def shadow_name(table: str) -> str:
    return SHADOW_PREFIX + table


def shadow_table(table: Table, dialect) -> Table:
    """The shadow of a live table: its own key, then the table's columns, loosened."""
    return keyed_copy(table, shadow_name(table.name), SHADOW_KEY, dialect)


class ShadowMismatch(Exception):
    """An existing shadow table that cannot hold the live table's rows unchanged (exit 2)."""


def check_shadow_holds(table: Table, shadow: Table, dialect) -> None:
    """Refuse a shadow table whose columns are narrower than the live table's.

    Rows are copied with ``INSERT ... SELECT``: a narrower shadow column would
    cut the value (or, in a strict session, fail the batch), and the original
    row is then deleted. Columns the shadow lacks are added; these must fit.
    """
    for name, column in table.columns.items():
        kept = shadow.columns.get(name)
        if kept is None or kept.type == column.type:
            continue
        if type_change(column.type, kept.type, dialect.vendor) != "widen":
            raise ShadowMismatch(
                f"{shadow.name}.{name} is {kept.ddl_type or kept.type}, which cannot hold every value of "
                f"{table.name}.{name} ({column.ddl_type or column.type}): widen that column or rename "
                f"{shadow.name}, then archive again"
            )


def ensure_shadow_table(connection, table: Table, live: Schema) -> Table:
    """Create the shadow of ``table`` (or add the columns it lacks); record it in ``live``."""
    writer = DDLWriter(connection)
    want = shadow_table(table, writer.dialect)
    have = live.tables.get(want.name)
    if have is None:
        statements = writer.create_table(want)
        have = Table(want.name)
    else:
        check_shadow_holds(table, have, writer.dialect)
        quote = writer.quote
        statements = [
            f"ALTER TABLE {quote(want.name)} ADD COLUMN {writer.dialect.column_definition(quote, column)}"
            for name, column in want.columns.items()
            if name not in have.columns and name != SHADOW_KEY
        ]
    if statements:
        run_statements(connection, statements)
        for name, column in want.columns.items():
            have.columns.setdefault(name, column)
        live.add_table(have)
    return have
