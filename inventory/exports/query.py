"""One SQL query for an export: the list's rows (filters, search, order) with every column as a cell.

The list's queryset (``ChangeList.queryset``: the same filters, search and
order as the page) selects each column under an alias (``c0``, ``c1``...), the
primary key and the sort keys; the outer query adds the
:class:`~inventory.exports.columns.JoinedList` columns (see :func:`joined_column`)
and sorts.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import EmptyResultSet
from django.db.models import F, OrderBy
from django.db.models.sql.where import WhereNode

from schema.dialects import dialect_for

from .columns import BOOLEAN, TEXT, TIMESTAMP, Column, JoinedList
from .sql import FORMULA_STARTS, BooleanText, IsoTimestamp, Neutralised, neutralised_sql, string_list_sql

#: A 'true' / 'false' cell (``BooleanText``) as a JSON boolean, per backend.
JSON_BOOLEAN = {
    "postgresql": "CAST({} AS BOOLEAN)",
    "mysql": "CASE {} WHEN 'true' THEN JSON_EXTRACT('true', '$') WHEN 'false' THEN JSON_EXTRACT('false', '$') END",
    "sqlite": "CASE {} WHEN 'true' THEN JSON('true') WHEN 'false' THEN JSON('false') END",
}
#: PostgreSQL settings of an export's transaction (see prepare_session).
POSTGRESQL_SETTINGS = ("work_mem = '64MB'", "jit = off", "max_parallel_workers_per_gather = 0")
#: The formula rule as a regular expression: the empty string before a formula's first character.
FORMULA_RE = "^(?=[" + "".join(FORMULA_STARTS).replace("-", "\\-") + "])"


@dataclass
class ExportQuery:
    """``SELECT <cells> <tail>``: one cell per column (SQL and its parameters), then FROM ... ORDER BY."""

    columns: list[Column]
    cells: list[tuple[str, tuple]]
    tail: str
    tail_params: tuple

    def select(self, cells: list[str]) -> tuple[str, tuple]:
        params = [p for _, cell_params in self.cells for p in cell_params]
        return f"SELECT {', '.join(cells)} {self.tail}", (*params, *self.tail_params)

    @property
    def sql(self) -> str:
        return self.select([sql for sql, _ in self.cells])[0]

    @property
    def params(self) -> tuple:
        return self.select([sql for sql, _ in self.cells])[1]

    def csv_lines(self) -> tuple[str, tuple]:
        """MariaDB/MySQL: the rows as CSV lines built by the server (bytes, no line end).

        A text cell is always quoted (``"`` doubled inside), NULL is an empty
        cell, so an empty string (``""``) and NULL differ as in COPY's CSV.
        """
        cells = []
        for column, (sql, _) in zip(self.columns, self.cells, strict=True):
            if column.kind == TEXT or isinstance(column.expression, JoinedList):
                sql = f"CONCAT('\"', REPLACE({sql}, '\"', '\"\"'), '\"')"
            cells.append(f"IFNULL({sql}, '')")
        return self.select([f"CAST(CONCAT_WS(',', {', '.join(cells)}) AS BINARY)"])

    def json_lines(self, vendor: str) -> tuple[str, tuple]:
        """The rows as JSON objects built by the server (text), keyed by the headers in column order.

        NULL is null, numbers are numbers, booleans ``true`` / ``false``.
        """
        build = "JSON_BUILD_OBJECT" if vendor == "postgresql" else "JSON_OBJECT"
        pairs, params = [], []
        for column, (sql, cell_params) in zip(self.columns, self.cells, strict=True):
            if column.kind == BOOLEAN:
                sql = JSON_BOOLEAN[vendor].format(sql)
            pairs.append(f"%s, {sql}")
            params.extend((column.header, *cell_params))
        text = (
            f"CAST({build}({', '.join(pairs)}) AS TEXT)" if vendor == "postgresql" else f"{build}({', '.join(pairs)})"
        )
        return f"SELECT {text} {self.tail}", (*params, *self.tail_params)


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


def joined_rows_sql(joined: JoinedList, connection) -> tuple[str, tuple]:
    """``SELECT k, v, o0...`` over ``joined.rows`` (SQLite: in (k, o...) order, which GROUP_CONCAT keeps)."""
    order = {f"o{i}": F(name) for i, name in enumerate(joined.order)}
    rows = joined.rows.values(k=F(joined.key), v=F(joined.value), **order).order_by()
    if connection.vendor == "sqlite":  # no ORDER BY inside GROUP_CONCAT before SQLite 3.44
        rows = rows.order_by("k", *order)
    sql, params = rows.query.get_compiler(connection=connection).as_sql()
    return sql, tuple(params), [f"s.{o}" for o in order]


def joined_column(joined: JoinedList, connection, quote, alias: str, raw: bool) -> tuple[str, tuple, str, tuple]:
    """(select-list SQL, its params, join SQL, its params) of a joined list, the formula rule applied unless raw.

    MariaDB/MySQL: a subquery per row, served by the index Nova's MySQL schema
    has on the key (``fixed_ips.instance_id``, ``floating_ips.fixed_ip_id``):
    a grouped derived table would hold the TEXT that GROUP_CONCAT returns and
    be written to disk. The formula rule is a REGEXP_REPLACE there: one
    reference to the subquery (a CASE would run it three times).
    PostgreSQL and SQLite (no such index): one grouped subquery, hash-joined on the key.
    """
    rows, params, order = joined_rows_sql(joined, connection)
    order = [f"s.{quote(o.removeprefix('s.'))}" for o in order]
    aggregate = string_list_sql(connection.vendor, f"s.{quote('v')}", order)
    key, value = quote("k"), quote("v")
    if connection.vendor == "mysql":
        subquery = f"(SELECT {aggregate} FROM ({rows}) s WHERE s.{key} = b.{quote('_pk')})"
        if raw:
            return subquery, params, "", ()
        return f"REGEXP_REPLACE({subquery}, %s, %s)", (*params, FORMULA_RE, "'"), "", ()
    grouped = f"SELECT s.{key} AS {key}, {aggregate} AS {value} FROM ({rows}) s GROUP BY s.{key}"
    join = f"LEFT JOIN ({grouped}) {alias} ON {alias}.{key} = b.{quote('_pk')}"
    cell = f"{alias}.{value}"
    return (cell if raw else neutralised_sql(connection.vendor, cell)), (), join, params


def compiled(queryset, connection) -> tuple[str, tuple]:
    """``queryset``'s SQL and parameters; when its filters can match no row, SQL that selects none.

    Django does not compile such a filter (an IP search that found no address
    is ``pk__in=[]``): it raises ``EmptyResultSet`` and runs no query. The
    export still needs a query with the list's columns, to write its header.
    """
    try:
        return queryset.query.get_compiler(connection=connection).as_sql()
    except EmptyResultSet:
        query = queryset.query.clone()
        query.where = WhereNode()
        query.add_extra(None, None, ["1 = 0"], None, None, None)
        return query.get_compiler(connection=connection).as_sql()


def export_query(queryset, columns: list[Column], connection, *, raw: bool = False) -> ExportQuery:
    """The query whose rows are the export's rows, cells formatted (see ``sql``)."""
    quote = dialect_for(connection).quote_for_params
    selected, cells, joins, join_params = {}, [], [], []
    for i, column in enumerate(columns):
        if isinstance(column.expression, JoinedList):
            value, params, join, params_of_join = joined_column(column.expression, connection, quote, f"j{i}", raw)
            cells.append((value, params))
            joins.append(join)
            join_params.extend(params_of_join)
        else:
            selected[f"c{i}"] = cell(column, raw)
            cells.append((f"b.{quote(f'c{i}')}", ()))
    keys = order_keys(queryset.query)
    selected.update({f"_o{i}": expression for i, (expression, _) in enumerate(keys)})
    selected["_pk"] = F("pk")
    base = queryset.prefetch_related(None).values(**selected).order_by()
    inner, inner_params = compiled(base, connection)
    order_by = ", ".join(f"b.{quote(f'_o{i}')}{' DESC' if desc else ''}" for i, (_, desc) in enumerate(keys))
    tail = f"FROM ({inner}) b {' '.join(joins)}" + (f" ORDER BY {order_by}" if keys else "")
    return ExportQuery(columns, cells, tail, (*inner_params, *join_params))


def prepare_session(connection) -> None:
    """Settings an export's query needs, for the current transaction (or session).

    - MariaDB/MySQL: GROUP_CONCAT stops at ``group_concat_max_len`` (1,024 bytes
      on MySQL); raised to the largest value a row can carry anyway.
    - PostgreSQL: one big sort and hash aggregates in memory (``work_mem``), no
      JIT compilation (a third of a second for every export) and no parallel
      workers (each would compute the IP lists again).
    """
    with connection.cursor() as cursor:
        if connection.vendor == "mysql":
            cursor.execute("SET SESSION group_concat_max_len = @@max_allowed_packet")
        elif connection.vendor == "postgresql":
            for setting in POSTGRESQL_SETTINGS:
                cursor.execute(f"SET LOCAL {setting}")
