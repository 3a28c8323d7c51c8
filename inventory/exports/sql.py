"""The SQL that makes a cell: exact values as text, in the same form on every backend.

- timestamps: ISO 8601 UTC, ``2012-03-04T05:06:07Z`` (``.ffffff`` when the
  value has a fraction of a second): Nova's columns are naive UTC;
- booleans: ``true`` / ``false``;
- text: as stored, except that a value a spreadsheet would run as a formula
  (first character ``=``, ``+``, ``-``, ``@``, tab or carriage return) gets a
  leading ``'`` (OWASP's rule for CSV injection), unless the export is raw;
- NULL stays NULL (an empty CSV cell, ``null`` in JSON lines).

Each is a Django ``Func`` with one SQL form per backend, and a plain-SQL form
(``neutralised_sql``, ``string_list_sql``) for the joined columns of ``query``.
"""

from __future__ import annotations

from django.db.models import CharField, Func, TextField

#: The first characters that make a spreadsheet cell a formula (OWASP, CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: str | None) -> str | None:
    """What the export writes for a text value (the rule the SQL applies, for Python callers and tests)."""
    if value and value[0] in FORMULA_STARTS:
        return "'" + value
    return value


def neutralised_sql(vendor: str, sql: str) -> str:
    """SQL of ``sql`` (a text expression) with the formula rule applied.

    The first character is compared by its code (``ASCII``: the first byte on
    MariaDB, every formula character is one byte in UTF-8): a comparison of
    strings would go through the collation, and cost as much as the rest of
    the export.
    """
    codes = ", ".join(str(ord(c)) for c in FORMULA_STARTS)
    first = f"UNICODE({sql})" if vendor == "sqlite" else f"ASCII({sql})"
    prefixed = f"CONCAT('''', {sql})" if vendor == "mysql" else f"'''' || {sql}"
    return f"CASE WHEN {first} IN ({codes}) THEN {prefixed} ELSE {sql} END"


def string_list_sql(vendor: str, value: str, order: list[str]) -> str:
    """An aggregate joining ``value`` with spaces, in ``order`` (SQLite: the input's order)."""
    if vendor == "postgresql":
        return f"STRING_AGG({value}, ' ' ORDER BY {', '.join(order)})"
    if vendor == "mysql":  # group_concat_max_len is raised for the session (query.prepare_session)
        return f"GROUP_CONCAT({value} ORDER BY {', '.join(order)} SEPARATOR ' ')"
    return f"GROUP_CONCAT({value}, ' ')"


class Neutralised(Func):
    """A text expression with the formula rule applied (see module doc)."""

    output_field = TextField()

    def as_sql(self, compiler, connection, **extra):
        sql, params = compiler.compile(self.source_expressions[0])
        return neutralised_sql(connection.vendor, sql), tuple(params) * 3


class IsoTimestamp(Func):
    """A naive-UTC timestamp as ISO 8601 text: ``YYYY-MM-DDTHH:MM:SS[.ffffff]Z``."""

    output_field = CharField()

    def as_sql(self, compiler, connection, **extra):
        sql, params = compiler.compile(self.source_expressions[0])
        params = tuple(params)
        if connection.vendor == "postgresql":
            fraction = f"CASE WHEN DATE_TRUNC('second', {sql}) <> {sql} THEN TO_CHAR({sql}, '.US') END"
            text = f"TO_CHAR({sql}, 'YYYY-MM-DD\"T\"HH24:MI:SS') || COALESCE({fraction}, '') || 'Z'"
            return text, params * 4
        if connection.vendor == "mysql":
            fraction = f"IF(MICROSECOND({sql}) <> 0, DATE_FORMAT({sql}, %s), '')"
            text = f"CONCAT(DATE_FORMAT({sql}, %s), {fraction}, 'Z')"
            return text, (*params, "%Y-%m-%dT%H:%i:%s", *params, *params, ".%f")
        # SQLite holds Django's text form, 'YYYY-MM-DD HH:MM:SS[.ffffff]'.
        return f"REPLACE({sql}, ' ', 'T') || 'Z'", params


class BooleanText(Func):
    """A boolean as ``true`` / ``false`` (NULL stays NULL)."""

    output_field = CharField()

    def as_sql(self, compiler, connection, **extra):
        sql, params = compiler.compile(self.source_expressions[0])
        true = sql if connection.vendor == "postgresql" else f"{sql} <> 0"
        return f"CASE WHEN {true} THEN 'true' WHEN NOT ({true}) THEN 'false' END", tuple(params) * 2
