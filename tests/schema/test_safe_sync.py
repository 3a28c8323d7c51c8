"""Issue 3: the safe declarative sync (expand / migrate / contract), on all three backends.

Drift is made with raw SQL on a clone of the reference dump; what the
commands did is read back with the tests' own catalog queries.
"""

import json
import os
import subprocess
import sys
import time

import pytest

from tests.support.backends import REPO_ROOT, catalog, quote, rows
from tests.support.commands import backups_made, call

S3_IMAGES_SQLITE = (
    "CREATE TABLE s3_images (created_at DATETIME, updated_at DATETIME, deleted_at DATETIME{deleted_at}, "
    "deleted BOOLEAN, id INTEGER NOT NULL, uuid {uuid}, PRIMARY KEY (id), CHECK (deleted IN (0, 1)))"
)
INSTANCE_METADATA_SQLITE_NO_FK = (
    "CREATE TABLE instance_metadata (created_at DATETIME, updated_at DATETIME, deleted_at DATETIME, deleted BOOLEAN, "
    'id INTEGER NOT NULL, instance_id INTEGER NOT NULL, "key" VARCHAR(255), value VARCHAR(255), PRIMARY KEY (id), '
    "CHECK (deleted IN (0, 1)))"
)
AGGREGATES_SQLITE_NO_UNIQUE = (
    "CREATE TABLE aggregates (created_at DATETIME, updated_at DATETIME, deleted_at DATETIME, deleted BOOLEAN, "
    "id INTEGER NOT NULL, name VARCHAR(255), operational_state VARCHAR(255) NOT NULL, "
    "availability_zone VARCHAR(255) NOT NULL, PRIMARY KEY (id), CHECK (deleted IN (0, 1)))"
)


def reshape_s3_uuid(db, type_sql, *, nullable, deleted_at_not_null=False):
    """Give s3_images.uuid another type/nullability (and deleted_at NOT NULL) the backend's way."""
    null = "" if nullable else " NOT NULL"
    if db.backend == "sqlite":
        db.execute("DROP TABLE s3_images")
        db.execute(S3_IMAGES_SQLITE.format(uuid=type_sql + null, deleted_at=" NOT NULL" if deleted_at_not_null else ""))
    elif db.backend == "mysql":
        db.execute(f"ALTER TABLE s3_images MODIFY uuid {type_sql}{null or ' NULL'}")
        if deleted_at_not_null:
            db.execute("ALTER TABLE s3_images MODIFY deleted_at datetime NOT NULL")
    else:
        db.execute(f"ALTER TABLE s3_images ALTER COLUMN uuid TYPE {type_sql}")
        db.execute(f"ALTER TABLE s3_images ALTER COLUMN uuid {'DROP' if nullable else 'SET'} NOT NULL")
        if deleted_at_not_null:
            db.execute("ALTER TABLE s3_images ALTER COLUMN deleted_at SET NOT NULL")


def drop_index(db, table, name):
    db.execute(f"DROP INDEX {name} ON {table}" if db.backend == "mysql" else f"DROP INDEX {name}")


def make_every_kind_of_drift(db):
    """One drifted database: (kind, phase) of each operation the plan must hold."""
    b = db.backend
    drop_index(db, "instances", "project_id")  # create_index, expand
    reshape_s3_uuid(db, "varchar(20)", nullable=True, deleted_at_not_null=True)  # widen + relax, tighten
    db.execute("ALTER TABLE s3_images ADD COLUMN note varchar(10)")  # drop_column, contract
    db.execute("CREATE INDEX ix_hostname ON instances (hostname)")  # drop_index, contract
    db.execute("CREATE TABLE junk (id integer)")  # left alone: dropped only with --drop-table junk
    db.execute("CREATE UNIQUE INDEX ux_file_name ON certificates (file_name)")  # drop unique index, migrate
    if b == "sqlite":
        db.execute("DROP TABLE instance_metadata")
        db.execute(INSTANCE_METADATA_SQLITE_NO_FK)
        db.execute("DROP TABLE aggregates")
        db.execute(AGGREGATES_SQLITE_NO_UNIQUE)
    elif b == "mysql":
        db.execute("ALTER TABLE instance_metadata DROP FOREIGN KEY instance_metadata_ibfk_1")
        db.execute("DROP INDEX name ON aggregates")
    else:
        db.execute("ALTER TABLE instance_metadata DROP CONSTRAINT instance_metadata_instance_id_fkey")
        db.execute("ALTER TABLE aggregates DROP CONSTRAINT aggregates_name_key")
    if b != "sqlite":
        db.execute("ALTER TABLE certificates ALTER COLUMN file_name SET DEFAULT 'x'")  # default, migrate
    expected = {
        ("create_index", "expand", "instances", "project_id"),
        ("alter_column", "expand", "s3_images", "uuid"),  # widen varchar(20) -> varchar(36)
        ("alter_column", "expand", "s3_images", "deleted_at"),  # relax
        ("add_foreign_key", "migrate", "instance_metadata", "instance_id"),
        ("drop_index", "migrate", "certificates", "ux_file_name"),
        ("alter_column", "contract", "s3_images", "uuid"),  # tighten
        ("drop_column", "contract", "s3_images", "note"),
        ("drop_index", "contract", "instances", "ix_hostname"),
    }
    expected.add(("create_index", "migrate", "aggregates", "name") if b == "mysql" else ("add_unique", "migrate"))
    if b != "sqlite":
        expected.add(("alter_column", "migrate", "certificates", "file_name"))
    return expected


