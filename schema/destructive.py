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
from typing import TYPE_CHECKING

from .backup import copy_to_backup
from .dialects import dialect_for

if TYPE_CHECKING:
    from .operations import Operation


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

    ``live``: the live schema the operations were planned from. Each operation
    says what it would destroy (``Operation.loss``); this counts it.
    """
    data = LiveData(connection, live)
    losses = []
    for op in operations:
        loss = op.loss(data)
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
        what = loss.operation.backup_what()
        name, count = copy_to_backup(connection, table, what=what, columns=columns, where=where)
        made.append((name, count, loss))
    return made


class LiveData:
    """The live rows an operation's ``loss`` counts: ``count(table, where)`` on the connection."""

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
