"""Issue 12: every sync is recorded and can be undone; values come back byte for byte.

The pre-sync state is read with the tests' own catalog queries and rows,
and with a full db_snapshot (server checksums); after db_undo all three must
equal what they were.
"""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time

import pytest

from tests.schema.snapshot_support import all_rows, data_file_with, edit_sqlite_snapshot, manifest, seed
from tests.schema.test_safe_sync import reshape_s3_uuid
from tests.support.backends import REPO_ROOT, catalog
from tests.support.commands import call


def drift_destructively(db):
    """Drift that db_sync undoes destructively: an extra column with values, an extra table with rows, an
    extra index, a missing index and (MySQL, PostgreSQL) a NOT NULL the models do not have."""
    b = db.backend
    after = " AFTER hostname" if b == "mysql" else ""  # MySQL can put it back in the middle: test that
    db.execute(f"ALTER TABLE instances ADD COLUMN note varchar(20){after}")
    db.execute("UPDATE instances SET note = hostname WHERE id % 3 = 0")
    db.execute("CREATE TABLE junk (id integer NOT NULL PRIMARY KEY, what varchar(10))")
    db.execute("INSERT INTO junk (id, what) VALUES (1, 'a'), (2, NULL), (3, 'ç')")
    db.execute("CREATE INDEX ix_hostname ON instances (hostname)")
    db.execute("DROP INDEX project_id ON instances" if b == "mysql" else "DROP INDEX project_id")
    if b == "mysql":
        db.execute("ALTER TABLE instances MODIFY hostname varchar(255) NOT NULL")
    elif b == "postgresql":
        db.execute("ALTER TABLE instances ALTER COLUMN hostname SET NOT NULL")


def state(db):
    """Schema (columns by name where a backend cannot put a column back in place) and every row."""
    schema = catalog(db)
    schema = {t: v for t, v in schema.items() if not t.startswith(("novaweb_backup_", "novaweb_sync_"))}
    if db.backend != "mysql":
        for table in schema.values():
            table["columns"] = sorted(table["columns"])
    return schema, {t: all_rows(db, t) for t in ("instances", "fixed_ips", "junk", "s3_images") if t in schema}


def checksums(alias, tmp_path):
    path = call("db_snapshot", database=alias, output=str(tmp_path)).out.strip()
    return {
        t["name"]: (t["rows"], t["checksum"]) for t in manifest(path)["tables"] if not t["name"].startswith("novaweb_")
    }


def test_destructive_sync_with_snapshot_then_undo_gives_back_schema_and_rows(backend, make_db, nova_db_alias, tmp_path):
    db = make_db("dump")
    seed(db)
    drift_destructively(db)
    alias = nova_db_alias(db)
    before, before_sums = state(db), checksums(alias, tmp_path / "before")
    drift_before = json.loads(call("db_drift", database=alias, format="json").out)["differences"]

    sync = call(
        "db_sync",
        database=alias,
        allow_destructive=True,
        snapshot=True,
        snapshot_dir=str(tmp_path / "sync"),
        drop_table=["junk"],
        format="json",
    )
    assert sync.code == 0, sync.err
    done = json.loads(sync.out)
    assert done["snapshot"].startswith(str(tmp_path / "sync")) and done["snapshot"] in sync.err
    assert [t["name"] for t in manifest(done["snapshot"])["tables"]] == ["instances", "junk"]  # touched only
    assert "note" not in [c[0] for c in catalog(db)["instances"]["columns"]] and "junk" not in catalog(db)
    assert call("db_drift", database=alias).code == 0

    dry = call("db_undo", database=alias, dry_run=True)
    assert dry.code == 0, dry.err
    assert "put back note of instances from novaweb_backup_instances_note" in dry.out
    assert "insert the rows of junk back from novaweb_backup_junk" in dry.out
    assert state(db)[0] != before[0]  # a dry run changes nothing

    undo = call("db_undo", database=alias)
    assert undo.code == 0, undo.out + undo.err
    assert f"Sync {done['sync_id']} undone" in undo.out
    assert "equal to the snapshot" in undo.out
    assert state(db) == before
    assert checksums(alias, tmp_path / "after") == before_sums
    assert json.loads(call("db_drift", database=alias, format="json").out)["differences"] == drift_before

    again = call("db_undo", database=alias)
    assert again.code == 2 and "undone already" in again.err


