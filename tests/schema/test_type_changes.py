"""Issue 10, rule 1: a type change never loses a value, whatever the flag.

The type-change matrix: a column of a Nova table is given another type the
backend's way, filled with values at the edges, and ``db_sync
--allow-destructive`` must either refuse (exit 1) and change nothing, or
leave every value reading back identical. Some cases must refuse (the
issue's examples and their variations); some must go through (nothing to
lose). The SQL condition that finds the values a type would not keep is also
checked against Python's own arithmetic with hypothesis, on every server.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.backends import catalog
from tests.support.column_types import set_column_type
from tests.support.commands import call

REFUSED, KEPT, EITHER = "refused", "kept", "either"


@dataclass
class Case:
    table: str
    column: str
    found: dict  # backend -> the column's type as the operator left it
    values: list
    expect: str  # REFUSED, KEPT or EITHER (the invariant holds in every case)

    def found_type(self, backend):
        return self.found.get(backend)


HOSTNAME_300 = "h" * 300
CASES = [
    # unbounded text -> varchar(255): the example, and its variations
    Case(
        "bw_usage_cache",
        "mac",
        {"postgresql": "varchar", "mysql": "text", "sqlite": "TEXT"},
        ["a" * 255, HOSTNAME_300],
        REFUSED,
    ),
    Case(
        "bw_usage_cache", "mac", {"postgresql": "text", "mysql": "mediumtext", "sqlite": "CLOB"}, ["a" * 256], REFUSED
    ),
    Case(
        "bw_usage_cache",
        "mac",
        {"postgresql": "varchar(300)", "mysql": "varchar(300)", "sqlite": "VARCHAR(300)"},
        ["é" * 255, "", "x"],
        KEPT,
    ),
    Case(
        "bw_usage_cache",
        "mac",
        {"postgresql": "varchar", "mysql": "longtext", "sqlite": "TEXT"},
        ["ü" * 255, "short"],
        KEPT,
    ),
    Case(
        "bw_usage_cache",
        "mac",
        {"postgresql": "varchar(20)", "mysql": "varchar(20)", "sqlite": "VARCHAR(20)"},
        ["x" * 20],
        KEPT,
    ),  # a widening
    # integers: sign and range
    Case(
        "instance_types",
        "memory_mb",
        {"mysql": "int unsigned", "postgresql": "bigint", "sqlite": "BIGINT"},
        [2**31],
        REFUSED,
    ),
    Case(
        "instance_types",
        "memory_mb",
        {"mysql": "int unsigned", "postgresql": "bigint", "sqlite": "BIGINT"},
        [2**31 - 1, 0, 1],
        KEPT,
    ),
    Case(
        "instance_types",
        "memory_mb",
        {"mysql": "bigint", "postgresql": "bigint", "sqlite": "BIGINT"},
        [-(2**31) - 1],
        REFUSED,
    ),
    Case(
        "instance_types",
        "memory_mb",
        {"mysql": "bigint", "postgresql": "bigint", "sqlite": "BIGINT"},
        [-(2**31), 2**31 - 1],
        KEPT,
    ),
    Case("bw_usage_cache", "bw_in", {"mysql": "bigint unsigned", "postgresql": "numeric(20,0)"}, [2**64 - 1], REFUSED),
    Case("bw_usage_cache", "bw_in", {"mysql": "bigint unsigned"}, [2**63 - 1, 0], KEPT),
    # floats: MySQL's float is single precision
    Case("instance_types", "rxtx_factor", {"mysql": "double"}, [0.1], REFUSED),
    Case("instance_types", "rxtx_factor", {"mysql": "double"}, [1e300], REFUSED),
    Case("instance_types", "rxtx_factor", {"mysql": "double"}, [0.5, 1.0, 2.0, -3.25], KEPT),
    Case("instance_types", "rxtx_factor", {"postgresql": "real"}, [0.5, 1.0], KEPT),
    Case("instance_types", "rxtx_factor", {"postgresql": "real"}, [0.1, 1.3], REFUSED),  # 0.10000000149...
    Case("instance_types", "rxtx_factor", {"mysql": "double"}, [16777216.0], REFUSED),  # a float32, shown 1.67772e7
    Case("instance_types", "rxtx_factor", {"mysql": "double"}, [1234567.0], REFUSED),
    Case("instance_types", "rxtx_factor", {"mysql": "double"}, [0.125, 12345.5, -2.5], KEPT),
    # MySQL's TIMESTAMP reads in the session's time zone: converting it would shift what a reader sees
    Case("bw_usage_cache", "start_period", {"mysql": "timestamp NULL DEFAULT NULL"}, ["2026-01-01 00:00:00"], REFUSED),
    Case("instance_types", "rxtx_factor", {"postgresql": "numeric", "mysql": "decimal(10,2)"}, [1.5], REFUSED),
    # across families: text holding numbers -> int, checked value by value
    Case(
        "instance_types",
        "memory_mb",
        {"mysql": "varchar(20)", "postgresql": "varchar(20)", "sqlite": "VARCHAR(20)"},
        ["123", "-5", "0"],
        KEPT,
    ),
    Case(
        "instance_types",
        "memory_mb",
        {"mysql": "varchar(20)", "postgresql": "varchar(20)", "sqlite": "VARCHAR(20)"},
        ["007"],
        REFUSED,
    ),
    Case(
        "instance_types",
        "memory_mb",
        {"mysql": "varchar(20)", "postgresql": "varchar(20)", "sqlite": "VARCHAR(20)"},
        ["2147483648"],
        REFUSED,
    ),
    Case(
        "instance_types",
        "memory_mb",
        {"mysql": "varchar(20)", "postgresql": "varchar(20)", "sqlite": "VARCHAR(20)"},
        ["5\n"],
        REFUSED,
    ),
    Case(
        "instance_types",
        "memory_mb",
        {"mysql": "varchar(20)", "postgresql": "varchar(20)", "sqlite": "VARCHAR(20)"},
        ["12.5", " 7", "abc"],
        REFUSED,
    ),
    # int -> varchar(n): the text form must fit
    Case(
        "bw_usage_cache",
        "mac",
        {"mysql": "bigint", "postgresql": "bigint", "sqlite": "BIGINT"},
        [-(2**63), 2**63 - 1],
        KEPT,
    ),
    # other families: refused while a value is there
    Case(
        "bw_usage_cache",
        "start_period",
        {"mysql": "varchar(40)", "postgresql": "varchar(40)", "sqlite": "VARCHAR(40)"},
        ["2012-01-01 00:00:00"],
        REFUSED,
    ),
    Case(
        "bw_usage_cache",
        "bw_in",
        {"mysql": "double", "postgresql": "double precision", "sqlite": "REAL"},
        [1.5],
        REFUSED,
    ),
    # booleans: PostgreSQL has no assignment cast between boolean and the integers
    Case("instances", "deleted", {"postgresql": "integer", "mysql": "int", "sqlite": "INTEGER"}, [1, 0], KEPT),
    Case("instances", "deleted", {"postgresql": "integer", "sqlite": "INTEGER"}, [2], REFUSED),
    Case("instances", "deleted", {"mysql": "int"}, [2, -128], KEPT),  # MySQL's bool is a tinyint(1)
    Case(
        "instances", "vcpus", {"postgresql": "boolean", "mysql": "tinyint(1)", "sqlite": "BOOLEAN"}, [True, False], KEPT
    ),
    # MySQL's TEXT holds 65,535 bytes, whatever the characters
    Case("instances", "key_data", {"mysql": "mediumtext"}, ["é" * 40000], REFUSED),
    Case("instances", "key_data", {"mysql": "mediumtext"}, ["é" * 30000], KEPT),
]


def column_type(db, table, column):
    return {c[0]: c[1] for c in catalog(db)[table]["columns"]}[column]


def values_of(db, table, column):
    return [row[0] for row in db.fetchall(f"SELECT {_q(db, column)} FROM {_q(db, table)} ORDER BY id")]


def _q(db, name):
    return f"`{name}`" if db.backend == "mysql" else f'"{name}"'


def same_value(before, after):
    """Identical as a user reads it: equal values, or the same text for a number stored as text."""
    if before == after:
        return True
    if isinstance(before, str) and isinstance(after, int) and not isinstance(after, bool):
        return before == str(after)
    if isinstance(after, str) and isinstance(before, int):
        return after == str(before)
    return False


def _filler(type_sql):
    t = type_sql.lower()
    if "char" in t or "text" in t:
        return "x"
    if "date" in t or "time" in t:
        return "2012-01-01 00:00:00"
    if "float" in t or "double" in t or "real" in t:
        return 1.0
    return 0


def fill(db, case):
    """One row per value of ``case``, every other NOT NULL column given a plain value."""
    p = db.placeholder
    db.execute(f"DELETE FROM {_q(db, case.table)}")
    required = [
        (c[0], c[1]) for c in catalog(db)[case.table]["columns"] if c[2] is False and c[0] not in ("id", case.column)
    ]
    names = ["id", case.column, *(name for name, _ in required)]
    columns = ", ".join(_q(db, n) for n in names)
    marks = ", ".join([p] * len(names))
    for i, value in enumerate(case.values, start=1):
        params = (i, value, *(f"{_filler(t)}{i}" if _filler(t) == "x" else _filler(t) for _, t in required))
        db.execute(f"INSERT INTO {_q(db, case.table)} ({columns}) VALUES ({marks})", params)


def model_type_restored(db, case, alias):
    """Back to the models' schema for the next case: empty the table, then sync."""
    db.execute(f"DELETE FROM {_q(db, case.table)}")
    result = call("db_sync", database=alias)
    assert result.code == 0, result.err


