"""The dialect's quoting function, over generated names: every name a server can hold round-trips.

``Dialect.quote`` is the one way novaweb writes an identifier into SQL
(Django's ``quote_name`` neither doubles an embedded quote nor quotes a name
that already starts and ends with one). Generated names lean on what breaks
quoting: both quote characters, ``%`` (a placeholder when SQL has
parameters), backslashes, newlines, ``;``, ``--``, unicode. Each one is
created through novaweb's DDL, read back by novaweb's introspection and by
the server's own catalog (``tests.support.backends.catalog``), written and
read with parameters, and dropped.
"""

from __future__ import annotations

import re

import pytest
from django.db import connections
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from schema.ddl import DDLWriter, run_statements
from schema.dialects import DIALECTS
from schema.dialects.base import quote_identifier
from schema.introspect import introspect
from schema.names import html_id, printable
from schema.schema import Column, Index, Table
from tests.support.backends import REPO_ROOT, catalog

#: Characters that break naive quoting, mixed with any character a server may store.
TRICKY = list("\"`'\\%;-/ \n\t?#<>&$.*()[]{}") + ["--", "%s", "%%", '""', "``", "ß", "表", "İ", "\u202e"]
_ANY = st.characters(exclude_categories=("Cs",), exclude_characters="\x00")
names = st.lists(st.one_of(st.sampled_from(TRICKY), _ANY), min_size=1, max_size=12).map("".join)


def unquote(quoted: str, quote_char: str) -> str:
    assert quoted[0] == quoted[-1] == quote_char
    body = quoted[1:-1]
    # every quote character inside is doubled: none stands alone to end the identifier early
    assert body.replace(quote_char * 2, "").count(quote_char) == 0
    return body.replace(quote_char * 2, quote_char)


@given(name=names, quote_char=st.sampled_from(['"', "`"]))
def test_quote_identifier_escapes_every_embedded_quote(name, quote_char):
    assert unquote(quote_identifier(name, quote_char), quote_char) == name


@pytest.mark.parametrize("vendor", sorted(DIALECTS))
@given(name=names)
def test_each_dialect_quotes_with_its_own_character(vendor, name):
    dialect = DIALECTS[vendor](connection=None)
    quote_char = "`" if vendor == "mysql" else '"'
    assert unquote(dialect.quote(name), quote_char) == name
    assert dialect.quote_for_params(name) == dialect.quote(name).replace("%", "%%")


def test_a_name_that_looks_quoted_is_quoted_again():
    # Django's quote_name returns '"a"' unchanged: the name would lose its quotes
    assert DIALECTS["postgresql"](connection=None).quote('"a"') == '"""a"""'
    assert DIALECTS["mysql"](connection=None).quote("`a`") == "```a```"
    with pytest.raises(ValueError, match="NUL"):
        quote_identifier("a\x00b")


@given(name=names)
def test_printable_and_html_id(name):
    shown = printable(name)
    assert shown.isprintable() and "\n" not in shown
    assert (shown == name) == name.isprintable()
    ident = html_id(name)
    assert all(c.isascii() and (c.isalnum() or c in "_-") for c in ident)


@given(a=names, b=names)
def test_html_id_tells_names_apart(a, b):
    assert (html_id(a) == html_id(b)) == (a == b)


def test_no_module_quotes_a_name_with_djangos_quote_name():
    """The dialect's quote is the one quoting function: Django's would let a quote inside a name end it."""
    offenders = [
        f"{path.relative_to(REPO_ROOT)}:{n}"
        for app in ("schema", "inventory", "novaweb")
        for path in sorted((REPO_ROOT / app).rglob("*.py"))
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if re.search(r"\.ops\.quote_name\b|\bquote_name\(", line)
        and "``" not in line
        and not line.lstrip().startswith("#")
    ]
    assert offenders == [], "use dialect_for(connection).quote (or quote_for_params): " + ", ".join(offenders)


def _server_holds(backend: str, table: str, column: str, index: str) -> bool:
    """Whether the server accepts these names (its own rules, not novaweb's)."""
    every = (table, column, index)
    if backend == "sqlite":
        return not any(n.lower().startswith("sqlite_") for n in (table, index)) and index.lower() != table.lower()
    if backend == "postgresql":
        return all(len(n.encode()) <= 63 for n in every) and index != table
    # MariaDB: utf8mb3 identifiers (no character beyond U+FFFF), 64 characters, no trailing white space
    return (
        all(len(n) <= 64 and n[-1] not in " \t\n\r\v\f" and all(ord(c) <= 0xFFFF for c in n) for n in every)
        and index.upper() != "PRIMARY"
    )


