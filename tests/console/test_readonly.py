"""The read-only alias: rows come back; every kind of write fails at the server and changes nothing;
a slow statement stops at the time limit; the row cap holds. On SQLite, MariaDB and PostgreSQL."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.db import connections

from inventory.console import runner
from inventory.console.database import READONLY_ALIAS, readonly_database
from novaweb.router import NOVA_APPS, NovaRouter

#: The server's words for "this transaction/database is read-only".
READ_ONLY_ERROR = {
    "postgresql": "read-only transaction",
    "mysql": "READ ONLY transaction",
    "sqlite": "readonly database",
}


def snapshot(db):
    """What a write could change: the first instance's hostname, the row counts, the flavor names."""
    return (
        db.fetchall("SELECT id, hostname FROM instances ORDER BY id"),
        db.fetchall("SELECT name FROM instance_types ORDER BY name"),
    )


def first_instance(db) -> int:
    return db.fetchall("SELECT MIN(id) FROM instances")[0][0]


def writes(db):
    """``{kind: SQL}`` of the writes the console must never manage, for ``db``'s backend."""
    pk = first_instance(db)
    found = {
        "update": f"UPDATE instances SET hostname = 'changed' WHERE id = {pk}",
        "delete": f"DELETE FROM instances WHERE id = {pk}",
        "drop": "DROP TABLE instance_types",
        "insert-select": (
            "INSERT INTO instance_types (name, memory_mb, vcpus, root_gb, flavorid, swap, rxtx_factor, deleted) "
            "SELECT 'copied', memory_mb, vcpus, root_gb, 'copied', swap, rxtx_factor, deleted FROM instance_types"
        ),
        "create": "CREATE TABLE novaweb_console_probe (id integer)",
    }
    if db.backend == "postgresql":
        found["nextval"] = "SELECT nextval('instances_id_seq')"
        found["setval"] = "SELECT setval('instances_id_seq', 1)"
    if db.backend != "sqlite":
        found["for-update"] = f"SELECT id FROM instances WHERE id = {pk} FOR UPDATE"
    return found


def test_a_select_returns_the_rows(readonly):
    expected = readonly.fetchall("SELECT uuid, vm_state FROM instances ORDER BY id")
    result = runner.run("SELECT uuid, vm_state FROM instances ORDER BY id", max_rows=10_000)
    assert result.columns == ["uuid", "vm_state"]
    assert [tuple(row) for row in result.rows] == expected
    assert len(expected) >= 60 and not result.truncated


def test_every_kind_of_write_fails_at_the_server_and_changes_nothing(readonly):
    before = snapshot(readonly)
    for kind, sql in writes(readonly).items():
        is_query = sql.startswith("SELECT")
        with pytest.raises(runner.QueryFailed) as failed:
            runner.run(sql, max_rows=10, is_query=is_query)
        assert READ_ONLY_ERROR[readonly.backend].lower() in str(failed.value).lower(), (kind, str(failed.value))
        assert not failed.value.timed_out
    assert snapshot(readonly) == before


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT 1; UPDATE instances SET hostname = 'changed'",
        "COMMIT; SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE; UPDATE instances SET hostname = 'changed'",
        "SET SESSION TRANSACTION READ WRITE; UPDATE instances SET hostname = 'changed'",
        "ROLLBACK; UPDATE instances SET hostname = 'changed'; COMMIT",
    ],
    ids=["select-then-update", "pg-commit-then-read-write", "mysql-read-write-then-update", "rollback-update-commit"],
)
def test_a_multi_statement_string_fails_at_the_server_and_changes_nothing(readonly, sql):
    before = snapshot(readonly)
    for is_query in (False, True):
        with pytest.raises(runner.QueryFailed):
            runner.run(sql, max_rows=10, is_query=is_query)
    assert snapshot(readonly) == before


def test_a_session_setting_does_not_outlive_its_statement(readonly):
    """Each run has a connection of its own: a SET that switches to read-write changes nothing next time."""
    before = snapshot(readonly)
    pk = first_instance(readonly)
    switch = {
        "postgresql": "SET default_transaction_read_only = off",
        "mysql": "SET SESSION TRANSACTION READ WRITE",
        "sqlite": "PRAGMA query_only = 0",
    }[readonly.backend]
    runner.run(switch, max_rows=10, is_query=False)
    with pytest.raises(runner.QueryFailed) as failed:
        runner.run(f"UPDATE instances SET hostname = 'changed' WHERE id = {pk}", max_rows=10, is_query=False)
    assert READ_ONLY_ERROR[readonly.backend].lower() in str(failed.value).lower()
    assert snapshot(readonly) == before


SLOW = {
    "postgresql": "SELECT pg_sleep(30)",
    "mysql": "SELECT SLEEP(30)",
    "sqlite": "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c",
}


def test_a_slow_statement_stops_at_the_time_limit(readonly):
    with pytest.raises(runner.QueryFailed) as failed:
        runner.run(SLOW[readonly.backend], max_rows=10)
    assert failed.value.timed_out
    assert str(failed.value) == "stopped at the console's time limit of 1 s"


@pytest.mark.parametrize("cap", [1, 7, 59])
def test_the_row_cap_keeps_the_first_rows_and_says_there_are_more(readonly, cap):
    expected = readonly.fetchall("SELECT id FROM instances ORDER BY id")
    result = runner.run("SELECT id FROM instances ORDER BY id", max_rows=cap)
    assert [tuple(row) for row in result.rows] == expected[:cap]
    assert result.truncated == (len(expected) > cap)


def test_a_stream_stops_at_its_cap_and_reports_how_it_ended(readonly):
    ended = []
    rows = list(
        runner.stream("SELECT id FROM instances ORDER BY id", max_rows=5, on_close=lambda *args: ended.append(args))
    )
    assert rows[0] == ("id",) and len(rows) == 6
    assert ended == [(5, True, None)]


def test_sqlite_itself_refuses_a_hidden_column_and_attach(db_factory, nova_db_alias, tmp_path):
    """SQLite's authorizer (the other servers: the guard, or a read-only account's column grants)."""
    nova_db_alias(db_factory("sqlite", "dump"), alias=READONLY_ALIAS)
    connections.settings[READONLY_ALIAS] = readonly_database(connections.settings[READONLY_ALIAS])
    with pytest.raises(runner.QueryFailed, match="prohibited"):
        runner.run("SELECT secret_key FROM users", max_rows=10)
    with pytest.raises(runner.QueryFailed, match="not authorized"):
        runner.run(f"ATTACH DATABASE 'file:{tmp_path}/probe.sqlite3' AS probe", max_rows=10, is_query=False)
    assert not (tmp_path / "probe.sqlite3").exists()


def test_the_router_never_sends_a_model_to_the_readonly_alias():
    router = NovaRouter()
    models = [model for label in (*NOVA_APPS, "auth", "console") for model in apps.get_app_config(label).get_models()]
    for model in models:
        assert router.db_for_read(model) != READONLY_ALIAS
        assert router.db_for_write(model) != READONLY_ALIAS
        assert not router.allow_migrate(READONLY_ALIAS, model._meta.app_label, model._meta.model_name)
    assert READONLY_ALIAS in connections.settings
