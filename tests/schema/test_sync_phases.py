"""Phase rules and dependency order, on neutral schemas (no database: pure functions)."""

import pytest

from schema.diff import Difference
from schema.phases import plan_operations, type_change
from schema.schema import Column, ForeignKey, Index, Schema, Table


@pytest.mark.parametrize(
    ("old", "new", "change"),
    [
        ("varchar(20)", "varchar(36)", "widen"),
        ("varchar(255)", "text", "widen"),
        ("int", "bigint", "widen"),
        ("bool", "int", "widen"),
        ("varchar(64)", "varchar(36)", "narrow"),
        ("text", "varchar(255)", "narrow"),
        ("bigint", "int", "narrow"),
        ("datetime", "varchar(255)", "change"),
        ("int", "varchar(36)", "change"),
    ],
)
def test_type_changes_are_widen_narrow_or_change(old, new, change):
    assert type_change(old, new) == change


def _schemas():
    parent = Table("parent", {"id": Column("id", "int", False)}, ("id",))
    child = Table("child", {"id": Column("id", "int", False), "pid": Column("pid", "varchar(10)")}, ("id",))
    return Schema("mysql", {"parent": parent, "child": child})


def test_a_drop_comes_before_the_re_add_of_the_same_name_and_the_add_moves_to_the_later_phase():
    old, new = Index("ix", ("id",)), Index("ix", ("pid", "id"))
    d = Difference("changed_index", "child", "ix", new.describe(), old.describe(), want=new, have=old)
    ops = plan_operations([d], _schemas(), _schemas())
    assert [(op.kind, op.phase) for op in ops] == [("drop_index", "contract"), ("create_index", "contract")]


def test_a_foreign_key_on_a_column_changed_in_contract_moves_to_contract_and_follows_it():
    live = _schemas()
    want_col = Column("pid", "int")
    diffs = [
        Difference(
            "column_type", "child", "pid", "int", "varchar(10)", want=want_col, have=live["child"].columns["pid"]
        ),
        Difference(
            "missing_foreign_key", "child", "pid", "", None, want=ForeignKey(("pid",), "parent", ("id",), "fk_pid")
        ),
    ]
    ops = plan_operations(diffs, live, live)
    assert [(op.kind, op.phase) for op in ops] == [("alter_column", "contract"), ("add_foreign_key", "contract")]


def test_tables_come_before_their_foreign_keys_and_foreign_keys_are_dropped_before_what_they_use():
    live = _schemas()
    new = Table("grandchild", {"cid": Column("cid", "int")}, (), foreign_keys=[ForeignKey(("cid",), "child", ("id",))])
    fk = ForeignKey(("pid",), "parent", ("id",), "child_ibfk_1")
    diffs = [
        Difference("extra_table", "parent", "parent", None, "table", have=live["parent"]),
        Difference("extra_foreign_key", "child", "child_ibfk_1", None, fk.describe(), have=fk),
        Difference("missing_table", "grandchild", "grandchild", "table", None, want=new),
    ]
    ops = plan_operations(diffs, live, live)
    assert [(op.kind, op.table, op.phase) for op in ops] == [
        ("create_table", "grandchild", "expand"),
        ("add_foreign_key", "grandchild", "expand"),
        ("drop_foreign_key", "child", "migrate"),
        ("drop_table", "parent", "contract"),
    ]
