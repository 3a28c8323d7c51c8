"""Issue 10, rules 2-4: strict MySQL sessions, tables outside the models, restorable backups.

- every MySQL/MariaDB session novaweb opens is strict, whatever its URL says;
- archive refuses (exit 2, one line) a shadow table that cannot hold the rows,
  on a session the URL made non-strict, and moves nothing;
- ``db_sync`` drops no table it does not model unless named with
  ``--drop-table``; a database of Django's own tables is refused (exit 2);
- backup tables have lowercase names that the README's unquoted restore reads.
"""

from __future__ import annotations

import datetime
import re

import pytest
from django.db import connections

from tests.support.backends import catalog, quote
from tests.support.commands import backups_made, call

README_RESTORE = re.compile(r"restore with\s+`(INSERT INTO t \(cols\) SELECT cols FROM novaweb_backup_\.\.\.)`")


def non_strict(alias, mode=""):
    """Make ``alias`` open its sessions with ``sql_mode=mode`` (``''``: an Essex-era server's default)."""
    settings = connections.settings[alias]
    settings.setdefault("OPTIONS", {})["init_command"] = f"SET SESSION sql_mode = '{mode}'"
    connections[alias].close()


@pytest.mark.parametrize("backend", ["mysql"])
@pytest.mark.parametrize("server_mode", ["", "NO_BACKSLASH_ESCAPES", "ANSI_QUOTES,NO_ENGINE_SUBSTITUTION"])
def test_every_mysql_session_is_strict_whatever_the_url_says(backend, make_db, nova_db_alias, server_mode):
    db = make_db("empty")
    alias = nova_db_alias(db)
    non_strict(alias, server_mode)
    with connections[alias].cursor() as cursor:
        cursor.execute("SELECT @@SESSION.sql_mode")
        modes = set(cursor.fetchone()[0].split(","))
        assert "STRICT_ALL_TABLES" in modes
        assert "NO_BACKSLASH_ESCAPES" not in modes
        # and the server now refuses to cut a value instead of warning
        cursor.execute("CREATE TABLE t (id int primary key, v varchar(3))")
        with pytest.raises(Exception, match="too long|Data truncated"):
            cursor.execute("INSERT INTO t VALUES (1, 'abcdef')")


@pytest.mark.parametrize("backend", ["mysql"])
@pytest.mark.parametrize("width", ["VARCHAR(5)", "VARCHAR(12)", "TEXT"])
def test_archive_refuses_a_shadow_table_too_narrow_for_the_rows(backend, make_db, nova_db_alias, width):
    db = make_db("dump")
    alias = nova_db_alias(db)
    non_strict(alias)
    assert call("db_sync", database=alias).code == 0
    db.execute("CREATE TABLE shadow_instances LIKE instances")
    db.execute(
        "ALTER TABLE shadow_instances MODIFY id int NOT NULL, DROP PRIMARY KEY, "
        "ADD COLUMN shadow_id int NOT NULL AUTO_INCREMENT PRIMARY KEY FIRST"
    )
    db.execute(f"ALTER TABLE shadow_instances MODIFY hostname {width}")
    gone = datetime.datetime(2012, 1, 1)
    db.execute(
        "INSERT INTO instances (id, uuid, hostname, deleted, deleted_at) VALUES (7, 'u7', 'proxy-0000007', 1, %s)",
        (gone,),
    )
    result = call("db_archive_deleted_rows", database=alias, max_rows=1000)
    if width == "VARCHAR(5)":
        assert result.code == 2, result
        assert result.err.count("\n") == 1 and "shadow_instances.hostname" in result.err
        assert db.fetchall("SELECT hostname FROM instances WHERE id = 7") == [("proxy-0000007",)]
        assert db.fetchall("SELECT COUNT(*) FROM shadow_instances") == [(0,)]
    else:  # wide enough (VARCHAR(12) is not: 13 characters would not fit, so it is refused too)
        expected = 2 if width == "VARCHAR(12)" else 1
        assert result.code == expected, result
        if expected == 1:
            assert db.fetchall("SELECT hostname FROM shadow_instances") == [("proxy-0000007",)]
            assert db.fetchall("SELECT COUNT(*) FROM instances WHERE id = 7") == [(0,)]


