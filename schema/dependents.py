"""What else in the database reads a table or column that a plan drops or retypes.

Views, materialized views and rules that read it, and the foreign keys of
tables the plan keeps. The servers differ: PostgreSQL refuses to drop what
a view or a foreign key needs, and to change the type of a column a view
reads ("other objects depend on it"); MySQL and SQLite drop the table or
column and leave the view broken. novaweb refuses the same way on every
backend, before any change (exit 1, even with ``--allow-destructive``),
naming each reader: another application's view is not novaweb's to drop,
and a sync must not fail half-way on what it could have seen first.
"""

from __future__ import annotations

from dataclasses import dataclass

from .dialects import dialect_for


@dataclass(frozen=True)
class Dependent:
    """``reader`` (``"view v_hosts"``) reads, or references, what ``operation`` drops or retypes."""

    operation: object
    reader: str
    verb: str = "reads"

    def describe(self) -> str:
        return f"{self.operation.describe()}: {self.reader} {self.verb} it"

    def as_dict(self) -> dict:
        return {**self.operation.as_dict(), "reader": self.reader}


def find(connection, operations, live, restoring=None) -> list[Dependent]:
    """Every reader outside ``operations`` of what one of them drops or retypes, in plan order.

    ``restoring``: the schema an undo puts back; its own foreign keys are no readers (a table
    the operator had dropped with the checks off is dropped again, its references dangling again).
    """
    dialect = dialect_for(connection)
    operations = list(operations)
    dropped_tables = {op.table for op in operations if op.kind == "drop_table"}
    dropped_keys = {(op.table, op.have) for op in operations if op.kind == "drop_foreign_key"}
    found, reads = [], None
    with connection.cursor() as cursor:
        for op in operations:
            target = op.undermines()
            if target is None:
                continue
            table, column, dropped = target
            if not dropped and not dialect.RETYPE_REFUSED_UNDER_VIEWS:
                continue
            if reads is None:  # the catalog read once, and only for a plan that drops or retypes
                reads = dialect.view_reads(cursor)
            found += [Dependent(op, view) for view in reads.readers(table, column)]
            if dropped:
                keys = _foreign_keys_to(live, table, column, dropped_tables, dropped_keys, restoring)
                found += [Dependent(op, key, "references") for key in keys]
    return found


def _foreign_keys_to(live, table, column, dropped_tables, dropped_keys, restoring) -> list[str]:
    """The foreign keys of tables that stay which reference ``table`` (its ``column``)."""
    readers = []
    for name, other in live.tables.items():
        if name in dropped_tables:
            continue
        restored = restoring.tables.get(name) if restoring is not None else None
        for fk in other.foreign_keys:
            if fk.ref_table != table or (name, fk) in dropped_keys or (name == table and column is None):
                continue
            if restored is not None and fk in restored.foreign_keys:
                continue
            if column is None or column in fk.ref_columns:
                readers.append(f"the foreign key {name} ({', '.join(fk.columns)})")
    return readers