def plan_of(alias, command="db_sync"):
    result = call(command, database=alias, dry_run=True, format="json")
    assert result.code == 0, result.err
    return json.loads(result.out)


def test_every_kind_is_planned_phased_and_applied_with_phase_refusals(backend, make_db, nova_db_alias):
    db = make_db("dump")
    expected = make_every_kind_of_drift(db)
    alias = nova_db_alias(db)

    plan = plan_of(alias)
    got = {(op["kind"], op["phase"], op["table"], op["object"]) for op in plan["operations"]}
    got = {op if op[0] != "add_unique" else ("add_unique", "migrate") for op in got}
    assert got == expected
    phases = [op["phase"] for op in plan["operations"]]
    assert phases == sorted(phases, key=["expand", "migrate", "contract"].index)
    assert plan["fingerprint"].startswith("sha256:") and len(plan["fingerprint"]) == 7 + 64

    # --dry-run changes nothing, for every command
    before = catalog(db)
    for command in ("db_sync", "db_expand", "db_migrate", "db_contract"):
        assert call(command, database=alias, dry_run=True).code == 0
    assert catalog(db) == before

    # phases out of order are refused, saying which work is pending
    migrate = call("db_migrate", database=alias)
    assert migrate.code == 1 and "expand (3 operations) work is pending: run db_expand first" in migrate.err
    contract = call("db_contract", database=alias)
    assert contract.code == 1 and "expand" in contract.err and "migrate" in contract.err
    assert catalog(db) == before

    expand = call("db_expand", database=alias)
    assert expand.code == 0, expand.err
    assert "run db_migrate next" in expand.out
    after_expand = catalog(db)
    assert after_expand["instances"]["indexes"]["project_id"] == (False, ("project_id",))
    s3_columns = {c[0]: c for c in after_expand["s3_images"]["columns"]}
    assert "36" in s3_columns["uuid"][1] and s3_columns["uuid"][2] is True  # widened, still nullable
    assert s3_columns["deleted_at"][2] is True  # relaxed
    assert "note" in s3_columns and "junk" in after_expand  # nothing contracted yet

    refused = call("db_sync", database=alias)
    assert refused.code == 1 and "run db_contract first" in refused.err
    assert call("db_contract", database=alias).code == 1  # migrate work pending

    assert call("db_migrate", database=alias).code == 0
    fks = catalog(db)["instance_metadata"]["foreign_keys"]
    assert (("instance_id",), "instances", ("id",)) in fks

    contract = call("db_contract", database=alias)
    assert contract.code == 0, contract.err
    assert "Schema synced to version 82" in contract.out
    assert "Left table junk alone" in contract.out
    assert "junk" in catalog(db)
    assert call("db_drift", database=alias).code == 1  # junk is still reported
    dropped = call("db_sync", database=alias, drop_table=["junk"])
    assert dropped.code == 0, dropped.err
    final = catalog(db)
    assert "junk" not in final and "novaweb_sync_state" not in final
    assert "note" not in [c[0] for c in final["s3_images"]["columns"]]
    assert "ix_hostname" not in final["instances"]["indexes"]
    assert call("db_drift", database=alias).code == 0
    assert [r[2] for r in rows(db, "migrate_version", "repository_id")] == [82]


