"""One SQL query for an export: the list's rows (filters, search, order) with every column as a cell.

The list's queryset (``ChangeList.queryset``: the same filters, search and
order as the page) selects each column under an alias (``c0``, ``c1``...), the
primary key and the sort keys; the outer query joins the grouped
:class:`~inventory.exports.columns.JoinedList` subqueries on the primary key
(hash joins: Nova's PostgreSQL schema has no index on ``fixed_ips.instance_id``,
so a subquery per row would scan the table a million times) and sorts.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import F, OrderBy

from schema.dialects import dialect_for

from .columns import BOOLEAN, TEXT, TIMESTAMP, Column, JoinedList
from .sql import BooleanText, IsoTimestamp, Neutralised, neutralised_sql, string_list_sql


@dataclass
class ExportQuery:
    columns: list[Column]
    sql: str
    params: tuple


def cell(column: Column, raw: bool):
    """``column``'s expression formatted as the export writes it (see ``sql``)."""
    expression = column.expression
    if column.kind == TIMESTAMP:
        return IsoTimestamp(expression)
    if column.kind == BOOLEAN:
        return BooleanText(expression)
    if column.kind == TEXT and not raw and not column.trusted:
        return Neutralised(expression)
    return expression


def order_keys(query) -> list[tuple[object, bool]]:
    """The queryset's ORDER BY as (expression, descending) pairs."""
    keys = []
    for item in query.order_by:
        if isinstance(item, str):
            if item == "?":
                continue
            keys.append((F(item.lstrip("-")), item.startswith("-")))
        elif isinstance(item, OrderBy):
            keys.append((item.expression, item.descending))
        else:
            keys.append((item, False))
    return keys


def joined_sql(joined: JoinedList, connection, quote) -> tuple[str, tuple]:
    """``SELECT k, <values joined> AS v ... GROUP BY k`` over ``joined.rows``."""
    order = {f"o{i}": F(name) for i, name in enumerate(joined.order)}
    rows = joined.rows.values(k=F(joined.key), v=F(joined.value), **order).order_by()
    if connection.vendor == "sqlite":  # GROUP_CONCAT keeps the input's order (no ORDER BY inside before 3.44)
        rows = rows.order_by("k", *order)
    inner, params = rows.query.get_compiler(connection=connection).as_sql()
    aggregate = string_list_sql(connection.vendor, f"s.{quote('v')}", [f"s.{quote(o)}" for o in order])
    sql = f"SELECT s.{quote('k')} AS {quote('k')}, {aggregate} AS {quote('v')} FROM ({inner}) s GROUP BY s.{quote('k')}"
    return sql, tuple(params)


def export_query(queryset, columns: list[Column], connection, *, raw: bool = False) -> ExportQuery:
    """The query whose rows are the export's rows, cells formatted (see ``sql``)."""
    quote = dialect_for(connection).quote_for_params
    selected, joins, params = {}, [], []
    outer = []
    for i, column in enumerate(columns):
        if isinstance(column.expression, JoinedList):
            alias = f"j{len(joins)}"
            sql, join_params = joined_sql(column.expression, connection, quote)
            joins.append(f"LEFT JOIN ({sql}) {alias} ON {alias}.{quote('k')} = b.{quote('_pk')}")
            params.extend(join_params)
            value = f"{alias}.{quote('v')}"
            outer.append(value if raw else neutralised_sql(connection.vendor, value))
        else:
            selected[f"c{i}"] = cell(column, raw)
            outer.append(f"b.{quote(f'c{i}')}")
    keys = order_keys(queryset.query)
    selected.update({f"_o{i}": expression for i, (expression, _) in enumerate(keys)})
    if joins:
        selected["_pk"] = F("pk")
    base = queryset.prefetch_related(None).values(**selected).order_by()
    inner, inner_params = base.query.get_compiler(connection=connection).as_sql()
    order_by = ", ".join(f"b.{quote(f'_o{i}')}{' DESC' if desc else ''}" for i, (_, desc) in enumerate(keys))
    sql = f"SELECT {', '.join(outer)} FROM ({inner}) b {' '.join(joins)}" + (f" ORDER BY {order_by}" if keys else "")
    return ExportQuery(columns, sql, (*inner_params, *params))


def prepare_session(connection) -> None:
    """Session settings an export needs.

    MariaDB/MySQL: GROUP_CONCAT stops at ``group_concat_max_len`` (1,024 bytes on
    MySQL); raised to the largest value a row can carry anyway.
    """
    if connection.vendor == "mysql":
        with connection.cursor() as cursor:
            cursor.execute("SET SESSION group_concat_max_len = @@max_allowed_packet")
