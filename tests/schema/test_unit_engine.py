"""The schema engine, stage by stage, without a database server (alembic's split of
``test_autogen_diffs`` / ``test_autogen_render``): diff on hand-built schemas, the
model side against the reference dump, type rules per backend, each operation's
statements per dialect, and each operation's inverse.
"""

from __future__ import annotations

import copy
import sqlite3
from types import SimpleNamespace

import pytest

from schema.dialects import DIALECTS
from schema.diff import diff
from schema.model_schema import model_schema
from schema.operations import FOR_DIFFERENCE, OPERATIONS
from schema.phases import plan_operations, type_change
from schema.plan import _PlanWriter
from schema.schema import Check, Column, ForeignKey, Index, Schema, Table, UniqueConstraint
from schema.type_rules import type_info
from tests.support.backends import DUMP_FILES

VENDORS = sorted(DIALECTS)


def dialect(vendor):
    return DIALECTS[vendor](SimpleNamespace(vendor=vendor))


def base_schema(vendor="mysql") -> Schema:
    parent = Table("parent", {"id": Column("id", "int", False, autoincrement=True, ddl_type="int(11)")}, ("id",))
    child = Table(
        "child",
        {
            "id": Column("id", "int", False, ddl_type="int(11)"),
            "pid": Column("pid", "int", ddl_type="int(11)"),
            "name": Column("name", "varchar(20)", ddl_type="varchar(20)"),
        },
        ("id",),
        indexes={"ix_name": Index("ix_name", ("name",))},
        foreign_keys=[ForeignKey(("pid",), "parent", ("id",), name="child_ibfk_1")],
        uniques=[UniqueConstraint(("name", "pid"), name="uq_name_pid")],
    )
    return Schema(vendor, {"parent": parent, "child": child})


# ---- diff ---------------------------------------------------------------------------------
def test_diff_of_equal_schemas_is_empty():
    assert diff(base_schema(), base_schema(), dialect("mysql")).in_sync


@pytest.mark.parametrize(
    ("change", "kinds"),
    [
        (lambda s: s.tables.pop("parent"), {"extra_table"}),
        (lambda s: s.add_table(Table("extra", {"id": Column("id", "int")})), {"missing_table"}),
        (lambda s: s["child"].columns.pop("name"), {"extra_column"}),
        (lambda s: s["child"].columns.update(name=Column("name", "varchar(10)")), {"column_type"}),
        (lambda s: s["child"].columns.update(name=Column("name", "varchar(20)", False)), {"column_nullable"}),
        (lambda s: s["child"].columns.update(name=Column("name", "varchar(20)", default="'x'")), {"column_default"}),
        (lambda s: s["child"].indexes.clear(), {"extra_index"}),
        (lambda s: s["child"].indexes.update(ix_name=Index("ix_name", ("name", "id"))), {"changed_index"}),
        (lambda s: setattr(s["child"], "foreign_keys", []), {"extra_foreign_key"}),
        (lambda s: setattr(s["child"], "uniques", []), {"extra_unique"}),
        (lambda s: setattr(s["child"], "primary_key", ("id", "pid")), {"primary_key"}),
    ],
)
def test_diff_names_each_kind_of_difference(change, kinds):
    """``change`` is applied to the *expected* side: the live one lacks or differs by it."""
    expected = base_schema()
    change(expected)
    live = base_schema()
    got = {d.kind for d in diff(expected, live, dialect("mysql")).differences}
    assert got == kinds
    # the other way round, the mirror kind: what one side lacks, the other has as extra
    back = {d.kind for d in diff(live, expected, dialect("mysql")).differences}
    assert back == {_mirror(k) for k in kinds}


def _mirror(kind):
    if kind.startswith("missing_"):
        return "extra_" + kind.removeprefix("missing_")
    if kind.startswith("extra_"):
        return "missing_" + kind.removeprefix("extra_")
    return kind


