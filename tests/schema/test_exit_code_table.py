"""The README's exit-code table, walked: every code it lists, triggered for every command on a real database.

The table is parsed from README.md; each (command, code) it lists has a trigger below that
makes a database (SQLite; the unreachable-server codes on MariaDB and PostgreSQL as well)
and runs the command. A code listed without a trigger, or a trigger whose code is not
listed, fails the test: the table and the commands cannot drift apart.
"""

from __future__ import annotations

import json
import re
import sqlite3

import pytest
from django.db import connections

from tests.support.backends import MYSQL_HOST, MYSQL_USER, PG_HOST, PG_PORT, PG_USER, REPO_ROOT, TestDatabase
from tests.support.commands import call


def readme_exit_codes() -> dict[str, dict[int, str]]:
    """``{command: {code: meaning}}`` from the README's "Exit codes" table (cells "-" left out)."""
    text = (REPO_ROOT / "README.md").read_text()
    section = text.split("### Exit codes", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("|")]
    header = [cell.strip() for cell in rows[0].strip("|").split("|")]
    table = {}
    for line in rows[2:]:
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        command = cells[0].strip("`")
        codes = zip(header[1:], cells[1:], strict=True)
        table[command] = {int(code): meaning for code, meaning in codes if meaning != "-"}
    return table


TABLE = readme_exit_codes()
CASES = [(command, code) for command, codes in TABLE.items() for code in codes]

# ---- databases in a known state ---------------------------------------------------------------


def _deleted_flavor(db):
    db.execute("UPDATE instance_types SET deleted = 1, deleted_at = '2020-01-01 00:00:00' WHERE flavorid = '5'")


def _null_deleted_flavor(db):
    db.execute("UPDATE instance_types SET deleted = NULL WHERE flavorid = '1'")


def _failing_flavor_update(db):
    _null_deleted_flavor(db)
    db.execute(
        "CREATE TRIGGER novatest_refuse BEFORE UPDATE ON instance_types BEGIN SELECT RAISE(ABORT, 'refused'); END"
    )


def _newer_version(db):
    db.execute("UPDATE migrate_version SET version = 83")


def _plan_file(tmp_path, **fields):
    plan = {"format": "novaweb-plan/1", "vendor": "sqlite", "fingerprint": "sha256:" + "0" * 64, "operations": []}
    path = tmp_path / "plan.json"
    path.write_text(json.dumps({**plan, **fields}))
    return str(path)


class Walk:
    """Fresh SQLite databases for one trigger: ``dump(*setups)`` (Nova Essex) or ``empty()``."""

    def __init__(self, db_factory, nova_db_alias, tmp_path):
        self.db_factory, self.nova_db_alias, self.tmp_path = db_factory, nova_db_alias, tmp_path
        self.urls = {}  # alias -> URL, for running the command as a process

    def register(self, db):
        alias = self.nova_db_alias(db)
        self.urls[alias] = db.url
        return alias

    def dump(self, *setups):
        db = self.db_factory("sqlite", "dump")
        for setup in setups:
            setup(db)
        return self.register(db)

    def empty(self):
        return self.register(self.db_factory("sqlite", "empty"))

    def on(self, backend, *setups):
        """An empty database on another backend, after ``setups``."""
        db = self.db_factory(backend, "empty")
        for setup in setups:
            setup(db)
        return self.register(db)

    def snapshot(self, *changes):
        """A snapshot of the Nova Essex dump (its directory), its data then changed by ``changes``."""
        alias = self.dump()
        out = self.tmp_path / "snapshots"
        result = call("db_snapshot", "--output", str(out), database=alias)
        assert result.code == 0, result
        path = result.out.strip()
        for change in changes:
            with sqlite3.connect(f"{path}/database.sqlite3") as data:
                data.execute(change)
        return path

    def synced(self, *indexes):
        """The Nova Essex dump after one db_sync per index of ``indexes`` dropped (and put back by the sync)."""
        alias = self.dump()
        with connections[alias].cursor() as cursor:
            for index in indexes:
                cursor.execute(f"DROP INDEX {index}")
                assert call("db_sync", database=alias).code == 0
        return alias

    def archived(self):
        alias = self.dump(_deleted_flavor)
        assert call("db_archive_deleted_rows", database=alias).code == 1
        return alias


PHASED_REFUSAL = {1: lambda w: (w.dump(_newer_version), [])}