def test_destructive_change_refused_without_flag_and_backed_up_with_it(backend, make_db, nova_db_alias):
    db = make_db("dump")
    p = db.placeholder
    db.execute("ALTER TABLE s3_images ADD COLUMN note varchar(10)")
    for i, note in enumerate(["kept", None, "also"], start=1):
        db.execute(f"INSERT INTO s3_images (id, uuid, note) VALUES ({p}, {p}, {p})", (i, f"u{i}", note))
    db.execute("CREATE TABLE junk (id integer, what varchar(10))")
    db.execute("INSERT INTO junk (id, what) VALUES (1, 'a'), (2, 'b'), (3, 'c')")
    alias = nova_db_alias(db)
    before = catalog(db)

    refused = call("db_sync", database=alias, drop_table=["junk"])
    assert refused.code == 1
    assert "drop column s3_images.note: 2 non-null values would be lost" in refused.err
    assert "drop table junk: 3 rows would be lost" in refused.err
    assert "--allow-destructive" in refused.err
    assert catalog(db) == before
    assert call("db_contract", database=alias, drop_table=["junk"]).code == 1

    done = call("db_sync", database=alias, allow_destructive=True, drop_table=["junk"])
    assert done.code == 0, done.err
    backups = set(backups_made(done))
    assert len(backups) == 2
    by_what = {name.split("_2")[0]: name for name in backups}
    note_backup = by_what["novaweb_backup_s3_images_note"]
    assert sorted(db.fetchall(f"SELECT id, note FROM {quote(backend, note_backup)}")) == [(1, "kept"), (3, "also")]
    junk_backup = by_what["novaweb_backup_junk"]
    assert sorted(db.fetchall(f"SELECT id, what FROM {quote(backend, junk_backup)}")) == [(1, "a"), (2, "b"), (3, "c")]
    after = catalog(db)
    assert "junk" not in after
    # a backup has a primary key of its own (Galera's rule), so it can hold the same row twice
    assert {after[name]["primary_key"] for name in backups} == {("novaweb_backup_id",)}
    # the backups are novaweb's own tables: no drift
    assert call("db_drift", database=alias).code == 0


def test_tightening_with_nulls_and_narrowing_that_does_not_fit_are_refused_even_with_flag(
    backend, make_db, nova_db_alias
):
    db = make_db("dump")
    reshape_s3_uuid(db, "varchar(64)", nullable=True)
    p = db.placeholder
    db.execute(f"INSERT INTO s3_images (id, uuid) VALUES (1, {p}), (2, NULL), (3, 'short')", ("x" * 50,))
    alias = nova_db_alias(db)
    before = catalog(db)

    result = call("db_sync", database=alias, allow_destructive=True)
    assert result.code == 1
    assert "tighten s3_images.uuid to NOT NULL: 1 NULLs" in result.err
    assert "narrow s3_images.uuid from varchar(64) to varchar(36): 1 values that do not fit" in result.err
    assert "even with --allow-destructive" in result.err
    assert catalog(db) == before

    # once the data fits, the same change goes through without the flag: nothing is lost
    db.execute("UPDATE s3_images SET uuid = 'fixed' WHERE uuid IS NULL OR id = 1")
    assert call("db_sync", database=alias).code == 0
    assert call("db_drift", database=alias).code == 0


def test_not_null_column_without_default_is_added_nullable_then_tightened(backend, make_db, nova_db_alias):
    db = make_db("dump")
    if backend == "sqlite":
        db.execute("DROP TABLE s3_images")
        db.execute(S3_IMAGES_SQLITE.format(uuid="VARCHAR(36)", deleted_at="").replace(", uuid VARCHAR(36)", ""))
    else:
        db.execute("ALTER TABLE s3_images DROP COLUMN uuid")
    db.execute("INSERT INTO s3_images (id) VALUES (1)")
    alias = nova_db_alias(db)
    ops = [(op["kind"], op["phase"], op["change"]) for op in plan_of(alias)["operations"]]
    assert ops == [("add_column", "expand", None), ("alter_column", "contract", "tighten")]
    refused = call("db_sync", database=alias)
    assert refused.code == 1 and "tighten s3_images.uuid to NOT NULL: 1 NULLs" in refused.err
    # expand alone is safe: the column arrives nullable, old rows keep working
    assert call("db_expand", database=alias).code == 0
    assert db.fetchall("SELECT id, uuid FROM s3_images") == [(1, None)]


