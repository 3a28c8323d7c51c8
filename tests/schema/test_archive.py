"""db_archive_deleted_rows and db_purge on real databases: what moves, what stays, exit codes."""

import datetime
import re

import pytest

from inventory import models as m
from tests.support.backends import quote
from tests.support.commands import call as run_command

OLD = datetime.datetime(2026, 1, 10, 8, 0)
RECENT = datetime.datetime(2026, 3, 1, 8, 0)
CREATED = datetime.datetime(2026, 1, 2, 8, 0)

#: Rows the seed puts in each table, and how many of them a full archive moves.
CHILD_TABLES = (
    "fixed_ips",
    "virtual_interfaces",
    "instance_metadata",
    "security_group_instance_association",
    "instance_info_caches",
    "instance_faults",
    "instance_actions",
)


def call(*args, alias):
    """Run a command in-process: ``(exit code, stdout, stderr)``."""
    result = run_command(*args, database=alias)
    return result.code, result.out, result.err


def count(db, table, where=""):
    sql = f"SELECT COUNT(*) FROM {quote(db.backend, table)}" + (f" WHERE {where}" if where else "")
    return db.fetchall(sql)[0][0]


def tables(db):
    if db.backend == "sqlite":
        return {r[0] for r in db.fetchall("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if db.backend == "mysql":
        return {r[0] for r in db.fetchall("SHOW TABLES")}
    return {r[0] for r in db.fetchall("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")}


def _instance(alias, name, *, deleted_at=None, children_deleted=True, sg, net):
    """An instance with one row in each child table; children soft-deleted like the instance."""
    deleted = deleted_at is not None
    stamps = {"created_at": CREATED, "deleted": deleted, "deleted_at": deleted_at}
    child = {"created_at": CREATED, "deleted": deleted and children_deleted}
    child["deleted_at"] = deleted_at if child["deleted"] else None
    instance = m.Instance.objects.using(alias).create(uuid=f"uuid-{name}", hostname=name, **stamps)
    vif = m.VirtualInterface.objects.using(alias).create(
        address=f"mac-{name}", network=net, instance=instance, uuid=f"vif-{name}", **child
    )
    m.FixedIp.objects.using(alias).create(
        address=f"10.0.0.{instance.id}", network=net, instance=instance, virtual_interface=vif, **child
    )
    m.InstanceMetadata.objects.using(alias).create(instance=instance, key="role", value=name, **child)
    m.SecurityGroupInstance.objects.using(alias).create(security_group=sg, instance=instance, **child)
    m.InstanceInfoCache.objects.using(alias).create(instance=instance, network_info="[]", **child)
    # Nova never soft-deletes faults and actions: they follow their instance.
    m.InstanceFault.objects.using(alias).create(instance=instance, code=500, message="boom", created_at=CREATED)
    m.InstanceAction.objects.using(alias).create(instance=instance, action="reboot", created_at=CREATED)
    return instance


def seed(alias):
    """Four instances deleted long ago, one deleted recently, one live, and two deleted ones kept alive."""
    sg = m.SecurityGroup.objects.using(alias).create(name="default", deleted=False)
    net = m.Network.objects.using(alias).create(label="private", deleted=False)
    for n in range(4):
        _instance(alias, f"old{n}", deleted_at=OLD, sg=sg, net=net)
    _instance(alias, "recent", deleted_at=RECENT, sg=sg, net=net)
    live = _instance(alias, "live", sg=sg, net=net)
    m.InstanceMetadata.objects.using(alias).create(
        instance=live, key="gone", value="x", deleted=True, deleted_at=OLD, created_at=CREATED
    )
    # A deleted instance whose fixed IP was never disassociated (Nova's relation, no constraint) ...
    _instance(alias, "fixedip", deleted_at=OLD, sg=sg, net=net)
    m.FixedIp.objects.using(alias).filter(instance__hostname="fixedip").update(deleted=False, deleted_at=None)
    # ... and one whose metadata row is still live (a foreign-key constraint on MySQL and PostgreSQL).
    _instance(alias, "metadata", deleted_at=OLD, sg=sg, net=net)
    m.InstanceMetadata.objects.using(alias).filter(instance__hostname="metadata").update(deleted=False)


@pytest.fixture
def seeded(backend, make_db, nova_db_alias):
    db = make_db("dump")
    alias = nova_db_alias(db)
    seed(alias)
    return db, alias


def test_archive_moves_deleted_rows_children_first(seeded):
    db, alias = seeded
    before_rows = db.fetchall("SELECT uuid, hostname, deleted_at FROM instances ORDER BY uuid")

    code, out, err = call("db_archive_deleted_rows", "--verbose", alias=alias)

    assert (code, err) == (1, "")
    assert re.search(r"^Table\s+\| Number of Rows Archived$", out, re.M), out
    archived = dict(re.findall(r"^(\w+)\s+\| (\d+)$", out, re.M))
    # 5 deleted instances move; "fixedip" and "metadata" are kept for their live rows.
    assert archived["instances"] == "5"
    assert count(db, "instances") == 3
    assert count(db, "shadow_instances") == 5
    assert {r[0] for r in db.fetchall("SELECT hostname FROM instances")} == {"live", "fixedip", "metadata"}
    moved = db.fetchall("SELECT uuid, hostname, deleted_at FROM shadow_instances ORDER BY uuid")
    assert moved == [r for r in before_rows if r[1] not in ("live", "fixedip", "metadata")]
    # Children: the 5 moved instances' rows, plus the kept instances' own deleted children (all but
    # the live fixed IP, the virtual interface it points at, and the live metadata row), plus the
    # live instance's deleted metadata.
    expected = {
        "fixed_ips": 5 + 1,
        "virtual_interfaces": 5 + 1,
        "instance_metadata": 5 + 1 + 1,
        "security_group_instance_association": 5 + 2,
        "instance_info_caches": 5 + 2,
        "instance_faults": 5 + 2,
        "instance_actions": 5 + 2,
    }
    for table, moved_rows in expected.items():
        assert count(db, f"shadow_{table}") == moved_rows, table
        assert count(db, table) == 8 + (table == "instance_metadata") - moved_rows, table
        assert archived[table] == str(moved_rows)
    assert (
        "Kept 2 deleted rows of instances: still referred to by rows left in fixed_ips (1), instance_metadata (1)."
    ) in out
    assert "Kept 1 deleted rows of virtual_interfaces: still referred to by rows left in fixed_ips (1)" in out
    # MySQL indexes every foreign key; PostgreSQL and SQLite scan the referring table without one.
    notes = re.findall(r"^Note: foreign key (\w+)\(\w+\) -> instances", out, re.M)
    assert ("instance_metadata" in notes) == (db.backend != "mysql"), out
    # Nothing dangles: every remaining child row points at a remaining instance.
    assert count(db, "fixed_ips", "instance_id NOT IN (SELECT id FROM instances)") == 0
    assert count(db, "instance_faults", "instance_uuid NOT IN (SELECT uuid FROM instances)") == 0
    # Live rows are untouched.
    assert count(db, "security_groups") == 1 and count(db, "networks") == 1

    code, out, _ = call("db_archive_deleted_rows", "--verbose", alias=alias)
    assert code == 0 and out.startswith("Nothing was archived.\nKept 2 deleted rows of instances")


def test_shadow_tables_are_not_drift(seeded):
    from django.db import connections

    from schema.engine import compare

    db, alias = seeded
    assert call("db_archive_deleted_rows", alias=alias)[0] == 1
    assert {"shadow_instances", "shadow_fixed_ips"} <= tables(db)
    result = compare(connections[alias]).result
    assert result.differences == []
    assert {"shadow_instances", "shadow_fixed_ips"} <= {i.table for i in result.ignored}


def test_an_id_handed_out_again_archives_again(seeded):
    """SQLite reuses the highest rowid (MySQL < 8 resets its counter): the shadow table keys rows itself."""
    db, alias = seeded
    assert call("db_archive_deleted_rows", alias=alias)[0] == 1
    (reused,) = db.fetchall("SELECT MAX(id) FROM shadow_instances")[0]
    db.execute(
        f"INSERT INTO instances (id, uuid, hostname, deleted, deleted_at) VALUES ({reused}, 'again', 'again', "
        f"{'TRUE' if db.backend == 'postgresql' else 1}, '2026-01-10 08:00:00')"
    )
    assert call("db_archive_deleted_rows", alias=alias)[0] == 1
    assert count(db, "shadow_instances", f"id = {reused}") == 2
    assert count(db, "shadow_instances") == 6
    assert db.fetchall("SELECT COUNT(DISTINCT shadow_id) FROM shadow_instances") == [(6,)]


def test_max_rows_batches_until_nothing_is_left(seeded):
    db, alias = seeded
    runs = []
    while True:
        code, out, _ = call("db_archive_deleted_rows", "--max_rows", "7", "--format", "json", alias=alias)
        if code == 0:
            break
        assert code == 1
        runs.append(int(re.search(r'"total": (\d+)', out).group(1)))
        assert len(runs) < 20
    assert all(0 < n <= 7 for n in runs) and len(runs) > 3
    assert sum(runs) == count(db, "shadow_instances") + sum(count(db, f"shadow_{t}") for t in CHILD_TABLES)
    assert count(db, "shadow_instances") == 5


def test_before_keeps_recent_rows_and_until_complete_purges(seeded):
    db, alias = seeded
    code, out, _ = call(
        "db_archive_deleted_rows",
        "--before",
        "Feb 1 2026",
        "--until-complete",
        "--max_rows",
        "4",
        "--verbose",
        alias=alias,
    )
    assert code == 1
    assert {r[0] for r in db.fetchall("SELECT hostname FROM shadow_instances")} == {f"old{n}" for n in range(4)}
    assert count(db, "instances", "hostname = 'recent'") == 1
    assert count(db, "instance_faults", "instance_uuid = 'uuid-recent'") == 1
    assert count(db, "shadow_fixed_ips") == 4 + 1  # and the kept "metadata" instance's

    code, out, _ = call("db_archive_deleted_rows", "--until-complete", "--purge", "--verbose", alias=alias)
    assert code == 1
    assert "Rows were archived, running purge..." in out
    assert "Deleted 5 rows from shadow_instances based on timestamp column (n/a)" in out
    assert count(db, "instances") == 3 and count(db, "shadow_instances") == 0


def test_foreign_key_blocks_are_reported_and_rows_stay(seeded):
    db, alias = seeded
    code, out, _ = call("db_archive_deleted_rows", "--format", "json", alias=alias)
    assert code == 1
    assert '"instance_metadata": 1' in out and '"fixed_ips": 1' in out  # in "kept"
    assert count(db, "instance_metadata", "instance_id NOT IN (SELECT id FROM instances)") == 0


#: A trigger that fails every DELETE of an instance with an error that is no constraint's.
FAILING_DELETE = {
    "mysql": [
        "CREATE TRIGGER no_delete BEFORE DELETE ON instances FOR EACH ROW "
        "SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'deletes are off'"
    ],
    "postgresql": [
        "CREATE FUNCTION no_delete() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE 'deletes are off'; END $$",
        "CREATE TRIGGER no_delete BEFORE DELETE ON instances FOR EACH ROW EXECUTE FUNCTION no_delete()",
    ],
}


@pytest.mark.parametrize("backend", sorted(FAILING_DELETE))  # SQLite's RAISE() is a constraint: the row is kept
def test_unexpected_error_exits_255_and_rolls_back_the_batch(seeded):
    db, alias = seeded
    for statement in FAILING_DELETE[db.backend]:
        db.execute(statement)
    code, out, err = call("db_archive_deleted_rows", alias=alias)
    assert code == 255
    assert err.startswith("error: unexpected error: ") and len(err.strip().splitlines()) == 1
    assert "deletes are off" in err
    # the batch's INSERT into shadow_instances went with its DELETE
    assert count(db, "instances") == 8 and count(db, "shadow_instances") == 0


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (("--max_rows", "0"), 2, "Must supply a positive value for max_rows"),
        (("--max_rows", "many"), 2, "Invalid value for --max_rows"),
        (("--max_rows", str(2**31)), 2, "max rows must be <="),
        (("--before", "someday"), 4, "Invalid value for --before: 'someday' is not a date"),
    ],
)
def test_archive_bad_input_exit_codes(run_manage, args, code, message):
    result = run_manage("db_archive_deleted_rows", *args)
    assert result.returncode == code
    assert message in result.stderr and "Traceback" not in result.stderr


