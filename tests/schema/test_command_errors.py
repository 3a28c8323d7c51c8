"""Bad input: one clear line, the documented exit code, never a traceback."""

import pytest

from tests.support.commands import call


def _one_line_no_traceback(stderr):
    assert "Traceback" not in stderr
    assert len(stderr.strip().splitlines()) == 1, stderr


@pytest.mark.parametrize("command", ["db_sync", "db_version", "db_drift"])
def test_malformed_nova_database_url_exits_2(command, run_manage):
    result = run_manage(command, env={"NOVA_DATABASE_URL": "nosuchscheme://x"})
    assert result.returncode == 2
    assert "NOVA_DATABASE_URL" in result.stderr
    _one_line_no_traceback(result.stderr)


@pytest.mark.parametrize("url", ["mysql://root@127.0.0.1:1/nova", "postgres://postgres@127.0.0.1:1/nova"])
def test_unreachable_server_exits_1(url, run_manage):
    result = run_manage("db_drift", env={"NOVA_DATABASE_URL": url})
    assert result.returncode == 1
    assert "cannot connect to the 'nova' database" in result.stderr
    _one_line_no_traceback(result.stderr)


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
    "command", ["db_null_instance_uuid_scan", "db_add_indexes", "db_online_data_migrations", "db_archive_deleted_rows"]
)
def test_housekeeping_on_a_database_without_nova_schema_exits_2_not_1(command, run_manage):
    # exit 1 means "work done, run me again" to automation: an empty database must not loop it
    result = run_manage(command)
    assert result.returncode == 2
    assert "has no Nova schema (no instances table)" in result.stderr
    _one_line_no_traceback(result.stderr)


def test_demo_user_before_migrate_says_what_to_do(run_manage):
    result = run_manage("demo_user")
    assert result.returncode == 1
    assert "run `manage.py migrate` first" in result.stderr
    _one_line_no_traceback(result.stderr)