def test_every_difference_kind_has_one_operation_class():
    kinds = {
        "missing_table",
        "extra_table",
        "missing_column",
        "extra_column",
        "column_type",
        "column_nullable",
        "column_default",
        "column_autoincrement",
        "primary_key",
        "missing_index",
        "extra_index",
        "changed_index",
        "missing_unique",
        "extra_unique",
        "missing_foreign_key",
        "extra_foreign_key",
        "extra_check",
    }
    assert set(FOR_DIFFERENCE) == kinds
    assert len({cls.kind for cls in OPERATIONS}) == len(OPERATIONS)
    assert sorted(cls.rank for cls in OPERATIONS) == list(range(len(OPERATIONS)))


# ---- the model side against the reference dump ---------------------------------------------
def test_model_schema_matches_the_sqlite_reference_dump_column_by_column():
    conn = sqlite3.connect(":memory:")
    conn.executescript(DUMP_FILES["sqlite"].read_text())
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    models = model_schema("sqlite")
    assert set(models.tables) == tables
    for name, table in models.tables.items():
        live = [(r[1], r[2], not r[3]) for r in conn.execute(f'PRAGMA table_info("{name}")')]
        want = [(c.name, c.ddl_type, c.nullable) for c in table.columns.values()]
        assert want == live, name


@pytest.mark.parametrize("vendor", VENDORS)
def test_model_schema_has_every_table_with_a_primary_key(vendor):
    schema = model_schema(vendor)
    assert len(schema.tables) == 49
    assert all(t.primary_key for t in schema.tables.values())
    assert schema["instances"].columns["hostname"].type == "varchar(255)"


# ---- types per backend ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("vendor", "raw", "normalized"),
    [
        ("mysql", "INT(11)", "int"),
        ("mysql", "int(10) unsigned", "int unsigned"),
        ("mysql", "tinyint(1)", "bool"),
        ("mysql", "double precision", "double"),
        ("mysql", "MEDIUMTEXT", "mediumtext"),
        ("postgresql", "integer", "int"),
        ("postgresql", "double precision", "float"),
        ("postgresql", "timestamp without time zone", "datetime"),
        ("postgresql", "character varying(36)", "varchar(36)"),
        ("postgresql", "float4", "real"),
        ("sqlite", "INTEGER", "int"),
        ("sqlite", "BOOLEAN", "bool"),
        ("sqlite", "VARCHAR(255)", "varchar(255)"),
    ],
)
def test_type_normalization_per_backend(vendor, raw, normalized):
    assert dialect(vendor).normalize_type(raw) == normalized


@pytest.mark.parametrize(
    ("vendor", "old", "new", "change"),
    [
        ("mysql", "int unsigned", "int", "narrow"),
        ("mysql", "int", "int unsigned", "narrow"),
        ("mysql", "smallint unsigned", "int", "widen"),
        ("mysql", "mediumtext", "text", "narrow"),
        ("mysql", "text", "mediumtext", "widen"),
        ("mysql", "varchar(255)", "text", "widen"),
        ("mysql", "varchar(20000)", "text", "narrow"),  # 80,000 bytes in utf8mb4
        ("mysql", "double", "float", "narrow"),  # MySQL's float is single precision
        ("postgresql", "real", "float", "narrow"),  # 0.1 as real reads 0.10000000149... as double precision
        ("postgresql", "float", "real", "narrow"),
        ("mysql", "timestamp", "datetime", "change"),  # read in the session's time zone
        ("postgresql", "timestamp", "datetime", "widen"),  # PostgreSQL's timestamp is naive
        ("postgresql", "character varying", "varchar(255)", "narrow"),
        ("postgresql", "text", "varchar(255)", "narrow"),
        ("postgresql", "varchar(10)", "text", "widen"),
        ("sqlite", "bigint", "int", "narrow"),
        ("sqlite", "datetime", "varchar(255)", "change"),
        ("sqlite", "varchar(36)", "int", "change"),
    ],
)
def test_type_change_per_backend(vendor, old, new, change):
    assert type_change(old, new, vendor) == change


def test_type_info_reads_limits_from_the_dialect():
    assert type_info(DIALECTS["mysql"], "text").bytes == 65535
    assert type_info(DIALECTS["postgresql"], "text").bytes is None
    assert (type_info(DIALECTS["mysql"], "int unsigned").low, type_info(DIALECTS["mysql"], "int unsigned").high) == (
        0,
        2**32 - 1,
    )


