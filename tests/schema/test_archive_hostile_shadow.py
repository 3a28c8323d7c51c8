"""A ``shadow_<table>`` of the operator's that cannot take the rows: refused, one line, exit 2, nothing lost.

``db_archive_deleted_rows`` copies rows with ``INSERT INTO shadow_t (the live
columns) SELECT ...`` and then deletes them. A shadow table the operator
altered must not turn that into the server's error and exit 255:

- a column NOT NULL where the live row holds NULL, a column whose type cannot
  hold the live values, a column the live table lacks that is NOT NULL without
  a default: refused before any row moves;
- a CHECK of the shadow table that a row fails: that batch rolled back, the run
  stopped;
- a column the shadow lacks is added, and the rows move.
"""

from __future__ import annotations

import datetime

import pytest

from tests.support.backends import quote
from tests.support.commands import call

GONE = datetime.datetime(2012, 1, 1)
SHADOW_KEY = {
    "sqlite": "shadow_id integer primary key",
    "mysql": "shadow_id int NOT NULL AUTO_INCREMENT PRIMARY KEY",
    "postgresql": "shadow_id serial primary key",
}


def deleted_instance(db, id_, hostname):
    p = db.placeholder
    db.execute(
        f"INSERT INTO instances (id, uuid, hostname, deleted, deleted_at) VALUES ({p}, {p}, {p}, {p}, {p})",
        (id_, f"u{id_}", hostname, True, GONE),
    )


def operator_shadow(db, *columns):
    """``shadow_instances`` as an operator made it: its key and ``columns`` (the archive adds the others)."""
    db.execute(f"CREATE TABLE shadow_instances ({', '.join([SHADOW_KEY[db.backend], *columns])})")