def test_undo_restores_from_the_snapshot_when_no_inverse_keeps_the_data(backend, make_db, nova_db_alias, tmp_path):
    db = make_db("dump")
    reshape_s3_uuid(db, "varchar(36)", nullable=False, deleted_at_not_null=True)
    p = db.placeholder
    for i in range(1, 6):
        db.execute(f"INSERT INTO s3_images (id, uuid, deleted_at) VALUES ({p}, {p}, {p})", (i, f"u{i}", "2012-01-01"))
    alias = nova_db_alias(db)
    before = state(db)
    expand = call("db_expand", database=alias, snapshot=True, snapshot_dir=str(tmp_path))
    assert expand.code == 0, expand.err
    assert [c[2] for c in catalog(db)["s3_images"]["columns"] if c[0] == "deleted_at"] == [True]  # relaxed
    # new code writes a NULL: tightening again would refuse, so only the snapshot gets the table back
    db.execute("UPDATE s3_images SET deleted_at = NULL WHERE id = 2")
    dry = call("db_undo", database=alias, dry_run=True)
    assert "restore s3_images from the sync's snapshot" in dry.out
    undo = call("db_undo", database=alias)
    assert undo.code == 0, undo.out + undo.err
    assert "No inverse keeps the data: tighten s3_images.deleted_at to NOT NULL: 1 NULLs" in undo.out
    assert state(db) == before


def test_undo_without_a_snapshot_refuses_what_only_a_snapshot_could_do(backend, make_db, nova_db_alias):
    db = make_db("dump")
    reshape_s3_uuid(db, "varchar(36)", nullable=False, deleted_at_not_null=True)
    alias = nova_db_alias(db)
    assert call("db_expand", database=alias).code == 0
    db.execute("INSERT INTO s3_images (id, uuid) VALUES (1, 'u1')")
    refused = call("db_undo", database=alias)
    assert refused.code == 1 and "the sync took no snapshot" in refused.err
    assert call("db_undo", 99, database=alias).code == 2


