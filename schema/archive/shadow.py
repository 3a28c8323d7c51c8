"""The ``shadow_<table>`` tables archived rows move to.

A shadow table has the columns of its live table, with the same SQL types
as the live database reports them (so ``INSERT INTO shadow_t (...) SELECT
... FROM t`` keeps every value), and nothing else: every column nullable, no
defaults, no auto-increment, no keys, indexes or foreign keys. Without a
primary key, a row id that the live table hands out again (MySQL before 8.0
resets its counter on restart) can still be archived a second time. The
command creates a shadow table the first time it archives rows of a table,
and adds a column to it when the live table has gained one since.
``schema.engine.own_tables`` reports shadow tables as novaweb's own, never
as drift.
"""

from __future__ import annotations

from dataclasses import replace

from ..ddl import DDLWriter, run_statements
from ..schema import Schema, Table

SHADOW_PREFIX = "shadow_"


def shadow_name(table: str) -> str:
    return SHADOW_PREFIX + table


def shadow_table(table: Table) -> Table:
    """The shadow of a live table: its columns, loosened; nothing else."""
    columns = {
        name: replace(column, nullable=True, default=None, autoincrement=False)
        for name, column in table.columns.items()
    }
    return Table(shadow_name(table.name), columns)


def ensure_shadow_table(connection, table: Table, live: Schema) -> Table:
    """Create the shadow of ``table`` (or add the columns it lacks); record it in ``live``."""
    want = shadow_table(table)
    writer = DDLWriter(connection)
    have = live.tables.get(want.name)
    if have is None:
        statements = writer.create_table(want)
        have = Table(want.name)
    else:
        quote = connection.ops.quote_name
        statements = [
            f"ALTER TABLE {quote(want.name)} ADD COLUMN {writer.dialect.column_definition(quote, column)}"
            for name, column in want.columns.items()
            if name not in have.columns
        ]
    if statements:
        run_statements(connection, statements)
        for name, column in want.columns.items():
            have.columns.setdefault(name, column)
        live.add_table(have)
    return have