def test_archive_checks_shadow_columns_on_every_backend(backend, make_db, nova_db_alias):
    """A shadow column narrower than the live one is refused before a row moves (exit 2)."""
    db = make_db("dump")
    alias = nova_db_alias(db)
    q = lambda name: quote(backend, name)  # noqa: E731
    db.execute(
        f"CREATE TABLE {q('shadow_s3_images')} ({q('shadow_id')} integer primary key, id integer, "
        f"uuid varchar(3), created_at {'timestamp' if backend == 'postgresql' else 'datetime'}, "
        "updated_at varchar(30), deleted_at varchar(30), deleted integer)"
    )
    p = db.placeholder
    db.execute(
        f"INSERT INTO s3_images (id, uuid, deleted, deleted_at) VALUES (1, 'abcdef', {p}, {p})",
        (True, datetime.datetime(2012, 1, 1)),
    )
    result = call("db_archive_deleted_rows", database=alias, max_rows=10)
    assert result.code == 2, result
    assert "shadow_s3_images" in result.err and "Traceback" not in result.err
    assert db.fetchall("SELECT uuid FROM s3_images") == [("abcdef",)]


# ---- tables outside the models -----------------------------------------------------------------
def test_an_unmodelled_table_and_its_view_are_left_alone(backend, make_db, nova_db_alias):
    db = make_db("dump")
    alias = nova_db_alias(db)
    db.execute("CREATE TABLE other_app (id integer primary key, what varchar(20))")
    db.execute("CREATE TABLE other_empty (id integer)")
    db.execute("INSERT INTO other_app (id, what) VALUES (1, 'keep me')")
    db.execute("CREATE VIEW other_view AS SELECT what FROM other_app")
    for flag in (False, True):
        result = call("db_sync", database=alias, allow_destructive=flag)
        assert result.code == 0, result.err
        assert "Left table other_app alone" in result.out and "Left table other_empty alone" in result.out
    assert {"other_app", "other_empty"} <= set(catalog(db))
    assert db.fetchall("SELECT what FROM other_view") == [("keep me",)]
    drift = call("db_drift", database=alias)
    assert drift.code == 1 and "other_app" in drift.out  # still reported
    as_json = call("db_sync", database=alias, format="json")
    assert as_json.code == 0 and '"kept_tables"' in as_json.out


def test_drop_table_by_name_backs_up_and_refuses_what_it_must_not_drop(backend, make_db, nova_db_alias):
    db = make_db("dump")
    alias = nova_db_alias(db)
    db.execute("CREATE TABLE other_empty (id integer)")
    db.execute("CREATE TABLE other_full (id integer, what varchar(10))")
    db.execute("INSERT INTO other_full (id, what) VALUES (1, 'a'), (2, 'b')")
    for name, reason in (("instances", "one of Nova's tables"), ("nope", "no such table")):
        bad = call("db_sync", database=alias, drop_table=[name])
        assert bad.code == 2 and reason in bad.err
    # an empty table goes by name without the flag; a full one needs the flag too
    assert call("db_sync", database=alias, drop_table=["other_empty"]).code == 0
    assert "other_empty" not in catalog(db)
    refused = call("db_sync", database=alias, drop_table=["other_full"])
    assert refused.code == 1 and "drop table other_full: 2 rows would be lost" in refused.err
    done = call("db_sync", database=alias, drop_table=["other_full"], allow_destructive=True)
    assert done.code == 0, done.err
    (backup,) = backups_made(done)
    assert sorted(db.fetchall(f"SELECT id, what FROM {backup}")) == [(1, "a"), (2, "b")]


def test_a_database_of_djangos_own_tables_is_refused(backend, make_db, nova_db_alias):
    db = make_db("empty")
    db.execute("CREATE TABLE django_migrations (id integer primary key, app varchar(255))")
    db.execute("CREATE TABLE auth_user (id integer primary key, username varchar(150))")
    db.execute("CREATE TABLE django_session (session_key varchar(40) primary key)")
    alias = nova_db_alias(db)
    for flag in (False, True):
        result = call("db_sync", database=alias, allow_destructive=flag)
        assert result.code == 2 and "not a Nova database" in result.err
    assert {"django_migrations", "auth_user", "django_session"} == set(catalog(db))