def manage_env(db, tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE")}
    return {**env, "NOVA_DATABASE_URL": db.url, "DATABASE_URL": f"sqlite:///{tmp_path / 'django.sqlite3'}"}


@pytest.mark.parametrize("backend", ["mysql"])
def test_a_sync_killed_half_way_can_be_undone_and_rolled_forward(backend, make_db, nova_db_alias, tmp_path):
    db = make_db("dump")
    seed(db)
    drift_destructively(db)
    db.execute("CREATE INDEX ix_fixed_host ON fixed_ips (host)")
    alias = nova_db_alias(db)
    before = state(db)
    # another session holds a metadata lock on fixed_ips: the sync's statement on it waits there
    blocker = db.connect()
    blocker.autocommit(False)
    blocker.cursor().execute("SELECT COUNT(*) FROM fixed_ips")
    command = ["db_sync", "--allow-destructive", "--drop-table", "junk", "--snapshot", "--snapshot-dir", str(tmp_path)]
    proc = subprocess.Popen(
        [sys.executable, str(REPO_ROOT / "manage.py"), *command],
        cwd=REPO_ROOT,
        env=manage_env(db, tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        waiting = _wait_for(
            db,
            "SELECT ID FROM information_schema.PROCESSLIST WHERE DB = %s AND INFO LIKE %s "
            "AND STATE LIKE 'Waiting for table metadata lock'",
            (db.name, "%fixed_ips%"),
        )
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        db.execute(f"KILL {waiting[0][0]}")  # the statement the dead process was waiting on never runs
    finally:
        blocker.rollback()
        blocker.close()
        if proc.poll() is None:
            proc.kill()
    assert db.fetchall("SELECT id, status FROM novaweb_sync_history") == [(1, "running")]  # never finished
    started = [row[0] for row in db.fetchall("SELECT statement FROM novaweb_sync_statements ORDER BY seq")]
    assert "fixed_ips" in started[-1]  # the history names the statement the run was in when it died
    assert not any("fixed_ips" in sql for sql in started[:-1])
    history = call("db_undo", database=alias, dry_run=True)
    assert f"killed or failed half-way: {len(started) - 1} of " in history.out
    assert call("db_drift", database=alias).code == 1  # half-way

    undo = call("db_undo", database=alias)
    assert undo.code == 0, undo.out + undo.err
    assert "killed or failed half-way" in undo.out
    assert state(db) == before

    forward = call("db_sync", database=alias, allow_destructive=True, drop_table=["junk"])
    assert forward.code == 0, forward.err
    assert call("db_drift", database=alias).code == 0


@pytest.mark.parametrize("backend", ["mysql"])
@pytest.mark.parametrize(
    "statement",
    [
        "CREATE TABLE `broken` (",  # refused before the server's implicit commit (it cannot parse it)
        "CREATE TABLE `instances` (id int)",  # refused after it (the table exists)
        "ALTER TABLE `no_such_table` ADD COLUMN x int",
    ],
)
def test_a_statement_the_server_refuses_leaves_its_row_committed_and_no_transaction_open(
    backend, make_db, nova_db_alias, statement
):
    """MySQL: each planned DDL's history row commits with the server's implicit commit of the DDL.
    When the server refuses the statement, the row is still committed (the statement "may or may
    not have run") and the session is left with no transaction open, so the sync's "failed"
    status, written next, commits too."""
    from django.db import DatabaseError, connections

    from schema import sync_history
    from schema.statements import Statement

    db = make_db("dump")
    alias = nova_db_alias(db)
    connection = connections[alias]
    record = sync_history.start(connection, "db_sync", plan={}, before_schema={})
    recorder = sync_history.StatementRecorder(connection, record, [Statement(statement)])
    with connection.execute_wrapper(recorder), pytest.raises(DatabaseError), connection.cursor() as cursor:
        cursor.execute(statement)
    with connection.cursor() as cursor:
        cursor.execute("SELECT @@in_transaction")
        assert cursor.fetchone()[0] == 0
    sync_history.finish(connection, record, sync_history.FAILED)
    # another session sees both: the row of the refused statement, and the failure
    assert db.fetchall("SELECT seq, statement FROM novaweb_sync_statements") == [(1, statement)]
    assert db.fetchall("SELECT status FROM novaweb_sync_history") == [("failed",)]


def _wait_for(db, sql, params, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rows = db.fetchall(sql, params)
        if rows:
            return rows
        time.sleep(0.1)
    raise AssertionError(f"nothing came of {sql} within {timeout}s")


@pytest.mark.parametrize("backend", ["mysql", "sqlite"])  # the backends that let a foreign key name a missing table
def test_undo_of_a_sync_that_recreated_a_parent_table_dropped_with_the_checks_off(backend, make_db, nova_db_alias):
    """An operator dropped ``instances`` with the foreign-key checks off; db_sync recreated it.
    Undoing that sync drops it again, leaving its children's foreign keys as they were."""
    db = make_db("dump")
    if backend == "mysql":
        db.execute("SET FOREIGN_KEY_CHECKS = 0; DROP TABLE instances; SET FOREIGN_KEY_CHECKS = 1")
    else:
        db.execute("DROP TABLE instances")
    alias = nova_db_alias(db)
    before = state(db)
    synced = call("db_sync", database=alias)
    assert synced.code == 0, synced.err
    assert "instances" in catalog(db)

    undone = call("db_undo", database=alias, last=True)

    assert undone.code == 0, undone.err
    assert state(db) == before
    assert call("db_sync", database=alias).code == 0  # and forward again


@pytest.mark.django_db
def test_the_admin_schema_page_shows_the_history_with_the_undo_command(backend, make_db, nova_db_alias, admin_client):
    db = make_db("dump")
    alias = nova_db_alias(db, alias="nova")
    assert "No sync recorded yet" in admin_client.get("/admin/schema/").content.decode()
    db.execute("DROP INDEX project_id ON instances" if backend == "mysql" else "DROP INDEX project_id")
    assert call("db_expand", database=alias).code == 0
    db.execute("CREATE TABLE junk_x (id integer primary key)")
    assert call("db_sync", database=alias, drop_table=["junk_x"]).code == 0
    page = admin_client.get("/admin/schema/").content.decode()
    records = re.findall(r'<tr class="sync-record"><td>(\d+)</td><td><code>(\w+)</code>.*?</tr>', page)
    assert records == [("2", "db_sync"), ("1", "db_expand")]
    assert page.count('<code class="undo-command">./manage.py db_undo 2</code>') == 1
    assert call("db_undo", database=alias).code == 0
    page = admin_client.get("/admin/schema/").content.decode()
    assert "db_undo 2<" not in page and '<code class="undo-command">./manage.py db_undo 1</code>' in page


#: a history row edited by hand: (column, value) -> what the refusal names
DAMAGED_ROWS = {
    "plan cut short": ("plan", '{"operations": [', "plan is not JSON"),
    "plan not an object": ("plan", "[]", "plan is not a JSON object"),
    "before_schema emptied": ("before_schema", "{}", "before_schema is not a schema"),
    "backups not a list": ("backups", '{"backup": "x"}', "backups is not a JSON array"),
    "status made up": ("status", "done", "status 'done' is none of"),
}


@pytest.mark.parametrize("damage", DAMAGED_ROWS)
def test_a_history_row_edited_by_hand_is_refused_with_one_line_and_nothing_changed(
    backend, make_db, nova_db_alias, damage
):
    db = make_db("dump")
    db.execute("DROP INDEX project_id ON instances" if backend == "mysql" else "DROP INDEX project_id")
    alias = nova_db_alias(db)
    assert call("db_sync", database=alias).code == 0
    column, value, named = DAMAGED_ROWS[damage]
    db.execute(f"UPDATE novaweb_sync_history SET {column} = {db.placeholder}", (value,))
    before = catalog(db)

    for dry_run in (True, False):
        refused = call("db_undo", database=alias, dry_run=dry_run)
        assert refused.code == 2, refused.err
        assert refused.err.count("\n") == 1 and named in refused.err and "sync 1's row" in refused.err
        assert "unexpected" not in refused.err
    assert catalog(db) == before


@pytest.mark.django_db
def test_the_admin_schema_page_shows_a_history_row_that_cannot_be_read(backend, make_db, nova_db_alias, admin_client):
    db = make_db("dump")
    alias = nova_db_alias(db, alias="nova")
    db.execute("DROP INDEX project_id ON instances" if backend == "mysql" else "DROP INDEX project_id")
    assert call("db_sync", database=alias).code == 0
    db.execute("UPDATE novaweb_sync_history SET plan = '[1, 2]', backups = 'not json'")
    response = admin_client.get("/admin/schema/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "its row cannot be read (plan is not a JSON object; backups is not JSON)" in page
    assert "undo-command" not in page


#: what an operator did by hand to the backup table a destructive sync made
BACKUP_DAMAGE = {
    "dropped": ("DROP TABLE {backup}", "is gone"),
    "emptied": ("DELETE FROM {backup}", "holds 0 rows, the sync put 5 there"),
    "column dropped": ("ALTER TABLE {backup} DROP COLUMN extra_note", "lacks extra_note"),
}


def destructive_sync_of_a_noted_column(db, alias, **options):
    """instance_types.extra_note, one value per flavor, dropped by db_sync --allow-destructive: its backup's name."""
    db.execute("ALTER TABLE instance_types ADD COLUMN extra_note varchar(40)")
    db.execute("UPDATE instance_types SET extra_note = name")
    sync = call("db_sync", database=alias, allow_destructive=True, **options)
    assert sync.code == 0, sync.err
    return re.search(r"into (novaweb_backup_\w+)", sync.out).group(1)


@pytest.mark.parametrize("damage", BACKUP_DAMAGE)
def test_undo_refuses_before_any_change_when_a_backup_it_needs_was_altered_by_hand(
    backend, make_db, nova_db_alias, damage
):
    db = make_db("dump")
    alias = nova_db_alias(db)
    backup = destructive_sync_of_a_noted_column(db, alias)
    statement, named = BACKUP_DAMAGE[damage]
    db.execute(statement.format(backup=backup))
    before = catalog(db)

    refused = call("db_undo", database=alias)

    assert refused.code == 1, refused.out + refused.err
    assert f"the sync's backup {backup} {named}" in refused.err and "took no snapshot" in refused.err
    assert catalog(db) == before  # not half-undone: no empty extra_note column added
    assert call("db_undo", database=alias).code == 1  # and still refused: never "undone" without the values


@pytest.mark.parametrize("damage", BACKUP_DAMAGE)
def test_undo_takes_the_values_from_the_snapshot_when_a_backup_was_altered_by_hand(
    backend, make_db, nova_db_alias, tmp_path, damage
):
    db = make_db("dump")
    alias = nova_db_alias(db)
    flavors = db.fetchall("SELECT id, name FROM instance_types ORDER BY id")
    backup = destructive_sync_of_a_noted_column(db, alias, snapshot=True, snapshot_dir=str(tmp_path))
    db.execute(BACKUP_DAMAGE[damage][0].format(backup=backup))

    undo = call("db_undo", database=alias)

    assert undo.code == 0, undo.out + undo.err
    assert f"No inverse keeps the data: the sync's backup {backup}" in undo.out
    assert db.fetchall("SELECT id, extra_note FROM instance_types ORDER BY id") == flavors


def expand_that_only_the_snapshot_can_undo(db, alias, snapshot_dir):
    """db_expand relaxes s3_images.deleted_at (5 rows) with a snapshot; then a row with a NULL there is
    written, which no tightening can keep: the undo must come from the snapshot. Returns the snapshot."""
    reshape_s3_uuid(db, "varchar(36)", nullable=False, deleted_at_not_null=True)
    p = db.placeholder
    for i in range(1, 6):
        db.execute(f"INSERT INTO s3_images (id, uuid, deleted_at) VALUES ({p}, {p}, {p})", (i, f"u{i}", "2012-01-01"))
    expand = call("db_expand", database=alias, snapshot=True, snapshot_dir=str(snapshot_dir), format="json")
    assert expand.code == 0, expand.err
    db.execute("INSERT INTO s3_images (id, uuid) VALUES (6, 'written-since')")
    return json.loads(expand.out)["snapshot"]


def damage_s3_images_in(backend, path):
    """Lose rows of s3_images inside the snapshot, as a full disk or a careless edit would."""
    if backend == "sqlite":
        return edit_sqlite_snapshot(path, "DELETE FROM s3_images WHERE id > 2")
    file = data_file_with(path, "u3")
    file.write_bytes(file.read_bytes().split(b"u3")[0])


def test_undo_refuses_a_damaged_snapshot_before_replacing_anything(backend, make_db, nova_db_alias, tmp_path):
    db = make_db("dump")
    alias = nova_db_alias(db)
    snapshot = expand_that_only_the_snapshot_can_undo(db, alias, tmp_path)
    damage_s3_images_in(backend, snapshot)
    before = state(db)

    refused = call("db_undo", database=alias)

    assert refused.code == 1, refused.out + refused.err
    assert f"its snapshot {snapshot} does not hold what its manifest says (s3_images:" in refused.err
    assert "nothing was changed" in refused.err
    assert state(db) == before
    assert len(db.fetchall("SELECT id FROM s3_images")) == 6


def test_undo_from_the_snapshot_keeps_the_rows_written_since_in_a_backup(backend, make_db, nova_db_alias, tmp_path):
    db = make_db("dump")
    alias = nova_db_alias(db)
    expand_that_only_the_snapshot_can_undo(db, alias, tmp_path)
    now = all_rows(db, "s3_images")

    undo = call("db_undo", database=alias)

    assert undo.code == 0, undo.out + undo.err
    assert [r["id"] for r in all_rows(db, "s3_images")] == [1, 2, 3, 4, 5]  # as the snapshot has it
    kept = re.search(r"Backed up 6 rows of s3_images as they are now into (novaweb_backup_\w+)", undo.out).group(1)
    backup = [{k: v for k, v in r.items() if k != "novaweb_backup_id"} for r in all_rows(db, kept)]
    assert sorted(backup, key=lambda r: r["id"]) == now  # the row written since the sync is there


def test_undo_whose_snapshot_directory_was_deleted_refuses_in_one_line(backend, make_db, nova_db_alias, tmp_path):
    db = make_db("dump")
    alias = nova_db_alias(db)
    snapshot = expand_that_only_the_snapshot_can_undo(db, alias, tmp_path)
    shutil.rmtree(snapshot)
    before = state(db)

    refused = call("db_undo", database=alias)

    assert refused.code == 1
    assert refused.err.count("\n") == 1, refused.err
    assert f"and the sync's snapshot cannot be used ({snapshot} is not a snapshot" in refused.err
    assert state(db) == before


def test_undo_refuses_to_bring_back_empty_a_column_a_later_sync_dropped_whose_row_was_deleted(
    backend, make_db, nova_db_alias
):
    """db_expand (sync 1), then db_contract --allow-destructive drops a column (sync 2, backed up), then
    sync 2's history row is deleted by hand: undoing sync 1 must not add the column back empty, exit 0."""
    db = make_db("dump")
    alias = nova_db_alias(db)
    db.execute("ALTER TABLE instance_types ADD COLUMN extra_note varchar(40)")
    db.execute("UPDATE instance_types SET extra_note = name")
    db.execute("DROP INDEX project_id ON instances" if backend == "mysql" else "DROP INDEX project_id")
    assert call("db_expand", database=alias).code == 0
    assert call("db_contract", database=alias, allow_destructive=True).code == 0
    db.execute("DELETE FROM novaweb_sync_history WHERE id = 2")
    before = catalog(db)

    refused = call("db_undo", database=alias)

    assert refused.code == 1, refused.out + refused.err
    assert "add column instance_types.extra_note" in refused.err and "dropped after sync 1" in refused.err
    assert catalog(db) == before


@pytest.mark.django_db
def test_the_statements_table_dropped_by_hand_leaves_the_history_readable_and_undoable(
    backend, make_db, nova_db_alias, admin_client
):
    db = make_db("dump")
    alias = nova_db_alias(db, alias="nova")
    before = catalog(db)
    db.execute("DROP INDEX project_id ON instances" if backend == "mysql" else "DROP INDEX project_id")
    dropped = catalog(db)
    assert call("db_sync", database=alias).code == 0
    db.execute("DROP TABLE novaweb_sync_statements")  # "the history is too big"

    page = admin_client.get("/admin/schema/")
    assert page.status_code == 200
    assert re.search(r"not known \(novaweb_sync_statements is gone\) of \d", page.content.decode())
    dry = call("db_undo", database=alias, dry_run=True)
    assert dry.code == 0, dry.err
    assert re.search(r"applied: not known \(novaweb_sync_statements is gone\) of \d statements ran", dry.out)
    undo = call("db_undo", database=alias)
    assert undo.code == 0, undo.err
    assert {t: v for t, v in catalog(db).items() if not t.startswith("novaweb_")} == {
        t: v for t, v in dropped.items() if not t.startswith("novaweb_")
    }
    assert before != dropped


def test_an_undo_killed_after_dropping_a_table_it_restores_goes_on_from_the_snapshot(
    backend, make_db, nova_db_alias, tmp_path
):
    """The restore of s3_images from the snapshot was killed after its DROP TABLE (MySQL's dump drops
    first); the next db_undo must restore it again, not create it empty, nor refuse for good."""
    db = make_db("dump")
    alias = nova_db_alias(db)
    expand_that_only_the_snapshot_can_undo(db, alias, tmp_path)
    db.execute("DROP TABLE s3_images")

    undo = call("db_undo", database=alias)

    assert undo.code == 0, undo.out + undo.err
    assert "create table s3_images: the sync never dropped it" in undo.out
    assert [r["id"] for r in all_rows(db, "s3_images")] == [1, 2, 3, 4, 5]
