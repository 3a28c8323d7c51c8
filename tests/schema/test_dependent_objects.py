"""A sync or an undo never breaks what another application reads: its views, rules, foreign keys.

PostgreSQL refuses to drop a table a view reads or another table references,
and to change the type of a column a view reads; MySQL and SQLite drop it and
leave the view broken. novaweb refuses each case the same way on every
backend, before any change: exit 1, one line, each reader named, every row
and the view still there. Without the check, PostgreSQL failed half-way with
exit 255 and the others broke the operator's views with exit 0.
"""

from __future__ import annotations

import json
import re

from tests.support.column_types import set_column_type
from tests.support.commands import call

REFUSAL = re.compile(r"^\d+ objects read what this sync would drop or retype .*drop or change them first")


def refusal(result):
    """The refusal's lines: the readers named (``refused: ...``) and the one-line summary last."""
    lines = result.err.strip().splitlines()
    assert result.code == 1, result
    assert "Traceback" not in result.err
    assert REFUSAL.match(lines[-1]), lines[-1]
    return lines[:-1]


def test_a_table_that_views_read_or_other_tables_reference_is_not_dropped(backend, synced):
    db, alias = synced
    db.execute("CREATE TABLE extra_t (id int PRIMARY KEY, x int)")
    db.execute("CREATE TABLE extra_u (id int PRIMARY KEY, t_id int REFERENCES extra_t (id))")
    db.execute("INSERT INTO extra_t (id, x) VALUES (1, 10), (2, 20)")
    db.execute("CREATE VIEW v_extra AS SELECT id, x FROM extra_t")
    db.execute("CREATE VIEW v_count AS SELECT COUNT(*) AS n FROM extra_t")  # reads no column
    result = call("db_sync", database=alias, drop_table=["extra_t"], allow_destructive=True)
    assert refusal(result) == [
        "refused: drop table extra_t: view v_count reads it",
        "refused: drop table extra_t: view v_extra reads it",
        "refused: drop table extra_t: the foreign key extra_u (t_id) references it",
    ]
    assert db.fetchall("SELECT id, x FROM v_extra ORDER BY id") == [(1, 10), (2, 20)]
    assert db.fetchall("SELECT n FROM v_count") == [(2,)]
    # once the operator has dealt with them, the same command drops the table (kept in a backup)
    for sql in ("DROP VIEW v_extra", "DROP VIEW v_count", "DROP TABLE extra_u"):
        db.execute(sql)
    done = call("db_sync", database=alias, drop_table=["extra_t"], allow_destructive=True)
    assert done.code == 0, done.err
    assert "extra_t" not in {name for (name,) in _tables(db)}


def test_a_column_a_view_reads_is_not_dropped_and_other_views_do_not_count(backend, synced):
    db, alias = synced
    db.execute("ALTER TABLE instances ADD COLUMN extra_c int")
    db.execute("INSERT INTO instances (id, hostname, extra_c) VALUES (1, 'a', 7)")
    db.execute("CREATE VIEW v_c AS SELECT id, extra_c FROM instances")
    db.execute("CREATE VIEW v_hosts AS SELECT id, hostname FROM instances")
    result = call("db_sync", database=alias, allow_destructive=True)
    assert refusal(result) == ["refused: drop column instances.extra_c: view v_c reads it"]
    assert db.fetchall("SELECT extra_c FROM v_c") == [(7,)]
    plan = json.loads(call("db_sync", database=alias, dry_run=True, format="json").out)
    assert [(d["kind"], d["reader"]) for d in plan["dependents"]] == [("drop_column", "view v_c")]
    db.execute("DROP VIEW v_c")
    assert call("db_sync", database=alias, allow_destructive=True).code == 0
    assert db.fetchall("SELECT id, hostname FROM v_hosts") == [(1, "a")]


def test_a_column_a_view_reads_changes_type_only_where_the_view_follows(backend, synced):
    """PostgreSQL cannot retype a column under a view: refused there, before any change. MySQL
    and SQLite (a rebuild that keeps views) retype it, and the view reads the same rows."""
    db, alias = synced
    set_column_type(db, "instances", "hostname", {"postgresql": "text", "mysql": "text", "sqlite": "TEXT"}[backend])
    db.execute("INSERT INTO instances (id, hostname) VALUES (1, 'web-1')")
    db.execute("CREATE VIEW v_hosts AS SELECT id, hostname FROM instances")
    db.execute("CREATE VIEW v_ids AS SELECT id FROM instances")
    dry = call("db_sync", database=alias, dry_run=True)
    result = call("db_sync", database=alias)
    if backend == "postgresql":
        assert refusal(result) == [
            "refused: narrow instances.hostname from text to varchar(255): view v_hosts reads it"
        ]
        assert "-- refused even with --allow-destructive: narrow instances.hostname" in dry.out
        assert call("db_drift", database=alias).code == 1  # nothing changed
    else:
        assert result.code == 0, result.err
        assert "refused" not in dry.out
    assert db.fetchall("SELECT id, hostname FROM v_hosts") == [(1, "web-1")]


def test_an_undo_does_not_drop_a_table_a_view_has_come_to_read(backend, synced):
    db, alias = synced
    db.execute("DROP TABLE cells")
    made = call("db_sync", database=alias)
    assert made.code == 0, made.err
    db.execute("CREATE VIEW v_cells AS SELECT id, name FROM cells")
    undo = call("db_undo", database=alias)
    assert undo.code == 1 and "Traceback" not in undo.err
    assert "drop table cells: view v_cells reads it" in undo.err.strip().splitlines()[-1]
    assert db.fetchall("SELECT COUNT(*) FROM v_cells") == [(0,)]
    db.execute("DROP VIEW v_cells")
    assert call("db_undo", database=alias).code == 0
    assert "cells" not in {name for (name,) in _tables(db)}


def _tables(db):
    if db.backend == "sqlite":
        return db.fetchall("SELECT name FROM sqlite_master WHERE type = 'table'")
    if db.backend == "mysql":
        return db.fetchall("SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE()")
    return db.fetchall("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