def test_type_change_matrix_refuses_or_keeps_every_value(backend, synced):
    db, alias = synced
    checked = 0
    for case in CASES:
        found = case.found_type(backend)
        if found is None:
            continue
        checked += 1
        set_column_type(db, case.table, case.column, found)
        fill(db, case)
        type_before = column_type(db, case.table, case.column)
        before = values_of(db, case.table, case.column)
        result = call("db_sync", database=alias, allow_destructive=True)
        after = values_of(db, case.table, case.column)
        label = f"{case.table}.{case.column} {found} holding {[str(v)[:20] for v in case.values]}"
        if result.code == 1:
            assert case.expect in (REFUSED, EITHER), f"{label}: refused, expected {case.expect}: {result.err}"
            assert "values that do not fit" in result.err and "even with --allow-destructive" in result.err
            assert column_type(db, case.table, case.column) == type_before, label
            assert after == before, label
        else:
            assert result.code == 0, f"{label}: {result.err}"
            assert case.expect in (KEPT, EITHER), f"{label}: went through, expected a refusal"
            assert len(after) == len(before)
            assert all(same_value(b, a) for b, a in zip(before, after, strict=True)), (label, before, after)
            assert call("db_drift", database=alias).code == 0, label
        model_type_restored(db, case, alias)
    assert checked >= 10