def test_purge_by_date_then_all(seeded):
    db, alias = seeded
    assert call("db_archive_deleted_rows", "--max_rows", "1000", alias=alias)[0] == 1
    shadow_faults = count(db, "shadow_instance_faults")

    code, out, _ = call("db_purge", "--before", "2026-01-05", "--verbose", alias=alias)
    # Faults and actions were never soft-deleted: they go by created_at (Jan 2).
    assert code == 0
    assert f"Deleted {shadow_faults} rows from shadow_instance_faults" in out
    assert "shadow_instances" not in out
    assert count(db, "shadow_instances") == 5 and count(db, "shadow_instance_faults") == 0

    code, out, _ = call("db_purge", "--before", "2026-01-31T00:00:00Z", "--verbose", alias=alias)
    assert code == 0
    assert count(db, "shadow_instances") == 1  # "recent" was deleted on Mar 1

    assert call("db_purge", "--before", "2026-01-31", alias=alias)[0] == 3
    code, out, _ = call("db_purge", "--all", "--verbose", alias=alias)
    assert code == 0 and "Deleted 1 rows from shadow_instances based on timestamp column (n/a)\n" in out
    assert call("db_purge", "--all", "--verbose", alias=alias)[:2] == (3, "No rows were purged.\n")
    assert "shadow_instances" in tables(db)


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        ((), 1, "Must supply either --before or --all"),
        (("--before", "2026-01-01", "--all"), 1, "not both"),
        (("--before", "31/31/2026"), 2, "Invalid value for --before"),
    ],
)
def test_purge_bad_input_exit_codes(run_manage, args, code, message):
    result = run_manage("db_purge", *args)
    assert result.returncode == code
    assert message in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_purge_with_no_shadow_tables_exits_3(backend, make_db, run_manage):
    result = run_manage("db_purge", "--all", db=make_db("dump"))
    assert result.returncode == 3 and result.stderr == ""


