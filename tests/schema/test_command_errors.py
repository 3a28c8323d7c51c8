"""Bad input: one clear line, the documented exit code, never a traceback."""

import json
from pathlib import Path

import pytest

from tests.support.backends import (
    MYSQL_HOST,
    MYSQL_PORT,
    MYSQL_USER,
    PG_HOST,
    PG_PORT,
    PG_USER,
    TestDatabase,
    read_only_user,
)
from tests.support.commands import call

SECRET = "s3cret-Pw"


def _one_line_no_traceback(stderr):
    assert "Traceback" not in stderr
    assert len(stderr.strip().splitlines()) == 1, stderr


@pytest.mark.parametrize("command", ["db_sync", "db_version", "db_drift"])
def test_malformed_nova_database_url_exits_2(command, run_manage):
    result = run_manage(command, env={"NOVA_DATABASE_URL": "nosuchscheme://x"})
    assert result.returncode == 2
    assert "NOVA_DATABASE_URL" in result.stderr
    _one_line_no_traceback(result.stderr)


#: A server that cannot be reached, each way it happens (PostgreSQL's test server trusts every
#: password, so a role that does not exist stands for wrong credentials there).
UNREACHABLE = {
    "mysql-closed-port": f"mysql://{MYSQL_USER}@{MYSQL_HOST}:1/nova",
    "mysql-wrong-password": f"mysql://{MYSQL_USER}:{SECRET}@{MYSQL_HOST}:{MYSQL_PORT}/mysql",
    "mysql-missing-database": f"mysql://{MYSQL_USER}@{MYSQL_HOST}:{MYSQL_PORT}/novatest_no_such_database",
    "postgresql-closed-port": f"postgres://{PG_USER}@{PG_HOST}:1/nova",
    "postgresql-wrong-user": f"postgres://novatest_no_such_role:{SECRET}@{PG_HOST}:{PG_PORT}/postgres",
    "postgresql-missing-database": f"postgres://{PG_USER}@{PG_HOST}:{PG_PORT}/novatest_no_such_database",
    "sqlite-missing-directory": "sqlite:////nonexistent/novatest/nova.sqlite3",
    "sqlite-parent-is-a-file": f"sqlite:///{Path(__file__).resolve()}/nova.sqlite3",
}
#: Every command that opens the Nova database, with the arguments that get it that far.
DATABASE_COMMANDS = {
    "db_version": [],
    "db_drift": [],
    "db_sync": [],
    "db_expand": [],
    "db_migrate": [],
    "db_contract": [],
    "db_sync --dry-run": ["--dry-run"],
    "db_archive_deleted_rows": [],
    "db_purge": ["--all"],
    "db_online_data_migrations": ["--max-count", "10"],
    "db_null_instance_uuid_scan": [],
    "db_add_indexes": [],
    "db_schema_doc": ["--format", "json"],
    "seed_demo": ["--instances", "1"],
}


@pytest.mark.parametrize("case", UNREACHABLE)
@pytest.mark.parametrize("command", DATABASE_COMMANDS)
def test_unreachable_database_exits_255_naming_alias_and_host(command, case, nova_db_alias):
    # exit 1 would make automation loop forever on a server that is down
    url = UNREACHABLE[case]
    alias = nova_db_alias(TestDatabase(case.split("-")[0], "unreachable", url))
    result = call(command.split()[0], *DATABASE_COMMANDS[command], database=alias)
    assert result.code == 255, result
    _one_line_no_traceback(result.err)
    assert f"cannot connect to the '{alias}' database" in result.err
    assert SECRET not in result.err + result.out
    where = url.rsplit("/", 1)[0].split("///")[-1] if case.startswith("sqlite") else url.split("@")[1].split("/")[0]
    assert where in result.err and "check " in result.err


@pytest.mark.parametrize("case", ["mysql-wrong-password", "postgresql-closed-port", "sqlite-missing-directory"])
def test_unreachable_database_as_a_process(case, run_manage):
    result = run_manage("db_archive_deleted_rows", "--max_rows", "5", env={"NOVA_DATABASE_URL": UNREACHABLE[case]})
    assert (result.returncode, result.stdout) == (255, "")
    _one_line_no_traceback(result.stderr)
    assert "cannot connect to the 'nova' database" in result.stderr and "NOVA_DATABASE_URL" in result.stderr
    assert SECRET not in result.stderr


def test_unknown_database_alias_exits_2(run_manage):
    result = run_manage("db_version", "--database", "nosuch")
    assert result.returncode == 2
    assert "unknown database alias 'nosuch'" in result.stderr
    _one_line_no_traceback(result.stderr)


def test_db_version_on_a_database_not_under_version_control(backend, make_db, nova_db_alias):
    alias = nova_db_alias(make_db("empty"))
    result = call("db_version", database=alias)
    assert result.code == 1
    assert "not under version control" in result.err
    assert result.out == ""


def test_db_version_without_nova_row(backend, make_db, nova_db_alias):
    db = make_db("dump")
    db.execute("DELETE FROM migrate_version")
    result = call("db_version", database=nova_db_alias(db))
    assert result.code == 1
    assert "no 'nova' row" in result.err


def test_db_version_prints_the_bare_number_as_a_process(db_factory, run_manage):
    result = run_manage("db_version", db=db_factory("sqlite", "dump"))
    assert (result.returncode, result.stdout, result.stderr) == (0, "82\n", "")


def test_django_migrate_never_creates_tables_in_the_nova_database(run_manage, db_factory):
    nova = db_factory("sqlite", "empty")
    result = run_manage("migrate", "--noinput", db=nova)
    assert result.returncode == 0, result.stderr
    assert nova.fetchall("SELECT name FROM sqlite_master WHERE type = 'table'") == []


