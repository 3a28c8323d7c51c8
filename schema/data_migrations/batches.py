"""Fix NULLs a batch at a time: the building block of the data migrations here.

A batch is found in primary-key order (``WHERE col IS NULL ORDER BY pk LIMIT n``)
and updated by key, so it touches at most ``n`` rows on every backend
(PostgreSQL and SQLite have no ``UPDATE ... LIMIT``). Keys are compared as
row values, which covers the composite keys of the ``user_*_association``
tables too.

Without an index on the column, finding "the first n NULL rows" rescans the
rows already fixed, so a million-row table would cost a million-row scan
per batch. Instead a run remembers, per database and table, the key below
which every row is known to be fixed (ours committed, or seen non-NULL), and
the next batch starts after it; a table whose batch came back short has been
read to its end and is not looked at again. Marks only advance when the
batch's transaction commits. :func:`forget_marks` (called when a run of
``db_online_data_migrations`` starts) goes back to the first row, so a NULL
written behind a mark by something else is found by the next run.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import models, transaction

from ..dialects import dialect_for
from ..introspect import live_table_names

#: (alias, database name, table, column) -> last key known to be fixed
_marks: dict[tuple, tuple] = {}
#: (alias, database name, table, column) of the tables read to their end and found fixed
_clean: set[tuple] = set()
#: (alias, database name) -> {table that exists: its columns (None until looked up)}, once per run
_tables: dict[tuple, dict] = {}


@dataclass(frozen=True)
class NullColumn:
    """``column`` of ``table`` (primary key ``key``) should not be NULL."""

    table: str
    column: str
    key: tuple[str, ...]

    @classmethod
    def of(cls, model, column: str) -> NullColumn:
        pk = model._meta.pk
        fields = pk.fields if isinstance(pk, models.CompositePrimaryKey) else (pk,)
        return cls(model._meta.db_table, column, tuple(f.column for f in fields))


def forget_marks() -> None:
    """Start every table from its first row again (the state of a new process)."""
    _marks.clear()
    _clean.clear()
    _tables.clear()


def _database(connection) -> tuple:
    return (connection.alias, connection.settings_dict.get("NAME"))


def _mark_key(connection, target: NullColumn) -> tuple:
    return (*_database(connection), target.table, target.column)


def _existing_tables(connection) -> dict:
    """The database's tables, remembered until :func:`forget_marks` (a run does not create tables)."""
    key = _database(connection)
    if key not in _tables:
        _tables[key] = dict.fromkeys(live_table_names(connection))
    return _tables[key]


def _fillable(connection, target: NullColumn, tables: dict) -> bool:
    """Whether ``target``'s table is there with its column and key: a table without the column (dropped
    by hand) has nothing to fill, and must not stop the other tables' rows."""
    if target.table not in tables:
        return False
    if tables[target.table] is None:
        tables[target.table] = table_columns(connection, target.table)
    return {target.column, *target.key} <= tables[target.table]


def table_columns(connection, table: str) -> frozenset:
    """The column names ``table`` has now."""
    with connection.cursor() as cursor:
        return frozenset(c.name for c in connection.introspection.get_table_description(cursor, table))


def _row(names: Sequence[str]) -> str:
    return names[0] if len(names) == 1 else f"({', '.join(names)})"


def _placeholders(width: int) -> str:
    return "%s" if width == 1 else f"({', '.join(['%s'] * width)})"


def _null_condition(connection, target: NullColumn) -> str:
    return f"{_quote(connection)(target.column)} IS NULL"


def _quote(connection):
    """Every statement here runs with parameters (perhaps none): names are quoted for that."""
    return dialect_for(connection).quote_for_params


def count_nulls(connection, target: NullColumn) -> int:
    quote = _quote(connection)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {quote(target.table)} WHERE {_null_condition(connection, target)}", [])
        return cursor.fetchone()[0]


def find_nulls(connection, target: NullColumn, limit: int) -> list[tuple]:
    """Keys of up to ``limit`` rows where the column is NULL, after this process's mark."""
    quote = _quote(connection)
    key = _row([quote(c) for c in target.key])
    where = [_null_condition(connection, target)]
    params: list[Any] = []
    after = _marks.get(_mark_key(connection, target))
    if after is not None:
        where.append(f"{key} > {_placeholders(len(after))}")
        params.extend(after)
    sql = (
        f"SELECT {', '.join(quote(c) for c in target.key)} FROM {quote(target.table)} "
        f"WHERE {' AND '.join(where)} ORDER BY {', '.join(quote(c) for c in target.key)} "
        f"LIMIT {int(limit)}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [tuple(row) for row in cursor.fetchall()]


def _remember(connection, target: NullColumn, keys: list[tuple], limit: int) -> None:
    """Once committed: the rows up to the batch's last key are fixed; a short batch means all of them are."""
    key = _mark_key(connection, target)

    def advance():
        if keys:
            _marks[key] = keys[-1]
        if len(keys) < limit:
            _clean.add(key)

    transaction.on_commit(advance, using=connection.alias)


def fill_nulls(connection, target: NullColumn, value: Any | Callable[[], Any], limit: int) -> tuple[int, int]:
    """Set ``value`` (or ``value()`` per row) where the column is NULL, on at most ``limit`` rows.

    Returns ``(found, done)``. Only rows still NULL are updated, so running it
    twice, or from two processes, never overwrites a value.
    """
    if limit < 1 or _mark_key(connection, target) in _clean:
        return 0, 0
    keys = find_nulls(connection, target, limit)
    if not keys:
        _remember(connection, target, keys, limit)
        return 0, 0
    quote = _quote(connection)
    table, column = quote(target.table), quote(target.column)
    condition = _null_condition(connection, target)
    key = _row([quote(c) for c in target.key])
    with connection.cursor() as cursor:
        if callable(value):
            done = 0
            sql = f"UPDATE {table} SET {column} = %s WHERE {condition} AND {key} = {_placeholders(len(target.key))}"
            for row in keys:
                cursor.execute(sql, [value(), *row])
                done += cursor.rowcount
        else:
            each = _placeholders(len(target.key))
            cursor.execute(
                f"UPDATE {table} SET {column} = %s WHERE {condition} AND {key} IN ({', '.join([each] * len(keys))})",
                [value, *(v for row in keys for v in row)],
            )
            done = cursor.rowcount
    _remember(connection, target, keys, limit)
    return len(keys), done


def fill_nulls_across(
    connection, targets: Sequence[NullColumn], value: Any | Callable[[], Any], limit: int
) -> tuple[int, int]:
    """:func:`fill_nulls` over several tables, sharing one budget of ``limit`` rows."""
    found = done = 0
    existing = _existing_tables(connection)
    for target in targets:
        if found >= limit:
            break
        if not _fillable(connection, target, existing):
            continue
        f, d = fill_nulls(connection, target, value, limit - found)
        found += f
        done += d
    return found, done


def count_nulls_across(connection, targets: Sequence[NullColumn]) -> int:
    existing = dict.fromkeys(live_table_names(connection))
    return sum(count_nulls(connection, t) for t in targets if _fillable(connection, t, existing))
