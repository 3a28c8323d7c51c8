"""The ``shadow_<table>`` tables archived rows move to.

A shadow table has the columns of its live table, with the same SQL types
as the live database reports them (so ``INSERT INTO shadow_t (...) SELECT
... FROM t`` keeps every value), every one nullable, without defaults,
auto-increment, indexes or foreign keys, plus a key of its own:
``shadow_id``, an auto-increment primary key. Every table needs a primary
key on Galera (row-based replication finds a row by it; without one each
replicated DELETE of ``db_purge`` scans the table on every node), and the
live table's own id cannot be it: a live id can be handed out again after
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

from dataclasses import replace

from ..ddl import DDLWriter, run_statements
from ..schema import Column, Schema, Table

SHADOW_PREFIX = "shadow_"
#: The shadow table's own primary key.
SHADOW_KEY = "shadow_id"


def shadow_name(table: str) -> str:
    return SHADOW_PREFIX + table


def shadow_table(table: Table, dialect) -> Table:
    """The shadow of a live table: its own key, then the table's columns, loosened."""
    key_type = dialect.MODEL_TYPES["IntegerField"]
    columns = {SHADOW_KEY: Column(SHADOW_KEY, "int", nullable=False, autoincrement=True, ddl_type=key_type)}
    for name, column in table.columns.items():
        columns[name] = replace(column, nullable=True, default=None, autoincrement=False)
    return Table(shadow_name(table.name), columns, primary_key=(SHADOW_KEY,))


def ensure_shadow_table(connection, table: Table, live: Schema) -> Table:
    """Create the shadow of ``table`` (or add the columns it lacks); record it in ``live``."""
    writer = DDLWriter(connection)
    want = shadow_table(table, writer.dialect)
    have = live.tables.get(want.name)
    if have is None:
        statements = writer.create_table(want)
        have = Table(want.name)
    else:
        quote = connection.ops.quote_name
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