def rebuild_sqlite_table(db, table, edit):
    """SQLite cannot ALTER a column: the table again, its SQL passed through ``edit``, rows kept."""
    (sql,) = db.fetchall("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,))[0]
    new = f"{table}_rebuilt"
    with db.cursor() as cursor:
        cursor.execute(edit(sql).replace(quote("sqlite", table), quote("sqlite", new), 1))
        cursor.execute(f"INSERT INTO {new} SELECT * FROM {table}")
        cursor.execute(f"DROP TABLE {table}")
        cursor.execute(f"ALTER TABLE {new} RENAME TO {table}")


def set_hostname_not_null(db, not_null: bool):
    """``shadow_instances.hostname`` NOT NULL (or nullable again), the way each backend allows."""
    if db.backend == "mysql":
        db.execute(f"ALTER TABLE shadow_instances MODIFY hostname varchar(255) {'NOT NULL' if not_null else 'NULL'}")
    elif db.backend == "postgresql":
        db.execute(f"ALTER TABLE shadow_instances ALTER hostname {'SET' if not_null else 'DROP'} NOT NULL")
    else:
        plain, strict = '"hostname" VARCHAR(255),', '"hostname" VARCHAR(255) NOT NULL,'
        old, new = (plain, strict) if not_null else (strict, plain)
        rebuild_sqlite_table(db, "shadow_instances", lambda sql: sql.replace(old, new))


def assert_refused(result, *words):
    assert result.code == 2, result
    assert result.err.count("\n") == 1 and "Traceback" not in result.err, result.err
    for word in words:
        assert word in result.err, result.err


def test_a_not_null_shadow_column_refuses_a_null_before_any_row_moves(backend, make_db, nova_db_alias):
    db = make_db("dump")
    alias = nova_db_alias(db)
    deleted_instance(db, 1, "h1")
    assert call("db_archive_deleted_rows", database=alias).code == 1  # novaweb makes shadow_instances
    set_hostname_not_null(db, True)
    deleted_instance(db, 2, None)
    result = call("db_archive_deleted_rows", database=alias)
    assert_refused(result, "shadow_instances.hostname is NOT NULL", "make that column nullable")
    assert db.fetchall("SELECT id, hostname FROM instances") == [(2, None)]
    assert db.fetchall("SELECT id, hostname FROM shadow_instances") == [(1, "h1")]
    # what the line says to do is enough
    set_hostname_not_null(db, False)
    assert call("db_archive_deleted_rows", database=alias).code == 1
    assert db.fetchall("SELECT id, hostname FROM shadow_instances ORDER BY id") == [(1, "h1"), (2, None)]


@pytest.mark.parametrize(
    ("column", "words"),
    [
        ("must_have integer NOT NULL", ("shadow_instances.must_have is NOT NULL without a default", "a default")),
        ("hostname integer", ("shadow_instances.hostname is", "widen that column")),
    ],
    ids=["a column the live table lacks, NOT NULL", "int where the live column is varchar"],
)
def test_a_shadow_column_that_cannot_take_the_rows_is_refused(backend, make_db, nova_db_alias, column, words):
    db = make_db("dump")
    alias = nova_db_alias(db)
    operator_shadow(db, "id integer", column)
    deleted_instance(db, 1, "h1")
    assert_refused(call("db_archive_deleted_rows", database=alias), *words)
    assert db.fetchall("SELECT id, hostname FROM instances") == [(1, "h1")]
    assert db.fetchall("SELECT COUNT(*) FROM shadow_instances") == [(0,)]


def test_a_check_of_the_shadow_table_stops_the_run_with_its_batch_rolled_back(backend, make_db, nova_db_alias):
    db = make_db("dump")
    alias = nova_db_alias(db)
    operator_shadow(db, "id integer", "hostname varchar(255)", "CONSTRAINT no_refused CHECK (hostname <> 'refused')")
    deleted_instance(db, 1, "h1")
    deleted_instance(db, 2, "refused")
    p = db.placeholder
    # a child row moves first (children before parents), in its own batch
    db.execute(
        f"INSERT INTO instance_metadata (id, instance_id, {quote(backend, 'key')}, value, deleted, deleted_at) "
        f"VALUES (1, 1, 'k', 'v', {p}, {p})",
        (True, GONE),
    )
    result = call("db_archive_deleted_rows", database=alias)
    assert_refused(result, "shadow_instances refused rows of instances (", "no_refused", "1 row(s) archived before it")
    assert "Failing row contains" not in result.err  # PostgreSQL's DETAIL line stays out
    assert db.fetchall("SELECT id FROM instances ORDER BY id") == [(1,), (2,)]  # the whole batch stayed
    assert db.fetchall("SELECT COUNT(*) FROM shadow_instances") == [(0,)]
    assert db.fetchall("SELECT id FROM shadow_instance_metadata") == [(1,)]


def test_a_shadow_column_missing_is_added_and_the_rows_move(backend, make_db, nova_db_alias):
    db = make_db("dump")
    alias = nova_db_alias(db)
    operator_shadow(db, "id integer")
    deleted_instance(db, 1, "h1")
    assert call("db_archive_deleted_rows", database=alias).code == 1
    assert db.fetchall("SELECT id, hostname FROM shadow_instances") == [(1, "h1")]
    assert db.fetchall("SELECT COUNT(*) FROM instances") == [(0,)]


def test_a_view_named_like_a_shadow_table_is_refused_before_any_row_moves(backend, make_db, nova_db_alias):
    db = make_db("dump")
    deleted_instance(db, 1, "gone")
    db.execute("CREATE VIEW shadow_instances AS SELECT id, hostname FROM instances")  # an operator's report
    alias = nova_db_alias(db)

    result = call("db_archive_deleted_rows", database=alias)

    assert result.code == 2, result.err
    assert result.err == (
        "error: shadow_instances is a view, not a table the rows of instances can move to: "
        "rename or drop it, then archive again\n"
    )
    assert db.fetchall("SELECT id, hostname FROM instances") == [(1, "gone")]