def test_killed_sync_converges_on_the_next_run(backend, make_db, nova_db_alias):
    db = make_db("dump")
    make_every_kind_of_drift(db)
    alias = nova_db_alias(db)
    statements = [s["sql"] for op in plan_of(alias)["operations"] for s in op["statements"]]
    assert len(statements) >= 10
    # the first half ran, one by one (as MySQL commits each DDL), then the process died
    for sql in statements[: len(statements) // 2]:
        db.execute(sql)
    db.execute("DROP TABLE junk")  # not the plan's: a table outside the models is left alone
    result = call("db_sync", database=alias)
    assert result.code == 0, result.err
    assert call("db_drift", database=alias).code == 0
    assert [r[2] for r in rows(db, "migrate_version", "repository_id")] == [82]


def test_uncontrolled_database_is_put_under_version_control_when_it_matches(backend, make_db, nova_db_alias):
    db = make_db("dump")
    db.execute("DROP TABLE migrate_version")
    alias = nova_db_alias(db)
    assert call("db_version", database=alias).code == 1
    result = call("db_sync", database=alias)
    assert result.code == 0, result.err
    assert "not under version control" in result.out and "now under version control at version 82" in result.out
    assert rows(db, "migrate_version", "repository_id")[0][2] == 82
    assert call("db_drift", database=alias).code == 0


def test_uncontrolled_database_that_differs_is_told_what_differs(backend, make_db, nova_db_alias):
    db = make_db("dump")
    db.execute("DELETE FROM migrate_version")
    db.execute("ALTER TABLE s3_images ADD COLUMN note varchar(10)")
    alias = nova_db_alias(db)
    before = catalog(db)
    result = call("db_sync", database=alias)
    assert result.code == 1
    assert "not under version control" in result.err and "differs from the models" in result.err
    assert "s3_images" in result.out and "extra_column" in result.out and "note" in result.out
    assert catalog(db) == before and rows(db, "migrate_version", "repository_id") == []


def test_version_bookkeeping_and_exit_codes(backend, make_db, nova_db_alias):
    db = make_db("dump")
    alias = nova_db_alias(db)
    bad = call("db_sync", database=alias, version=81)
    assert bad.code == 2 and "version 82 only" in bad.err
    ok = call("db_sync", database=alias, version=82)
    assert (ok.code, ok.out.strip()) == (0, "Nothing to do: the schema is at version 82.")
    db.execute("UPDATE migrate_version SET version = 83")
    newer = call("db_sync", database=alias)
    assert newer.code == 1 and "this tool is older than that database" in newer.err
    assert call("db_sync", database=alias, plan="/nonexistent/plan.json").code == 1  # still the newer database
    db.execute("UPDATE migrate_version SET version = 82")
    assert call("db_sync", database=alias, plan="/nonexistent/plan.json").code == 2


def test_plan_file_applies_when_unchanged_and_stale_plan_is_refused(backend, make_db, nova_db_alias, tmp_path):
    db = make_db("dump")
    drop_index(db, "instances", "project_id")
    alias = nova_db_alias(db)
    plan_file = tmp_path / "plan.json"
    plan_file.write_text(json.dumps(plan_of(alias)))

    db.execute("ALTER TABLE s3_images ADD COLUMN note varchar(10)")  # the schema moves on
    before = catalog(db)
    stale = call("db_sync", database=alias, plan=str(plan_file))
    assert stale.code == 1 and "the live schema has changed since the plan was made" in stale.err
    assert catalog(db) == before

    plan_file.write_text(json.dumps(plan_of(alias, "db_expand")))
    applied = call("db_expand", database=alias, plan=str(plan_file))
    assert applied.code == 0, applied.err
    assert "project_id" in catalog(db)["instances"]["indexes"]


@pytest.mark.parametrize("backend", ["postgresql"])
def test_postgresql_creates_indexes_concurrently(backend, make_db, nova_db_alias):
    db = make_db("dump")
    drop_index(db, "instances", "project_id")
    alias = nova_db_alias(db)
    dry = call("db_expand", database=alias, dry_run=True)
    assert 'CREATE INDEX CONCURRENTLY "project_id" ON "instances" ("project_id");' in dry.out.splitlines()
    plan = plan_of(alias, "db_expand")
    assert plan["operations"][0]["statements"][0]["transactional"] is False
    assert call("db_expand", database=alias).code == 0
    assert catalog(db)["instances"]["indexes"]["project_id"] == (False, ("project_id",))
    assert db.fetchall("SELECT indisvalid FROM pg_index WHERE indexrelid = 'project_id'::regclass") == [(True,)]


@pytest.mark.parametrize("backend", ["postgresql"])
def test_postgresql_replaces_an_invalid_index_left_by_a_failed_concurrent_build(backend, make_db, nova_db_alias):
    db = make_db("dump")
    drop_index(db, "instances", "project_id")
    db.execute("INSERT INTO instances (id, project_id, deleted) VALUES (1, 'p', false), (2, 'p', false)")
    with pytest.raises(Exception, match="could not create unique index"):
        db.execute("CREATE UNIQUE INDEX CONCURRENTLY project_id ON instances (project_id)")
    assert db.fetchall("SELECT indisvalid FROM pg_index WHERE indexrelid = 'project_id'::regclass") == [(False,)]
    alias = nova_db_alias(db)
    drift = call("db_drift", database=alias)
    assert drift.code == 1 and "missing_index" in drift.out
    assert call("db_sync", database=alias).code == 0
    assert db.fetchall("SELECT indisvalid, indisunique FROM pg_index WHERE indexrelid = 'project_id'::regclass") == [
        (True, False)
    ]
    assert call("db_drift", database=alias).code == 0


@pytest.mark.parametrize("backend", ["mysql"])
def test_mariadb_adds_indexes_in_place_and_falls_back_with_a_warning(backend, make_db, nova_db_alias):
    db = make_db("dump")
    drop_index(db, "instances", "project_id")
    alias = nova_db_alias(db)
    dry = call("db_expand", database=alias, dry_run=True)
    assert (
        "ALTER TABLE `instances` ADD INDEX `project_id` (`project_id`), ALGORITHM=INPLACE, LOCK=NONE;"
        in dry.out.splitlines()
    )
    done = call("db_expand", database=alias)
    assert done.code == 0 and "warning" not in done.err
    assert catalog(db)["instances"]["indexes"]["project_id"] == (False, ("project_id",))

    # a MyISAM table cannot: the plain statement runs, with a warning
    db.execute("ALTER TABLE fixed_ips ENGINE=MyISAM")
    drop_index(db, "fixed_ips", "network_id")
    fallback = call("db_expand", database=alias)
    assert fallback.code == 0, fallback.err
    assert "warning: the online form was refused" in fallback.err
    assert "ALTER TABLE `fixed_ips` ADD INDEX `network_id` (`network_id`)" in fallback.err
    assert catalog(db)["fixed_ips"]["indexes"]["network_id"] == (False, ("network_id",))


def start_manage(tmp_path, name, *args, db):
    """``manage.py`` as its own process (the way run_manage runs it), output to files."""
    env = dict(os.environ)
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env.update(
        {
            "DATABASE_URL": f"sqlite:///{tmp_path / (name + '-django.sqlite3')}",
            "NOVA_DATABASE_URL": db.url,
            "NOVA_REPLICA_DATABASE_URL": "",
            "PYTHONUNBUFFERED": "1",
        }
    )
    out, err = tmp_path / f"{name}.out", tmp_path / f"{name}.err"
    with out.open("w") as stdout, err.open("w") as stderr:
        proc = subprocess.Popen(
            [sys.executable, str(REPO_ROOT / "manage.py"), *args], cwd=REPO_ROOT, env=env, stdout=stdout, stderr=stderr
        )
    return proc, out, err


def test_two_concurrent_syncs_serialize_on_the_lock(backend, make_db, nova_db_alias, tmp_path):
    from django.db import connections

    from schema.locking import SyncLock

    db = make_db("empty")
    alias = nova_db_alias(db)
    # hold the database's sync lock while both processes start, so that they really meet
    holder = SyncLock(connections[alias])
    holder.__enter__()
    try:
        runs = [start_manage(tmp_path, f"sync{i}", "db_sync", db=db) for i in (1, 2)]
        deadline = time.monotonic() + 60
        while not all("waiting" in out.read_text() for _, out, _ in runs):
            assert time.monotonic() < deadline, [out.read_text() + err.read_text() for _, out, err in runs]
            assert all(proc.poll() is None for proc, _, _ in runs)
            time.sleep(0.1)
    finally:
        holder.__exit__(None, None, None)
    outputs = []
    for proc, out, err in runs:
        assert proc.wait(timeout=120) == 0, err.read_text()
        outputs.append(out.read_text())
    assert all("Waited" in text for text in outputs)
    assert sum("Schema synced to version 82: " in text for text in outputs) == 1
    assert sum("Nothing to do: the schema is at version 82." in text for text in outputs) == 1
    assert rows(db, "migrate_version", "repository_id") == [
        ("nova", "/usr/lib/python2.7/dist-packages/nova/db/sqlalchemy/migrate_repo", 82)
    ]
    assert len(rows(db, "instance_types", "id")) == 5
    assert call("db_drift", database=alias).code == 0