@pytest.mark.parametrize("backend", ["sqlite", "mysql", "postgresql"])
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.filter_too_much],
)
@given(data=st.data())
def test_generated_names_round_trip_through_the_server(backend, make_db, nova_db_alias, data):
    db = make_db()
    connection = connections[nova_db_alias(db)]
    table, column, index = data.draw(
        st.tuples(names, names, names).filter(lambda t: _server_holds(backend, *t)), label="table, column, index"
    )
    _round_trip(db, connection, table, column, index)


def _round_trip(db, connection, table: str, column: str, index: str) -> None:
    """Create, read back (novaweb and the server's catalog), write and read with parameters, drop."""
    writer = DDLWriter(connection)
    want = Table(table, {column: Column(column, "int", ddl_type="INTEGER")}, indexes={index: Index(index, (column,))})
    try:
        run_statements(connection, writer.create_table(want))
        live = introspect(connection, tables=[table])
        assert list(live.tables) == [table]
        assert list(live[table].columns) == [column]
        assert live[table].indexes[index].columns == (column,)
        entry = catalog(db)[table]  # the server's own catalog agrees
        assert [c[0] for c in entry["columns"]] == [column]
        assert index in entry["indexes"]

        qp = writer.dialect.quote_for_params  # with parameters, "%" in a name is not a placeholder
        with connection.cursor() as cursor:
            cursor.execute(f"INSERT INTO {qp(table)} ({qp(column)}) VALUES (%s)", [5])
            cursor.execute(f"SELECT {qp(column)} FROM {qp(table)} WHERE {qp(column)} = %s", [5])
            assert [tuple(row) for row in cursor.fetchall()] == [(5,)]
    finally:
        run_statements(connection, [f"DROP TABLE IF EXISTS {writer.quote(table)}"])
    assert table not in catalog(db)


#: The longest names each server keeps whole: PostgreSQL 63 bytes, MariaDB 64 characters.
LONGEST = {
    "sqlite": ('t"' * 500, "c`" * 500, "i'" * 500),
    "postgresql": ("表" * 21, 'c"' * 31 + "c", "i%" * 31 + "i"),
    # a MariaDB table is a file named with @XXXX for each non-ASCII-alphanumeric: 64 of them overflow it
    "mysql": (('`"%/ 表' + "t" * 64)[:64], "表`" * 32, "i%" * 32),
}


@pytest.mark.parametrize("backend", ["sqlite", "mysql", "postgresql"])
def test_the_longest_names_round_trip(backend, make_db, nova_db_alias):
    db = make_db()
    table, column, index = LONGEST[backend]
    _round_trip(db, connections[nova_db_alias(db)], table, column, index)


#: Names against PostgreSQL's string literals and dollar quoting (a DO block's body is between $tag$s).
PG_TABLE, PG_COLUMN, PG_INDEX = "t'$$\\x", "c'\\n\"", "i$novaweb$'\\$$"


def test_postgresql_literals_and_dollar_quotes_hold_any_name(db_factory, nova_db_alias):
    db = db_factory("postgresql")
    connection = connections[nova_db_alias(db)]
    writer = DDLWriter(connection)
    dialect, q = writer.dialect, writer.quote
    before = Column(PG_COLUMN, "int", nullable=False, ddl_type="integer")
    run_statements(connection, writer.create_table(Table(PG_TABLE, {PG_COLUMN: before})))

    # a serial column: CREATE SEQUENCE, nextval('<quoted name>'), setval(...)
    after = Column(PG_COLUMN, "int", nullable=False, autoincrement=True, ddl_type="integer")
    run_statements(connection, dialect.alter_column_statements(q, PG_TABLE, before, after))
    live = introspect(connection, tables=[PG_TABLE])[PG_TABLE]
    assert live.columns[PG_COLUMN].autoincrement
    assert live.sequences[PG_COLUMN] == dialect.sequence_name(PG_TABLE, PG_COLUMN)

    # an online index: a DO $tag$ block naming the index in a literal, then CREATE INDEX CONCURRENTLY
    connection.ensure_connection()
    with connection.cursor() as cursor:
        for statement in dialect.create_index_online(q, PG_TABLE, Index(PG_INDEX, (PG_COLUMN,))):
            cursor.execute(statement.sql)
    live = introspect(connection, tables=[PG_TABLE])[PG_TABLE]
    assert live.indexes[PG_INDEX].columns == (PG_COLUMN,)
    assert sorted(catalog(db)) == [PG_TABLE]