#: (command, code) -> trigger(walk) -> (database alias, arguments)
TRIGGERS = {
    ("db_version", 0): lambda w: (w.dump(), []),
    ("db_version", 1): lambda w: (w.empty(), []),
    ("db_version", 2): lambda w: (w.dump(), ["--bogus"]),
    ("db_drift", 0): lambda w: (w.dump(), []),
    ("db_drift", 1): lambda w: (w.empty(), []),
    ("db_drift", 2): lambda w: (w.dump(), ["--format", "xml"]),
    ("db_sync", 0): lambda w: (w.dump(), []),
    ("db_sync", 1): lambda w: (w.dump(_newer_version), []),
    ("db_sync", 2): lambda w: (w.dump(), ["--version", "81"]),
    ("db_expand", 0): lambda w: (w.dump(), []),
    ("db_expand", 1): lambda w: (w.dump(_newer_version), []),
    ("db_expand", 2): lambda w: (w.dump(), ["--plan", _plan_file(w.tmp_path, fingerprint=12345)]),
    ("db_migrate", 0): lambda w: (w.dump(), []),
    ("db_migrate", 1): lambda w: (w.dump(_newer_version), []),
    ("db_migrate", 2): lambda w: (w.dump(), ["--plan", _plan_file(w.tmp_path, operations=5)]),
    ("db_contract", 0): lambda w: (w.dump(), []),
    ("db_contract", 1): lambda w: (w.dump(_newer_version), []),
    ("db_contract", 2): lambda w: (w.dump(), ["--plan", _plan_file(w.tmp_path, operations=[{"statements": [{}]}])]),
    ("db_archive_deleted_rows", 0): lambda w: (w.dump(), []),
    ("db_archive_deleted_rows", 1): lambda w: (w.dump(_deleted_flavor), []),
    ("db_archive_deleted_rows", 2): lambda w: (w.dump(), ["--max_rows", "0"]),
    ("db_archive_deleted_rows", 4): lambda w: (w.dump(), ["--before", "9999-12-31T23:59:59-01:00"]),
    ("db_purge", 0): lambda w: (w.archived(), ["--all"]),
    ("db_purge", 1): lambda w: (w.dump(), []),
    ("db_purge", 2): lambda w: (w.dump(), ["--before", "yesterday-ish"]),
    ("db_purge", 3): lambda w: (w.dump(), ["--all"]),
    ("db_online_data_migrations", 0): lambda w: (w.dump(), []),
    ("db_online_data_migrations", 1): lambda w: (w.dump(_null_deleted_flavor), ["--max-count", "1"]),
    ("db_online_data_migrations", 2): lambda w: (w.dump(_failing_flavor_update), []),
    ("db_online_data_migrations", 127): lambda w: (w.dump(), ["--max-count", "0"]),
    ("db_null_instance_uuid_scan", 0): lambda w: (w.dump(), []),
    ("db_null_instance_uuid_scan", 1): lambda w: (
        w.dump(lambda db: db.execute("INSERT INTO migrations (deleted, instance_uuid) VALUES (0, NULL)")),
        [],
    ),
    ("db_null_instance_uuid_scan", 2): lambda w: (w.empty(), []),
    ("db_add_indexes", 0): lambda w: (w.dump(), []),
    ("db_add_indexes", 2): lambda w: (w.empty(), []),
    ("db_schema_doc", 0): lambda w: (w.dump(), ["--format", "dot"]),
    ("db_schema_doc", 2): lambda w: (w.dump(), ["--format", "dot", "--table", "nope"]),
    ("db_undo", 0): lambda w: (w.synced("uuid"), []),
    ("db_undo", 1): lambda w: (w.synced("uuid", "project_id"), ["1"]),
    ("db_undo", 2): lambda w: (w.dump(), []),
    ("db_snapshot", 0): lambda w: (w.dump(), ["--output", str(w.tmp_path / "snapshots")]),
    ("db_snapshot", 1): lambda w: (w.on("mysql", *BROKEN_VIEW), ["--output", str(w.tmp_path / "snapshots")]),
    ("db_snapshot", 2): lambda w: (w.dump(), ["--tables", "nosuchtable"]),
    ("db_restore", 0): lambda w: (w.dump(), [w.snapshot(), "--verify-only"]),
    ("db_restore", 1): lambda w: (w.dump(), [w.snapshot(TAMPER), "--verify-only"]),
    ("db_restore", 2): lambda w: (w.dump(), [str(w.tmp_path), "--verify-only"]),
    ("seed_demo", 0): lambda w: (w.dump(), ["--instances", "1"]),
    ("seed_demo", 1): lambda w: (w.dump(lambda db: _seed(db)), ["--instances", "1"]),
    ("seed_demo", 2): lambda w: (w.dump(), ["--instances", "abc"]),
    ("export_inventory", 0): lambda w: (w.dump(), ["network", "--output", str(w.tmp_path / "f.csv")]),
    ("export_inventory", 2): lambda w: (w.dump(), ["instance", "--filter", "secret_key=x"]),
}
#: mariadb-dump fails on a view whose table is gone
BROKEN_VIEW = [
    lambda db: db.execute("CREATE TABLE novatest_t (a INT)"),
    lambda db: db.execute("CREATE VIEW novatest_v AS SELECT a FROM novatest_t"),
    lambda db: db.execute("DROP TABLE novatest_t"),
]
TAMPER = "UPDATE instance_types SET name = 'tampered' WHERE flavorid = '1'"
#: a server that cannot be reached, per backend (every way is in test_command_errors)
UNREACHABLE = {
    "mysql": f"mysql://{MYSQL_USER}@{MYSQL_HOST}:1/nova",
    "postgresql": f"postgres://{PG_USER}@{PG_HOST}:{PG_PORT}/novatest_no_such_database",
    "sqlite": "sqlite:////nonexistent/novatest/nova.sqlite3",
}
#: codes a process shows (a pipe closed under it), walked by their own tests below
WALKED_AS_PROCESSES = {("export_inventory", 1)}
#: commands on Django's own database (walked as processes, before and after `migrate`)
DJANGO_SIDE = ("demo_user", "novaweb_roles")
ARGS_255 = {
    "db_purge": lambda w: ["--all"],
    "seed_demo": lambda w: ["--instances", "1"],
    "export_inventory": lambda w: ["instance", "--output", str(w.tmp_path / "i.csv")],
    "db_restore": lambda w: [w.snapshot(), "--verify-only"],
}


