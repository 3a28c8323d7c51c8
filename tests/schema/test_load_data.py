"""MySQL/MariaDB's bulk path (LOAD DATA LOCAL INFILE from a file novaweb writes) stores what it is given.

Checked against the real server: every row loaded from the file equals the
row the generic path (multi-row INSERT through MySQLdb's escaping) stores for
the same values, and equals the values themselves; a value the server would
refuse in an INSERT is refused, never cut.
"""

from __future__ import annotations

import contextlib
import datetime
import struct

import pytest
from django.db import connections, transaction
from django.db.utils import DataError, OperationalError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from schema.dialects import dialect_for

pytestmark = pytest.mark.parametrize("backend", ["mysql"])

COLUMNS = ("id", "txt", "name", "f32", "f64", "at", "day", "flag", "n", "big")
TABLE_SQL = """CREATE TABLE {} (
    id int NOT NULL PRIMARY KEY, txt text, name varchar(40), f32 float, f64 double, at datetime, day date,
    flag tinyint(1), n int, big bigint
) ENGINE=InnoDB DEFAULT CHARSET=utf8"""

# utf8 (utf8mb3) columns hold the Basic Multilingual Plane, surrogates aside; every C0 control included.
bmp_text = st.text(st.characters(max_codepoint=0xFFFF, exclude_categories=("Cs",)), max_size=40)
tricky = st.sampled_from(
    ["", "NULL", "\\N", "\\", '"', '""', ",", "\n", "\r\n", "\t", "\x00", 'a","b', '"\n"', "\\\\\\", "'", " x "]
)
text = tricky | bmp_text | st.lists(tricky, max_size=6).map("".join)
datetimes = st.datetimes(datetime.datetime(1000, 1, 1), datetime.datetime(9999, 12, 31, 23, 59, 59))
row_values = st.tuples(
    st.none() | text,
    st.none() | text,
    st.none() | st.floats(width=32, allow_nan=False, allow_infinity=False),
    st.none() | st.floats(allow_nan=False, allow_infinity=False),
    st.none() | datetimes | datetimes.map(lambda d: f"{d:%Y-%m-%d %H:%M:%S}"),
    st.none() | st.dates(datetime.date(1000, 1, 1)),
    st.none() | st.booleans(),
    st.none() | st.integers(-(2**31), 2**31 - 1),
    st.none() | st.integers(-(2**63), 2**63 - 1),
)


@pytest.fixture
def scratch(make_db, nova_db_alias):
    """An empty MariaDB database with two tables of every kind of column Nova uses, as a Django alias."""
    db = make_db("empty")
    for table in ("by_file", "by_insert"):
        db.execute(TABLE_SQL.format(table))
    return db, nova_db_alias(db)


def load(alias, table, rows, *, fastest):
    dialect = dialect_for(connections[alias])
    with dialect.bulk_connection(), dialect.bulk_session(fastest=fastest) as session:
        session.send(session.encode(table, COLUMNS, rows))
        return session.method


def stored(db, table):
    # Text as bytes (equal bytes, not only equal once decoded); FLOAT as the float32 it holds (MySQL prints 6 digits).
    return db.fetchall(
        "SELECT id, CAST(txt AS BINARY), CAST(name AS BINARY), CAST(f32 AS DOUBLE), f64, at, day, flag, n, big "
        f"FROM {table} ORDER BY id"
    )


def as_stored(values):
    """What the server should hold for a row of ``values``: the values themselves, in the columns' types."""
    txt, name, f32, f64, at, day, flag, n, big = values

    def encode(s):
        return None if s is None else s.encode()

    if isinstance(at, str):
        at = datetime.datetime.fromisoformat(at)
    elif at is not None:
        at = at.replace(microsecond=0)  # a DATETIME column holds whole seconds: the server drops the fraction
    if f32 is not None:
        f32 = struct.unpack("f", struct.pack("f", f32))[0]
    return encode(txt), encode(name), f32, f64, at, day, None if flag is None else int(flag), n, big


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(row_values, max_size=8))
def test_load_data_stores_exactly_what_multi_row_insert_stores(scratch, values):
    db, alias = scratch
    db.execute("DELETE FROM by_file")
    db.execute("DELETE FROM by_insert")
    rows = [(n, *row) for n, row in enumerate(values, 1)]
    assert load(alias, "by_file", rows, fastest=True) == "LOAD DATA LOCAL INFILE"
    assert load(alias, "by_insert", rows, fastest=False) == "multi-row INSERT"
    by_file = stored(db, "by_file")
    assert by_file == stored(db, "by_insert")
    assert by_file == [(n, *as_stored(row)) for n, row in enumerate(values, 1)]