def test_refusal_names_the_operation_and_counts_the_values(backend, synced):
    """The issue's example: a 300-character hostname in an unbounded column is never cut to 255."""
    db, alias = synced
    found = {"postgresql": "varchar", "mysql": "text", "sqlite": "TEXT"}[backend]
    set_column_type(db, "instances", "hostname", found)
    p = db.placeholder
    for i, name in enumerate([HOSTNAME_300, "ok", HOSTNAME_300 + "x"], start=1):
        db.execute(f"INSERT INTO instances (id, hostname) VALUES ({p}, {p})", (i, name))
    for flag in (False, True):
        result = call("db_sync", database=alias, allow_destructive=flag)
        assert result.code == 1
        assert "instances.hostname" in result.err and ": 2 values that do not fit" in result.err
    lengths = sorted(len(v) for v in values_of(db, "instances", "hostname"))
    assert lengths == [2, 300, 301]
    # the dry run's JSON says the same, as a blocking loss
    plan = call("db_sync", database=alias, dry_run=True, format="json")
    assert '"blocking": true' in plan.out and '"count": 2' in plan.out


@pytest.mark.parametrize("backend", ["postgresql"])  # MySQL refuses to retype a key foreign keys use
@pytest.mark.parametrize("found", ["bigint", "smallint"])
def test_an_auto_increment_key_of_another_integer_type_comes_back_to_the_models(backend, synced, found):
    """``instances.id`` made bigint or smallint by hand (an operator, another tool): db_sync puts
    back the models' int, keeping every id and the auto-increment (``serial`` is no type ALTER
    accepts: the statement says ``integer``)."""
    db, alias = synced
    p = db.placeholder
    for name in ("a", "b", "c"):
        db.execute(f"INSERT INTO instances (hostname) VALUES ({p})", (name,))
    db.execute(f"ALTER TABLE instances ALTER COLUMN id TYPE {found}")
    result = call("db_sync", database=alias, allow_destructive=True)
    assert result.code == 0, result.err
    assert call("db_drift", database=alias).code == 0
    assert sorted(values_of(db, "instances", "id")) == [1, 2, 3]
    db.execute(f"INSERT INTO instances (hostname) VALUES ({p})", ("next",))
    assert max(values_of(db, "instances", "id")) == 4


