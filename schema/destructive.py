"""What a contract operation would destroy, counted on the live data, and its backup.

- dropping a table destroys its rows; dropping a column its non-null values;
  changing a column to another kind of type (``int`` to ``varchar``...)
  rewrites every non-null value: refused unless ``--allow-destructive``, and
  then copied first into a backup table (:mod:`schema.backup`);
- tightening to NOT NULL with NULLs present, or any type change with a live
  value the new type would cut, clamp, round or fail to parse
  (:mod:`schema.type_rules`: length, bytes, range, sign, precision), is
  refused even with the flag: no backup makes a NULL or a cut value fit.
"""

from __future__ import annotations

from dataclasses import dataclass

from .backup import copy_to_backup
from .dialects import dialect_for
from .phases import Operation
from .type_rules import lost_values_condition


@dataclass
class Loss:
    operation: Operation
    count: int
    #: "rows", "non-null values", "NULLs", "values that do not fit"
    unit: str
    #: refused even with --allow-destructive
    blocking: bool
    #: what the backup copies: (table, columns or None for all, WHERE)
    backup: tuple | None = None

    def describe(self) -> str:
        return f"{self.operation.description}: {self.count} {self.unit}"

    def as_dict(self) -> dict:
        return {**self.operation.as_dict(), "count": self.count, "unit": self.unit, "blocking": self.blocking}


def assess(connection, operations, live) -> list[Loss]:
    """Every operation among ``operations`` that would destroy or cannot keep data, with its count.

    ``live``: the live schema the operations were planned from.
    """
    counter = _Counter(connection, live)
    losses = []
    for op in operations:
        loss = counter.loss(op)
        if loss is not None and loss.count:
            losses.append(loss)
    return losses


def back_up(connection, losses: list[Loss]) -> list[tuple[str, int, Loss]]:
    """Copy what each non-blocking loss would destroy; ``[(backup table, rows, loss)]``."""
    made = []
    for loss in losses:
        if loss.blocking or loss.backup is None:
            continue
        table, columns, where = loss.backup
        op = loss.operation
        what = op.table if op.kind == "drop_table" else f"{op.table}_{op.object}"
        name, count = copy_to_backup(connection, table, what=what, columns=columns, where=where)
        made.append((name, count, loss))
    return made


class _Counter:
    def __init__(self, connection, live):
        self.connection = connection
        self.live = live
        self.dialect = dialect_for(connection)
        self.quote = self.dialect.quote

    def count(self, table: str, where: str = "") -> int:
        condition = f" WHERE {where}" if where else ""
        with self.connection.cursor() as cursor:
            cursor.execute(f"SELECT COUNT(*) FROM {self.quote(table)}{condition}")
            return cursor.fetchone()[0]

    def loss(self, op: Operation) -> Loss | None:
        q = self.quote
        if op.kind == "drop_table":
            return Loss(op, self.count(op.table), "rows", False, (op.table, None, ""))
        if op.kind not in ("drop_column", "alter_column"):
            return None
        live_table = self.live.tables.get(op.table)
        if live_table is None or op.object not in live_table.columns:
            # added by this plan: nullable first, so every existing row holds a NULL when it is tightened
            rows = self.count(op.table) if live_table is not None and op.change == "tighten" else 0
            return Loss(op, rows, "NULLs (a NOT NULL column without a default)", True)
        column = q(op.object)
        keep = _key_columns(op, self.live.tables.get(op.table))
        if op.kind == "drop_column":
            where = f"{column} IS NOT NULL"
            return Loss(op, self.count(op.table, where), "non-null values", False, (op.table, keep, where))
        if op.change == "tighten":
            return Loss(op, self.count(op.table, f"{column} IS NULL"), "NULLs", True)
        if op.change in ("widen", "narrow", "change"):
            return self._type_change_loss(op, column, keep)
        return None

    def _type_change_loss(self, op: Operation, column: str, keep) -> Loss | None:
        """A value the new type would cut, clamp, round or not parse: refused whatever the flag.

        A change across type families that keeps every value still rewrites each
        one (``5`` becomes ``'5'``): it needs the flag, and the values are backed up.
        """
        condition = lost_values_condition(self.dialect, column, op.have.type, op.want.type)
        if condition is None:
            return None
        lost = self.count(op.table, f"{column} IS NOT NULL AND {condition}")
        if lost:
            return Loss(op, lost, "values that do not fit", True)
        if op.change == "change":
            where = f"{column} IS NOT NULL"
            return Loss(op, self.count(op.table, where), "non-null values", False, (op.table, keep, where))
        return None


def _key_columns(op: Operation, table):
    """The primary key and the column: enough to put the values back (all columns without a key)."""
    key = [c for c in table.primary_key if c != op.object] if table is not None else []
    return [*key, op.object] if key else None