def test_a_foreign_key_refusing_the_delete_keeps_only_that_row(seeded, monkeypatch):
    """A live row that appears after the check (simulated: the check sees nothing) is caught by the foreign key."""
    from django.db import connections

    from schema.archive import Archiver
    from schema.archive.archiver import KEPT_BY_FOREIGN_KEY

    db, alias = seeded
    archiver = Archiver(connections[alias])
    monkeypatch.setattr(archiver, "_blocked", lambda *args: {})
    while not archiver.complete:
        archiver.run(1000)
    # "metadata" has a live instance_metadata row (a constraint): refused, retried one by one, kept.
    assert archiver.kept["instances"] == {KEPT_BY_FOREIGN_KEY: 1}
    assert {r[0] for r in db.fetchall("SELECT hostname FROM instances")} == {"live", "metadata"}
    assert count(db, "shadow_instances") == 6
    assert count(db, "instance_metadata", "instance_id NOT IN (SELECT id FROM instances)") == 0


def test_purge_by_date_skips_a_shadow_table_whose_timestamps_are_not_dates(backend, make_db, nova_db_alias):
    """An operator's shadow_* table with a text deleted_at: PostgreSQL cannot compare it with a date
    (was exit 255), MySQL and SQLite would compare it as text; it is named and left alone."""
    db = make_db("dump")
    alias = nova_db_alias(db)
    db.execute("CREATE TABLE shadow_notes (shadow_id integer PRIMARY KEY, id integer, deleted_at text)")
    db.execute("INSERT INTO shadow_notes (shadow_id, id, deleted_at) VALUES (1, 1, '2010-01-01'), (2, 2, 'soon')")

    code, out, err = call("db_purge", "--before", "2011-01-01", "--verbose", alias=alias)

    assert (code, err) == (3, "")
    assert (
        "Unable to purge table shadow_notes because it has timestamp columns that are not dates and times "
        "(deleted_at is text)"
    ) in out
    assert count(db, "shadow_notes") == 2


@pytest.mark.parametrize("sleep", ["nan", "inf", "1e300", "-1"])
def test_a_sleep_no_clock_can_wait_is_refused_before_any_row_moves(seeded, sleep):
    db, alias = seeded
    rows = count(db, "instances")
    args = ("--until-complete", "--max_rows", "1", "--sleep", sleep)
    code, out, err = call("db_archive_deleted_rows", *args, alias=alias)
    assert code == 2, err
    assert err.startswith("error: --sleep must be a number of seconds from 0 to ") and err.count("\n") == 1
    assert count(db, "instances") == rows and "shadow_instances" not in tables(db)