def test_a_value_the_server_refuses_is_refused_not_cut(scratch):
    db, alias = scratch
    good = (1, "fine", "fine", 1.5, 2.5, None, None, True, 1, 1)
    too_long = (2, "x", "y" * 41, None, None, None, None, None, None, None)
    out_of_range = (3, "x", "z", None, None, None, None, None, 2**31, None)
    for bad, column in ((too_long, "name"), (out_of_range, "n")):
        with pytest.raises(DataError, match=rf"LOAD DATA into by_file was refused: \d+ .* column '{column}' at row 2"):
            load(alias, "by_file", [good, bad], fastest=True)
        assert db.fetchall("SELECT COUNT(*) FROM by_file") == [(0,)]  # the whole load rolled back


def test_values_without_an_exact_spelling_in_the_file_go_through_insert(scratch):
    db, alias = scratch
    # A Decimal and bytes have no spelling in the file: the batch is inserted the generic way, exactly.
    from decimal import Decimal

    rows = [(1, b"a\\b\x00", "\t", None, Decimal("0.1"), None, None, False, 0, 0)]
    load(alias, "by_file", rows, fastest=True)
    load(alias, "by_insert", rows, fastest=False)
    assert stored(db, "by_file") == stored(db, "by_insert") == [(1, b"a\\b\x00", b"\t", None, 0.1, None, None, 0, 0, 0)]


class CallerFailed(Exception):
    pass


def test_load_data_commits_with_the_callers_transaction_on_its_connection(scratch):
    """The file's rows are written in the caller's transaction: rolled back with it, committed with it."""
    db, alias = scratch
    connection = connections[alias]
    dialect = dialect_for(connection)
    row = (1, "a", "b", None, None, None, None, True, 1, 1)
    with dialect.bulk_connection():
        with pytest.raises(CallerFailed), transaction.atomic(using=alias):
            connection.cursor().execute("INSERT INTO by_insert (id) VALUES (7)")
            with dialect.bulk_session() as session:
                session.send(session.encode("by_file", COLUMNS, [row]))
            raise CallerFailed  # after the load
        assert db.fetchall("SELECT COUNT(*) FROM by_file") == db.fetchall("SELECT COUNT(*) FROM by_insert") == [(0,)]
        with transaction.atomic(using=alias):
            connection.cursor().execute("INSERT INTO by_insert (id) VALUES (7)")
            with dialect.bulk_session() as session:
                session.send(session.encode("by_file", COLUMNS, [row]))
                assert session.method == "LOAD DATA LOCAL INFILE"
            assert db.fetchall("SELECT COUNT(*) FROM by_file") == [(0,)]  # not committed on its own
    assert db.fetchall("SELECT COUNT(*) FROM by_file") == db.fetchall("SELECT COUNT(*) FROM by_insert") == [(1,)]


def test_local_infile_is_on_only_inside_bulk_connection(scratch):
    """Outside ``bulk_connection`` (or already in a transaction) the connection keeps local_infile off: INSERTs."""
    db, alias = scratch
    connection = connections[alias]
    dialect = dialect_for(connection)
    rows = [(1, "a", "b", None, None, None, None, True, 1, 1)]
    with dialect.bulk_connection():
        assert connection.settings_dict["OPTIONS"].get("local_infile") is True
    # without bulk_connection; with it, but inside a transaction (the connection cannot be reopened there)
    for outer, inner in ((contextlib.nullcontext(), contextlib.nullcontext()), (transaction.atomic(using=alias), None)):
        with outer, inner or dialect.bulk_connection(), dialect.bulk_session() as session:
            assert not connection.settings_dict["OPTIONS"].get("local_infile")
            assert session.method == "multi-row INSERT" and "without local_infile" in session.note
            session.send(session.encode("by_file", COLUMNS, rows))
        db.execute("DELETE FROM by_file")
    # a LOAD DATA LOCAL on such a connection is refused by the client
    with pytest.raises(OperationalError, match="local infile"), connection.cursor() as cursor:
        cursor.execute("LOAD DATA LOCAL INFILE '/dev/null' INTO TABLE by_file")