@pytest.mark.parametrize(
    "command",
    [
        "db_null_instance_uuid_scan",
        "db_add_indexes",
        "db_online_data_migrations",
        "db_archive_deleted_rows",
        "db_purge --all",
        "db_purge --before 2026-01-01",
        "seed_demo",
    ],
)
def test_housekeeping_on_a_database_without_nova_schema_exits_2_not_1(command, run_manage):
    # exit 1 means "work done, run me again" to automation; purge's 3 would say "nothing purged"
    result = run_manage(*command.split())
    assert result.returncode == 2
    assert "has no Nova schema (no instances table)" in result.stderr
    _one_line_no_traceback(result.stderr)


def test_demo_user_before_migrate_says_what_to_do(run_manage):
    result = run_manage("demo_user")
    assert result.returncode == 1
    assert "run `manage.py migrate` first" in result.stderr
    _one_line_no_traceback(result.stderr)


@pytest.mark.parametrize(
    ("args", "code", "says"),
    [
        (["db_sync", "--version", "abc"], 2, "argument --version: invalid int value: 'abc'"),
        (["db_drift", "--format", "xml"], 2, "argument --format: invalid choice: 'xml'"),
        (["seed_demo", "--instances", "abc"], 2, "argument --instances: invalid int value: 'abc'"),
        (["db_version", "--bogus"], 2, "unrecognized arguments: --bogus"),
        (["db_archive_deleted_rows", "--sleep", "soon"], 2, "argument --sleep: invalid float value"),
        (["db_online_data_migrations", "--format", "xml"], 127, "argument --format: invalid choice"),
        (["db_online_data_migrations", "--max-count"], 127, "expected one argument"),
        (["db_purge", "--before", "9999-12-31T23:59:59-01:00"], 2, "out of range"),
        (["db_archive_deleted_rows", "--before", "9999-12-31T23:59:59-01:00"], 4, "out of range"),
    ],
)
def test_usage_errors_are_one_line_without_the_usage(args, code, says, run_manage):
    result = run_manage(*args)
    assert (result.returncode, result.stdout) == (code, "")
    _one_line_no_traceback(result.stderr)
    assert says in result.stderr and "usage:" not in result.stderr


def test_usage_error_with_format_json_is_json_on_stdout(run_manage):
    result = run_manage("db_drift", "--format", "json", "--bogus")
    assert result.returncode == 2
    assert json.loads(result.stdout) == {"error": result.stderr.strip().removeprefix("error: "), "exit_code": 2}


def test_max_count_beyond_any_table_is_no_limit(backend, make_db, nova_db_alias):
    # Nova accepts any positive integer; a LIMIT past 64 bits used to fail every migration (exit 2)
    db = make_db("dump")
    db.execute("UPDATE instance_types SET deleted = NULL")
    alias = nova_db_alias(db)
    result = call("db_online_data_migrations", "--max-count", "99999999999999999999", database=alias)
    assert result.code == 1, result
    assert "Error" not in result.err
    assert db.fetchall("SELECT COUNT(*) FROM instance_types WHERE deleted IS NULL") == [(0,)]
    again = call("db_online_data_migrations", "--max-count", str(2**64), database=alias)
    assert again.code == 0, again


def test_db_sync_format_json_refusing_an_uncontrolled_database_writes_json(backend, make_db, nova_db_alias):
    db = make_db("dump")
    db.execute("DROP TABLE migrate_version")
    db.execute("ALTER TABLE instances ADD COLUMN novatest_extra INTEGER")
    result = call("db_sync", "--format", "json", database=nova_db_alias(db))
    assert result.code == 1
    answer = json.loads(result.out)
    assert answer["exit_code"] == 1 and "not under version control" in answer["error"]
    assert [(d["table"], d["kind"]) for d in answer["differences"]] == [("instances", "extra_column")]
    _one_line_no_traceback(result.err)


@pytest.mark.parametrize("case", ["mysql-wrong-password", "postgresql-missing-database"])
def test_db_restore_into_an_unreachable_database_exits_255(case, db_factory, nova_db_alias, tmp_path):
    alias = nova_db_alias(db_factory("sqlite", "dump"))
    snapshot = call("db_snapshot", "--output", str(tmp_path), database=alias)
    assert snapshot.code == 0, snapshot
    result = call("db_restore", snapshot.out.strip(), "--into", UNREACHABLE[case], database=alias)
    assert result.code == 255, result
    _one_line_no_traceback(result.err)
    assert "--into: cannot connect to the" in result.err and SECRET not in result.err


#: commands that change the database, and what they need to get that far
CHANGING_COMMANDS = {
    "db_add_indexes": ({}, None),
    "db_archive_deleted_rows": ({}, "UPDATE instance_types SET deleted = {true} WHERE id = 5"),
    "db_null_instance_uuid_scan": ({"delete": True}, "INSERT INTO migrations (id) VALUES (1)"),
}


@pytest.mark.parametrize("backend", ["mysql", "postgresql"])
@pytest.mark.parametrize("command", CHANGING_COMMANDS)
def test_a_user_without_the_privilege_gets_one_line_and_exit_2_not_255(backend, make_db, nova_db_alias, command):
    db = make_db("dump")
    options, setup = CHANGING_COMMANDS[command]
    if setup:
        db.execute(setup.format(true="TRUE" if backend == "postgresql" else "1"))
    with read_only_user(db) as reader:
        alias = nova_db_alias(reader)
        result = call(command, database=alias, **options)
    assert result.code == 2, result.err
    _one_line_no_traceback(result.err)
    assert f"database ({backend} novatest_reader_" in result.err
    assert "refused the change: " in result.err and "unexpected" not in result.err