@pytest.mark.parametrize("backend", ["postgresql"])
@pytest.mark.parametrize("found", ["integer", "bigint", "smallint"])
def test_a_boolean_made_an_integer_with_a_default_comes_back_and_goes_back_again(backend, synced, found):
    """``instances.deleted`` made an integer by hand, with ``DEFAULT 0``: boolean has no assignment
    cast to or from the integers, and the old default would refuse the new type, so the sync drops
    it first and converts with ``<> 0``; the undo converts back the same way."""
    db, alias = synced
    db.execute(f"ALTER TABLE instances ALTER COLUMN deleted TYPE {found} USING deleted::integer")
    db.execute("ALTER TABLE instances ALTER COLUMN deleted SET DEFAULT 0")
    for i, deleted in enumerate([1, 0, None], start=1):
        db.execute("INSERT INTO instances (id, deleted) VALUES (%s, %s)", (i, deleted))
    result = call("db_sync", database=alias)
    assert result.code == 0, result.err
    assert values_of(db, "instances", "deleted") == [True, False, None]
    assert column_type(db, "instances", "deleted") == "boolean"
    assert call("db_drift", database=alias).code == 0
    sync_id = re.search(r"db_undo (\d+)", result.out).group(1)
    undone = call("db_undo", sync_id, database=alias)
    assert undone.code == 0, undone.err
    assert column_type(db, "instances", "deleted") == found
    assert values_of(db, "instances", "deleted") == [1, 0, None]
    default = (
        "SELECT column_default FROM information_schema.columns WHERE table_name = 'instances' AND column_name = %s"
    )
    assert db.fetchall(default, ("deleted",)) == [("0",)]


# ---- the condition itself, against Python's arithmetic ---------------------------------------
INTEGER_TYPES = {
    "mysql": {
        "tinyint": (-128, 127),
        "smallint": (-(2**15), 2**15 - 1),
        "int": (-(2**31), 2**31 - 1),
        "int unsigned": (0, 2**32 - 1),
        "bigint": (-(2**63), 2**63 - 1),
    },
    "postgresql": {"smallint": (-(2**15), 2**15 - 1), "int": (-(2**31), 2**31 - 1), "bigint": (-(2**63), 2**63 - 1)},
    "sqlite": {"int": (-(2**31), 2**31 - 1), "bigint": (-(2**63), 2**63 - 1)},
}


@pytest.fixture
def scratch_alias(backend, make_db, nova_db_alias):
    return nova_db_alias(make_db("empty"))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_lost_values_condition_agrees_with_python(backend, scratch_alias, data):
    from django.db import connections

    from schema.dialects import dialect_for
    from schema.type_rules import lost_values_condition, type_info

    connection = connections[scratch_alias]
    dialect = dialect_for(connection)
    types = INTEGER_TYPES[backend]
    old = data.draw(st.sampled_from(sorted(types)))
    new = data.draw(st.sampled_from(sorted(types)))
    low, high = types[old]
    value = data.draw(st.integers(low, high))
    want = type_info(dialect, new)
    condition = lost_values_condition(dialect, "v", old, new)
    if condition is None:
        assert want.low <= low and high <= want.high
        return
    literal = str(value)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT CASE WHEN {condition} THEN 1 ELSE 0 END FROM (SELECT {literal} AS v) AS t")
        lost = bool(cursor.fetchone()[0])
    assert lost == (not want.low <= value <= want.high), (old, new, value)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    text=st.text(
        alphabet=st.characters(codec="utf-8", max_codepoint=0xFFFF, exclude_categories=["Cs"]), max_size=40
    ).filter(lambda s: "\x00" not in s),
    width=st.integers(1, 30),
)
def test_text_length_condition_agrees_with_python(backend, scratch_alias, text, width):
    from django.db import connections

    from schema.dialects import dialect_for
    from schema.type_rules import lost_values_condition

    connection = connections[scratch_alias]
    condition = lost_values_condition(dialect_for(connection), "v", "text", f"varchar({width})")
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT CASE WHEN {condition} THEN 1 ELSE 0 END FROM (SELECT %s AS v) AS t", [text])
        lost = bool(cursor.fetchone()[0])
    assert lost == (len(text) > width)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.one_of(st.integers(-(2**40), 2**40).map(str), st.text(alphabet="0123456789-+ .\nx", max_size=12)))
def test_text_to_int_condition_agrees_with_python(backend, scratch_alias, text):
    from django.db import connections

    from schema.dialects import dialect_for
    from schema.type_rules import lost_values_condition

    connection = connections[scratch_alias]
    condition = lost_values_condition(dialect_for(connection), "v", "varchar(20)", "int")
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT CASE WHEN {condition} THEN 1 ELSE 0 END FROM (SELECT %s AS v) AS t", [text])
        lost = bool(cursor.fetchone()[0])
    keeps = re.fullmatch(r"0|-?[1-9][0-9]*", text) is not None and -(2**31) <= int(text) <= 2**31 - 1
    assert lost == (not keeps), text