def _seed(db):
    db.execute("INSERT INTO instances (deleted, uuid, hostname, instance_type_id) VALUES (0, 'a-uuid', 'existing', 1)")


@pytest.fixture
def walk(db_factory, nova_db_alias, tmp_path):
    return Walk(db_factory, nova_db_alias, tmp_path)


def test_the_table_lists_every_command_and_every_trigger():
    from django.core.management import get_commands

    ours = {name for name, app in get_commands().items() if app in ("schema", "inventory")}
    assert set(TABLE) == ours
    walked = set(TRIGGERS) | {(c, 255) for c in TABLE if 255 in TABLE[c]} | WALKED_AS_PROCESSES
    assert walked == {(c, code) for c, code in CASES if c not in DJANGO_SIDE}


@pytest.mark.parametrize(("command", "code"), [case for case in CASES if case in TRIGGERS])
def test_each_listed_code(command, code, walk):
    alias, args = TRIGGERS[command, code](walk)
    result = call(command, *args, database=alias)
    assert result.code == code, result
    assert "Traceback" not in result.err
    if code:
        assert len(result.err.strip().splitlines()) <= 1 or command == "db_online_data_migrations", result.err


def _offers_json(command):
    from django.core.management import load_command_class

    parser = load_command_class("schema" if command.startswith("db_") else "inventory", command).create_parser(
        "manage.py", command
    )
    action = parser._option_string_actions.get("--format")
    return bool(action and "json" in action.choices)


@pytest.mark.parametrize(
    ("command", "code"),
    [case for case in CASES if case in TRIGGERS and case[1] and _offers_json(case[0])],
)
def test_each_listed_code_with_format_json_writes_json(command, code, walk, run_manage):
    alias, args = TRIGGERS[command, code](walk)
    if "--format" in args:
        pytest.skip("the case is a bad --format")
    result = run_manage(command, *args, "--format", "json", env={"NOVA_DATABASE_URL": walk.urls[alias]})
    assert result.returncode == code, result
    answer = json.loads(result.stdout)
    if "error" in answer:
        assert answer["exit_code"] == code and answer["error"] in result.stderr


@pytest.mark.parametrize("backend", list(UNREACHABLE))
@pytest.mark.parametrize("command", [c for c in TABLE if 255 in TABLE[c]])
def test_255_unreachable(command, backend, nova_db_alias, walk):
    args = ARGS_255[command](walk) if command in ARGS_255 else []
    alias = nova_db_alias(TestDatabase(backend, "unreachable", UNREACHABLE[backend]))
    result = call(command, *args, database=alias)
    assert result.code == 255, result
    assert re.fullmatch(rf"error: cannot connect to the '{alias}' database \(.*\): .*; check .*\n", result.err)


def test_django_side_commands(run_manage):
    # demo_user and novaweb_roles work on Django's own database, before and after `migrate`
    assert (TABLE["demo_user"].keys(), TABLE["novaweb_roles"].keys()) == ({0, 1, 2}, {0, 2})
    assert run_manage("demo_user").returncode == 1
    assert run_manage("novaweb_roles").returncode == 2
    assert run_manage("demo_user", "--bogus").returncode == 2
    assert run_manage("novaweb_roles", "--bogus").returncode == 2
    assert run_manage("migrate", "--verbosity", "0").returncode == 0
    assert run_manage("demo_user").returncode == 0
    assert run_manage("novaweb_roles").returncode == 0


def test_export_inventory_exits_1_when_its_reader_stops(walk):
    """``export_inventory ... | head``: the reader closed the pipe before the end, and the exit code says so."""
    import os
    import subprocess
    import sys

    from tests.support.backends import REPO_ROOT

    alias, _ = walk.dump(), None
    assert call("seed_demo", "--instances", "2000", database=alias).code == 0
    env = {k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE")}
    env["NOVA_DATABASE_URL"] = walk.urls[alias]
    env["DATABASE_URL"] = f"sqlite:///{walk.tmp_path / 'django.sqlite3'}"
    proc = subprocess.Popen(
        [sys.executable, str(REPO_ROOT / "manage.py"), "export_inventory", "instance"],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout.read(100)  # the reader takes the first line or so, then stops
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 1, err
    assert "stdout closed before the export ended" in err