# ---- operations: statements per dialect, inverses ----------------------------------------------
def canonical(schema: Schema) -> dict:
    """A schema as comparable data: list orders do not matter."""
    return {
        name: (
            dict(t.columns),
            tuple(t.primary_key),
            sorted(map(repr, t.uniques)),
            dict(t.indexes),
            sorted(map(repr, t.foreign_keys)),
            sorted(map(repr, t.checks)),
        )
        for name, t in schema.tables.items()
    }


def _expected_of(vendor):
    """The models' side: ``base_schema`` with one of each kind of change."""
    expected = base_schema(vendor)
    expected.add_table(
        Table(
            "fresh",
            {"id": Column("id", "int", False, ddl_type="int")},
            ("id",),
            foreign_keys=[ForeignKey(("id",), "parent", ("id",))],
        )
    )
    expected["child"].columns["extra"] = Column("extra", "int", True, ddl_type="int")
    expected["child"].columns["name"] = Column("name", "varchar(30)", False, ddl_type="varchar(30)")
    expected["child"].indexes["ix_pid"] = Index("ix_pid", ("pid",))
    expected["child"].uniques = []
    expected["parent"].columns["label"] = Column("label", "varchar(5)", ddl_type="varchar(5)")
    return expected


def _every_operation(vendor):
    """One operation of each kind, planned against ``base_schema``: (ops, live schema they apply to)."""
    live = base_schema(vendor)
    live["parent"].columns["gone"] = Column("gone", "int", ddl_type="int")
    live["parent"].checks = [Check(("gone",), "ck_gone")]
    live.add_table(Table("old", {"id": Column("id", "int", False, ddl_type="int")}, ("id",)))
    expected = _expected_of(vendor)
    ops = plan_operations(diff(expected, live, dialect(vendor)).differences, expected, live)
    if dialect(vendor).inline_foreign_keys:  # as build_plan does: inside CREATE TABLE
        ops = [op for op in ops if not op.written_with_table]
    return ops, live


@pytest.mark.parametrize("vendor", VENDORS)
def test_each_operation_writes_its_statements_through_the_dialect(vendor):
    ops, live = _every_operation(vendor)
    writer = _PlanWriter(SimpleNamespace(vendor=vendor), live)
    kinds = set()
    for op in ops:
        statements = writer.statements(op)
        assert statements, op
        text = " ".join(s.sql for s in statements)
        kinds.add(op.kind)
        if vendor == "sqlite" and op.rebuilds:
            assert "novaweb_rebuild_" in text
            continue
        q = writer.quote
        assert q(op.table) in text, (op.kind, text)
        if op.kind == "create_index":
            assert q("ix_pid") in text
        if op.kind == "drop_table":
            assert text == f"DROP TABLE {q('old')}"
    assert {"create_table", "drop_table", "add_column", "drop_column", "alter_column", "create_index"} <= kinds


@pytest.mark.parametrize("vendor", VENDORS)
def test_a_plan_simulated_on_the_live_schema_reaches_the_models(vendor):
    ops, live = _every_operation(vendor)
    state = copy.deepcopy(live)
    for op in ops:
        op.apply(state, dialect(vendor))
    assert diff(_expected_of(vendor), state, dialect(vendor)).differences == []


@pytest.mark.parametrize("vendor", VENDORS)
def test_each_operation_and_its_inverse_leave_the_schema_as_it_was(vendor):
    ops, live = _every_operation(vendor)
    d = dialect(vendor)
    checked = set()
    state = copy.deepcopy(live)
    for op in ops:
        before = copy.deepcopy(state)
        op.apply(state, d)
        inverse = op.inverse()
        if inverse is None:
            assert op.kind == "drop_check"
            continue
        assert inverse.inverse().kind == op.kind
        undone = copy.deepcopy(state)
        inverse.apply(undone, d)
        assert canonical(undone) == canonical(before), op.kind
        checked.add(op.kind)
    assert {"create_table", "drop_table", "add_column", "drop_column", "alter_column", "create_index"} <= checked
