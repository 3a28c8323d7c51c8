"""A database made by another Nova release is named in one line by db_drift and db_sync."""

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from schema.versioning import MIGRATE_RELEASES, migrate_release
from tests.support.commands import call

ESSEX = "novaweb models Essex, version 82"


@pytest.mark.parametrize(
    ("version", "release"),
    [
        (46, "Nova Diablo"),
        (30, "Nova Diablo or older"),
        (82, "Nova Essex"),
        (100, "Nova Folsom (versions 83-133)"),
        (133, "Nova Folsom"),
        (161, "Nova Grizzly"),
        (216, "Nova Havana"),
        (254, "Nova Juno"),
        (402, "Nova Train"),
        (422, "Nova Xena"),
        (430, "newer than Nova Xena, the last release on sqlalchemy-migrate"),
    ],
)
def test_known_versions_name_their_release(version, release):
    assert migrate_release(version) == release


@given(st.integers(min_value=1, max_value=MIGRATE_RELEASES[-1][0]))
def test_every_version_belongs_to_the_first_release_that_reaches_it(version):
    lasts = [last for last, _ in MIGRATE_RELEASES]
    name = next(name for last, name in MIGRATE_RELEASES if version <= last)
    assert migrate_release(version).startswith(f"Nova {name}")
    assert lasts == sorted(set(lasts))


@pytest.mark.parametrize(("version", "release"), [(46, "Nova Diablo"), (83, "Nova Folsom (versions 83-133)")])
def test_db_drift_names_a_migrate_version_in_one_line(version, release, backend, make_db, nova_db_alias):
    db = make_db("dump")
    db.execute(f"UPDATE migrate_version SET version = {version}")
    alias = nova_db_alias(db)
    result = call("db_drift", database=alias)
    assert result.code == 1
    lines = result.out.splitlines()
    assert lines[0] == f"Nova main database at sqlalchemy-migrate version {version}, {release}; {ESSEX}."
    assert ("run db_sync" in lines[-1]) is (version < 82)  # above 82 db_sync refuses: not advised
    assert ("db_sync refuses it" in lines[-1]) is (version > 82)
    data = json.loads(call("db_drift", "--format", "json", database=alias).out)
    assert data["release"]["marker"] == str(version) and data["release"]["newer"] is (version > 82)


def test_db_drift_and_db_sync_name_an_alembic_database(backend, make_db, nova_db_alias):
    db = make_db("dump")
    db.execute("DROP TABLE migrate_version")
    db.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY)")
    db.execute("INSERT INTO alembic_version (version_num) VALUES ('960aac0e09ea')")
    alias = nova_db_alias(db)
    named = f"Nova main database managed by alembic, revision 960aac0e09ea (Nova 2023.1 Antelope); {ESSEX}"
    drift = call("db_drift", database=alias)
    assert drift.code == 1 and drift.out.splitlines()[0] == named + "."
    assert "db_sync refuses it" in drift.out and "run db_sync" not in drift.out
    assert len(drift.out.splitlines()) == 2  # named, not listed (--verbose lists the differences)
    for command in ("db_sync", "db_expand", "db_contract"):
        sync = call(command, database=alias)
        assert (sync.code, sync.out) == (1, ""), sync
        assert sync.err.startswith(named) and len(sync.err.splitlines()) == 1
    assert db.fetchall("SELECT version_num FROM alembic_version") == [("960aac0e09ea",)]


def test_an_unknown_alembic_revision_is_still_named(make_db, nova_db_alias):
    db = make_db("dump", backend="sqlite")
    db.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY)")
    db.execute("INSERT INTO alembic_version VALUES ('abcdef123456')")
    result = call("db_sync", "--dry-run", database=nova_db_alias(db))
    assert result.code == 1
    assert result.err.startswith(f"Nova main database managed by alembic, revision abcdef123456; {ESSEX}")


def test_db_sync_names_an_older_release_and_syncs_it(backend, make_db, nova_db_alias):
    db = make_db("dump")
    db.execute("UPDATE migrate_version SET version = 46")
    result = call("db_sync", database=nova_db_alias(db))
    assert result.code == 0, result
    assert result.out.splitlines()[0] == f"Nova main database at sqlalchemy-migrate version 46, Nova Diablo; {ESSEX}"
    assert db.fetchall("SELECT version FROM migrate_version") == [(82,)]