# ---- backups the README's restore reads --------------------------------------------------------
def test_backup_names_are_lowercase_and_the_readme_restore_runs_as_written(backend, make_db, nova_db_alias):
    from tests.support.backends import REPO_ROOT

    (template,) = README_RESTORE.findall((REPO_ROOT / "README.md").read_text())
    db = make_db("dump")
    alias = nova_db_alias(db)
    db.execute("CREATE TABLE Junk_Table (id integer, what varchar(10))")
    db.execute("INSERT INTO Junk_Table (id, what) VALUES (1, 'x'), (2, 'y')")
    live_name = [t for t in catalog(db) if t.lower() == "junk_table"][0]
    done = call("db_sync", database=alias, drop_table=[live_name], allow_destructive=True)
    assert done.code == 0, done.err
    (backup,) = backups_made(done)
    assert re.fullmatch(r"novaweb_backup_[a-z0-9_]+_\d{8}_\d{6}", backup), backup
    db.execute("CREATE TABLE restored (id integer, what varchar(10))")
    sql = template.replace("INSERT INTO t", "INSERT INTO restored").replace("cols", "id, what")
    sql = sql.replace("novaweb_backup_...", backup)
    db.execute(sql)  # unquoted, as the README writes it
    assert sorted(db.fetchall("SELECT id, what FROM restored")) == [(1, "x"), (2, "y")]


@pytest.mark.parametrize("what", ["instances", "Instances", "a/b", 'x"; DROP TABLE instances; --', "é" * 80])
def test_backup_table_name_is_a_plain_lowercase_identifier(what):
    from schema.backup import MAX_NAME, backup_table_name

    name = backup_table_name(what, datetime.datetime(2026, 11, 30, 13, 26, 20))
    assert re.fullmatch(r"novaweb_backup_[a-z0-9_]+_20261130_132620", name), name
    assert len(name) <= MAX_NAME
    assert backup_table_name(what.upper() + "!") != name


# ---- what the hostile run found ----------------------------------------------------------------
@pytest.mark.parametrize("backend", ["mysql"])
def test_an_extra_json_column_goes_with_its_check_and_is_backed_up(backend, make_db, nova_db_alias):
    """MariaDB's JSON column carries a column-level CHECK that cannot be dropped on its own."""
    db = make_db("dump")
    alias = nova_db_alias(db)
    db.execute("ALTER TABLE s3_images ADD COLUMN extra JSON, ADD COLUMN note varchar(10)")
    db.execute("""INSERT INTO s3_images (id, uuid, extra, note) VALUES (1, 'u1', '{"a": 1}', 'n')""")
    for _ in range(2):  # a retry finds the same plan; nothing piles up
        assert call("db_sync", database=alias, dry_run=True).code == 0
    done = call("db_sync", database=alias, allow_destructive=True)
    assert done.code == 0, done.err
    backups = backups_made(done)
    assert len(backups) == 2
    extra = next(b for b in backups if "_extra_" in b)
    assert db.fetchall(f"SELECT id, extra FROM {extra}") == [(1, '{"a": 1}')]
    assert call("db_drift", database=alias).code == 0


@pytest.mark.parametrize("backend", ["sqlite"])
def test_a_sqlite_rebuild_keeps_other_applications_triggers_and_views(backend, make_db, nova_db_alias):
    db = make_db("dump")
    alias = nova_db_alias(db)
    db.execute("CREATE TABLE audit (what text)")
    db.execute("CREATE TRIGGER s3_audit AFTER UPDATE ON s3_images BEGIN INSERT INTO audit VALUES ('u'); END")
    db.execute("CREATE VIEW s3_view AS SELECT id, uuid FROM s3_images")
    db.execute("ALTER TABLE s3_images ADD COLUMN note varchar(10)")  # dropping it rebuilds the table
    db.execute("INSERT INTO s3_images (id, uuid) VALUES (1, 'u1')")
    done = call("db_sync", database=alias, allow_destructive=True)
    assert done.code == 0, done.err
    assert db.fetchall("SELECT name FROM sqlite_master WHERE type = 'trigger'") == [("s3_audit",)]
    db.execute("UPDATE s3_images SET uuid = 'u2' WHERE id = 1")
    assert db.fetchall("SELECT what FROM audit") == [("u",)]
    assert db.fetchall("SELECT id, uuid FROM s3_view") == [(1, "u2")]
