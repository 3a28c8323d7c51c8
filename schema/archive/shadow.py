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
    """Refuse a shadow table some row of ``table`` could not be copied into, before any row moves.

    Rows are copied with ``INSERT INTO shadow (the live columns) SELECT ...``
    and the originals then deleted. Each column of the shadow table must take
    what that statement gives it: the live column's every value (a narrower
    type, or on MySQL a character set without some of the live column's
    characters, would cut it, or fail the batch in a strict session), its NULLs (a
    NOT NULL the live column does not have), and for a column the live table
    lacks, nothing at all (NOT NULL needs a default). Columns the shadow
    lacks are added. What the catalog cannot judge (a CHECK, a UNIQUE, a
    trigger) the server refuses batch by batch: see :func:`refused_rows`.
    """
    for name, kept in shadow.columns.items():
        problem = _column_problem(table.columns.get(name), kept, table.name, dialect)
        if problem is not None:
            what, fix = problem
            raise ShadowMismatch(f"{shadow.name}.{name} {what}: {fix} or rename {shadow.name}, then archive again")


def _column_problem(live, kept, table: str, dialect) -> tuple[str, str] | None:
    """``(what is wrong, what to do)`` when shadow column ``kept`` cannot take its share of a copied row."""
    if live is None:
        if kept.nullable or kept.default is not None or kept.autoincrement:
            return None
        return (
            f"is NOT NULL without a default, and {table} has no such column to fill it",
            "make it nullable, give it a default,",
        )
    holds_type = kept.type == live.type or type_change(live.type, kept.type, dialect.vendor) == "widen"
    holds_characters = dialect.collation_holds(live.collation, kept.collation)
    if not (holds_type and holds_characters):
        return (
            f"is {_spelled(kept, not holds_characters)}, which cannot hold every value of {table}.{live.name} "
            f"({_spelled(live, not holds_characters)})",
            "widen that column",
        )
    if live.nullable and not kept.nullable:
        return f"is NOT NULL, but {table}.{live.name} may be NULL", "make that column nullable"
    return None


def _spelled(column, with_collation: bool) -> str:
    """A column's type as its backend spells it, with its collation where the character set is the problem."""
    spelled = column.ddl_type or column.type
    return f"{spelled} COLLATE {column.collation}" if with_collation else spelled


def not_tables(connection) -> set[str]:
    """Names a shadow table cannot take: the database's views (Django's introspection lists them)."""
    with connection.cursor() as cursor:
        return {t.name for t in connection.introspection.get_table_list(cursor) if t.type != "t"}


def refused_rows(table: str, error: Exception) -> ShadowMismatch:
    """The refusal of a batch the shadow table's own constraints refused (the server's reason)."""
    reason = str(error.args[-1] if error.args else error).strip()
    reason = reason.splitlines()[0] if reason else type(error).__name__
    shadow = shadow_name(table)
    return ShadowMismatch(
        f"{shadow} refused rows of {table} ({reason}): drop or loosen that constraint of {shadow}, "
        f"or rename {shadow}, then archive again"
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
