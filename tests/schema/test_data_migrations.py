"""Online data migrations and the null-uuid scan, on every backend.

Seeds the NULLs old Essex code left behind into a copy of the reference dump,
then checks what an operator checks: the rows in the database, the command's
lines and its exit code.
"""

from __future__ import annotations

import json
import re

import pytest
from django.db import connections

from schema.data_migrations import get, names, pending_counts, registered_temporarily
from schema.data_migrations.batches import forget_marks
from tests.support.backends import quote
from tests.support.commands import call as run_command

UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$")

# 10 NULL `deleted` over five tables (one with a string key, one with a composite key),
# 4 NULL uuids over instances / networks / virtual_interfaces, 1 NULL flavorid.
SEED_NULLS = [
    "INSERT INTO instances (id, deleted, uuid, hostname) VALUES "
    "(1, NULL, NULL, 'a'), (2, NULL, NULL, 'b'), (3, NULL, '33333333-3333-4333-8333-333333333333', 'c'), "
    "(4, FALSE, '44444444-4444-4444-8444-444444444444', 'd')",
    "INSERT INTO networks (id, deleted, uuid, label) VALUES (1, NULL, NULL, 'net1')",
    "INSERT INTO virtual_interfaces (id, deleted, address, instance_id, uuid) "
    "VALUES (1, FALSE, 'fa:16:3e:00:00:01', 4, NULL)",
    "UPDATE instance_types SET deleted = NULL WHERE id IN (1, 2)",
    "UPDATE instance_types SET flavorid = NULL WHERE id = 3",
    "INSERT INTO users (id, deleted, name) VALUES ('u1', NULL, 'alice')",
    "INSERT INTO projects (id, deleted, project_manager) VALUES ('p1', NULL, 'u1')",
    "INSERT INTO user_project_association (user_id, project_id, deleted) VALUES ('u1', 'p1', NULL)",
    "INSERT INTO dns_domains (domain, deleted) VALUES ('example.org', NULL)",
]
DELETED_TABLES = (
    "instances",
    "networks",
    "instance_types",
    "users",
    "projects",
    "user_project_association",
    "dns_domains",
)


def seed(db, statements):
    for sql in statements:
        db.execute(sql)


def null_deleted(db):
    return sum(db.fetchall(f"SELECT COUNT(*) FROM {t} WHERE deleted IS NULL")[0][0] for t in DELETED_TABLES)


def null_uuids(db):
    return sum(
        db.fetchall(f"SELECT COUNT(*) FROM {t} WHERE uuid IS NULL")[0][0]
        for t in ("instances", "networks", "virtual_interfaces")
    )


def null_flavorids(db):
    return db.fetchall("SELECT COUNT(*) FROM instance_types WHERE flavorid IS NULL")[0][0]


def call(alias, *args):
    """Run a command in-process: (exit code, stdout, stderr)."""
    result = run_command(*args, database=alias)
    return result.code, result.out, result.err


def test_migrations_fix_nulls_in_batches(make_db, nova_db_alias):
    db = make_db("dump")
    seed(db, SEED_NULLS)
    connection = connections[nova_db_alias(db)]
    forget_marks()
    assert pending_counts(connection) == {
        "deleted_null_to_false": 10,
        "populate_missing_flavorids": 1,
        "populate_missing_uuids": 4,
    }

    fix_deleted = get("deleted_null_to_false")
    batches = [fix_deleted(connection, 4) for _ in range(4)]
    assert batches == [(4, 4), (4, 4), (2, 2), (0, 0)]
    assert null_deleted(db) == 0
    # false, not merely non-NULL; rows already false or true stay as they were
    assert db.fetchall("SELECT COUNT(*) FROM instances WHERE deleted = FALSE")[0][0] == 4

    assert get("populate_missing_uuids")(connection, 3) == (3, 3)
    assert null_uuids(db) == 1
    assert get("populate_missing_uuids")(connection, 3) == (1, 1)
    uuids = [
        u
        for (u,) in db.fetchall(
            "SELECT uuid FROM instances UNION ALL SELECT uuid FROM networks "
            "UNION ALL SELECT uuid FROM virtual_interfaces"
        )
    ]
    assert all(UUID_RE.match(u) for u in uuids) and len(set(uuids)) == len(uuids) == 6
    assert "33333333-3333-4333-8333-333333333333" in uuids  # existing uuids untouched

    assert get("populate_missing_flavorids")(connection, 50) == (1, 1)
    assert UUID_RE.match(db.fetchall("SELECT flavorid FROM instance_types WHERE id = 3")[0][0])
    assert [f for (f,) in db.fetchall("SELECT flavorid FROM instance_types WHERE id <> 3 ORDER BY id")] == [
        "1",
        "2",
        "4",
        "5",
    ]

    forget_marks()  # a new process rescans from the first row and finds nothing left
    assert [get(n)(connection, 50) for n in names()] == [(0, 0)] * 3
    assert pending_counts(connection) == dict.fromkeys(names(), 0)


def test_online_data_migrations_command(make_db, run_manage, nova_db_alias):
    db = make_db("dump")
    seed(db, SEED_NULLS)
    alias = nova_db_alias(db)

    limited = run_manage("db_online_data_migrations", "--max-count", "12", db=db)
    assert limited.returncode == 1, limited.stderr
    assert "10 rows matched query deleted_null_to_false, 10 migrated" in limited.stdout
    assert "1 rows matched query populate_missing_flavorids, 1 migrated" in limited.stdout
    assert "1 rows matched query populate_missing_uuids, 1 migrated" in limited.stdout
    assert "Running batches" not in limited.stdout
    assert (null_deleted(db), null_flavorids(db), null_uuids(db)) == (0, 0, 3)
    table = limited.stdout.splitlines()[-5:]
    assert re.match(r"Migration\s+\| Total Needed \| Completed", table[0])
    assert re.match(r"populate_missing_uuids\s+\| 1\s+\| 1", table[-1])

    # the rest in-process: same command, without a Python start-up each time
    code, out, err = call(alias, "db_online_data_migrations")
    assert code == 0, err
    assert out.startswith("Running batches of 50 until complete\n")
    assert "3 rows matched query populate_missing_uuids, 3 migrated" in out
    assert null_uuids(db) == 0

    code, out, err = call(alias, "db_online_data_migrations", "--format", "json")
    assert code == 0, err
    assert json.loads(out)["migrations"] == [
        {"name": name, "total_needed": 0, "completed": 0, "errors": []} for name in names()
    ]


def test_max_count_must_be_a_positive_integer(run_manage):
    result = run_manage("db_online_data_migrations", "--max-count", "x")
    assert result.returncode == 127  # not argparse's 2: nova-manage's "invalid input"
    assert "Must supply a positive value for --max-count (got 'x')" in result.stderr
    assert "Traceback" not in result.stderr
    for value in ("0", "-3"):  # refused before the database is touched
        code, out, err = call("nova", "db_online_data_migrations", "--max-count", value)
        assert (code, out) == (127, "")
        assert f"Must supply a positive value for --max-count (got '{value}')" in err


def test_failing_migration_reported_while_others_complete(make_db, nova_db_alias):
    db = make_db("dump")
    seed(db, SEED_NULLS)
    alias = nova_db_alias(db)

    def broken(connection, batch_size):
        with connection.cursor() as cursor:
            cursor.execute("UPDATE instances SET hostname = 'half-done'")
            cursor.execute("SELECT * FROM no_such_table")
        return 1, 1

    with registered_temporarily("aaa_broken", broken):
        # With --max-count, others' progress makes it 1 (run again), as in nova-manage...
        code, out, err = call(alias, "db_online_data_migrations", "--max-count", "50")
        assert code == 1
        assert "Error attempting to run aaa_broken" in err
        assert "10 rows matched query deleted_null_to_false, 10 migrated" in out
        # ...and once nothing else is left to do, the failure is fatal: 2.
        code, out, err = call(alias, "db_online_data_migrations")
        assert code == 2
        assert "Some migrations failed unexpectedly: aaa_broken" in err
        assert re.search(r"aaa_broken\s+\| 0\s+\| 0", out)
    assert (null_deleted(db), null_flavorids(db), null_uuids(db)) == (0, 0, 0)
    # the failed batch was rolled back, not half applied
    assert db.fetchall("SELECT COUNT(*) FROM instances WHERE hostname = 'half-done'")[0][0] == 0
    assert "aaa_broken" not in names()
    assert call(alias, "db_online_data_migrations")[0] == 0


def seed_null_uuid_instances(db):
    key = quote(db.backend, "key")
    seed(
        db,
        [
            "INSERT INTO instances (id, deleted, uuid, hostname) VALUES (1, FALSE, NULL, 'orphan'), "
            "(2, FALSE, NULL, 'orphan2'), (3, FALSE, '33333333-3333-4333-8333-333333333333', 'healthy')",
            f"INSERT INTO instance_metadata (id, deleted, instance_id, {key}, value) VALUES "
            "(1, FALSE, 1, 'role', 'db'), (2, FALSE, 3, 'role', 'web')",
            "INSERT INTO block_device_mapping (id, deleted, instance_id, device_name) VALUES (1, FALSE, 1, '/dev/vdb')",
            "INSERT INTO security_groups (id, deleted, name) VALUES (1, FALSE, 'default')",
            "INSERT INTO security_group_instance_association (id, deleted, security_group_id, instance_id) "
            "VALUES (1, FALSE, 1, 1), (2, FALSE, 1, 3)",
            "INSERT INTO fixed_ips (id, deleted, address, instance_id, allocated, leased) VALUES "
            "(1, FALSE, '10.0.0.2', 1, TRUE, TRUE), (2, FALSE, '10.0.0.3', 3, TRUE, TRUE)",
            "INSERT INTO volumes (id, deleted, instance_id, status, attach_status, mountpoint) VALUES "
            "(1, FALSE, 2, 'in-use', 'attached', '/dev/vdc')",
            "INSERT INTO instance_faults (id, deleted, instance_uuid, code) VALUES (1, FALSE, NULL, 500), "
            "(2, FALSE, '33333333-3333-4333-8333-333333333333', 500)",
            "INSERT INTO migrations (id, deleted, instance_uuid, status) VALUES (1, FALSE, NULL, 'error')",
            "INSERT INTO instance_actions (id, deleted, instance_uuid, action) VALUES (1, FALSE, NULL, 'reboot')",
        ],
    )


def count(db, table, where="1 = 1"):
    return db.fetchall(f"SELECT COUNT(*) FROM {table} WHERE {where}")[0][0]


def test_null_instance_uuid_scan_and_delete(make_db, run_manage, nova_db_alias):
    db = make_db("dump")
    seed_null_uuid_instances(db)
    alias = nova_db_alias(db)

    found = run_manage("db_null_instance_uuid_scan", db=db)
    assert found.returncode == 1, found.stderr
    for table, n in (("instances", 2), ("instance_faults", 1), ("migrations", 1), ("instance_actions", 1)):
        assert (
            f"There are {n} records in the '{table}' table where the uuid or instance_uuid column is NULL. "
            "Run this command again with the --delete option after you have backed up any necessary data."
        ) in found.stdout
    assert "'instance_info_caches'" not in found.stdout
    assert "There are 1 records in the 'fixed_ips' table that belong to instances whose uuid is NULL" in found.stdout
    assert count(db, "instances") == 3  # a scan changes nothing

    code, out, err = call(alias, "db_null_instance_uuid_scan", "--delete")
    assert code == 0, err
    lines = out.splitlines()
    for table, n in (
        ("instances", 2),
        ("instance_faults", 1),
        ("migrations", 1),
        ("instance_actions", 1),
        ("instance_metadata", 1),
        ("block_device_mapping", 1),
        ("security_group_instance_association", 1),
    ):
        assert f"Deleted {n} records from table '{table}'." in lines
    # children go before instances
    assert lines.index("Deleted 1 records from table 'instance_metadata'.") < lines.index(
        "Deleted 2 records from table 'instances'."
    )
    assert count(db, "instances") == 1 and count(db, "instances", "uuid IS NULL") == 0
    assert count(db, "instance_metadata") == count(db, "security_group_instance_association") == 1
    assert count(db, "block_device_mapping") == 0
    assert count(db, "instance_faults") == 1 and count(db, "migrations") == count(db, "instance_actions") == 0
    # shared resources are detached, not deleted: the address is back in the pool, the volume available
    assert db.fetchall("SELECT address FROM fixed_ips WHERE instance_id IS NULL AND allocated = FALSE") == [
        ("10.0.0.2",)
    ]
    assert db.fetchall("SELECT instance_id, status, attach_status, mountpoint FROM volumes") == [
        (None, "available", "detached", None)
    ]

    backups = dict(re.findall(r"Backed up \d+ records from table '(\w+)' to '(\w+)'\.", out))
    assert set(backups) == {
        "instances",
        "instance_faults",
        "migrations",
        "instance_actions",
        "instance_metadata",
        "block_device_mapping",
        "security_group_instance_association",
        "fixed_ips",
        "volumes",
    }
    backup = {table: quote(db.backend, name) for table, name in backups.items()}
    assert sorted(db.fetchall(f"SELECT id, hostname FROM {backup['instances']}")) == [(1, "orphan"), (2, "orphan2")]
    assert db.fetchall(f"SELECT instance_id, status FROM {backup['volumes']}") == [(2, "in-use")]
    assert db.fetchall(f"SELECT address, instance_id FROM {backup['fixed_ips']}") == [("10.0.0.2", 1)]

    code, out, err = call(alias, "db_null_instance_uuid_scan")
    assert code == 0, err
    assert out.strip() == "There were no records found where instance_uuid was NULL."


@pytest.mark.parametrize("backend", ["mysql", "postgresql"])  # SQLite's CHECK (deleted IN (0, 1)) keeps the column
def test_a_table_whose_deleted_column_was_dropped_does_not_stop_the_others(backend, make_db, nova_db_alias):
    db = make_db("dump")
    db.execute("ALTER TABLE agent_builds DROP COLUMN deleted")  # the first table deleted_null_to_false visits
    db.execute("INSERT INTO instances (id, deleted) VALUES (1, NULL), (2, NULL)")
    alias = nova_db_alias(db)
    assert pending_counts(connections[alias])["deleted_null_to_false"] == 2

    code, out, err = call(alias, "db_online_data_migrations")

    assert (code, err) == (0, ""), out
    assert "2 rows matched query deleted_null_to_false, 2 migrated" in out
    assert count(db, "instances", "deleted IS NULL") == 0


@pytest.mark.parametrize("backend", ["mysql", "postgresql"])
def test_null_uuid_scan_passes_over_a_table_whose_instance_column_was_dropped(backend, make_db, nova_db_alias):
    db = make_db("dump")
    seed_null_uuid_instances(db)
    db.execute("ALTER TABLE migrations DROP COLUMN instance_uuid")
    alias = nova_db_alias(db)

    code, out, err = call(alias, "db_null_instance_uuid_scan")
    assert (code, err) == (1, "")
    assert "'migrations'" not in out and "There are 2 records in the 'instances' table" in out

    code, out, err = call(alias, "db_null_instance_uuid_scan", "--delete")
    assert (code, err) == (0, "")
    assert count(db, "instances", "uuid IS NULL") == 0 and count(db, "migrations") == 1


@pytest.mark.parametrize("columns", [1, 2])
def test_null_uuid_delete_refuses_rows_another_applications_foreign_key_still_refers_to(
    backend, make_db, nova_db_alias, columns
):
    db = make_db("dump")
    seed_null_uuid_instances(db)
    if columns == 1:  # another application's table pointing at an instance by id
        db.execute("CREATE TABLE billing (id integer PRIMARY KEY, instance_id integer REFERENCES instances (id))")
        db.execute("INSERT INTO billing (id, instance_id) VALUES (1, 3), (2, 1)")
    else:  # by a pair of columns (an operator's unique key of instances)
        db.execute("CREATE UNIQUE INDEX ux_id_hostname ON instances (id, hostname)")
        db.execute(
            "CREATE TABLE billing (id integer PRIMARY KEY, instance_id integer, host varchar(255), "
            "FOREIGN KEY (instance_id, host) REFERENCES instances (id, hostname))"
        )
        db.execute("INSERT INTO billing (id, instance_id, host) VALUES (1, 3, 'healthy'), (2, 1, 'orphan')")
    alias = nova_db_alias(db)
    tables_before = sorted(t for (t,) in db.fetchall(TABLES_SQL[backend]))
    counts = {t: count(db, t) for t in ("instances", "instance_metadata", "block_device_mapping", "fixed_ips")}

    code, out, err = call(alias, "db_null_instance_uuid_scan", "--delete")

    assert code == 2, out + err
    assert err.count("\n") == 1 and "unexpected" not in err
    assert "nothing was deleted" in err and "billing(instance_id" in err and "-> instances" in err
    assert {t: count(db, t) for t in counts} == counts
    assert count(db, "fixed_ips", "instance_id IS NULL") == 0  # not detached either
    assert sorted(t for (t,) in db.fetchall(TABLES_SQL[backend])) == tables_before  # no backup left behind

    db.execute("DELETE FROM billing WHERE id = 2")
    code, out, err = call(alias, "db_null_instance_uuid_scan", "--delete")
    assert code == 0, err
    assert count(db, "instances", "uuid IS NULL") == 0


TABLES_SQL = {
    "sqlite": "SELECT name FROM sqlite_master WHERE type = 'table'",
    "mysql": "SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE()",
    "postgresql": "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()",
}


@pytest.mark.django_db
@pytest.mark.parametrize("backend", ["sqlite"])  # the counts are checked on every backend above
def test_admin_schema_page_shows_rows_to_migrate(make_db, nova_db_alias, admin_client):
    db = make_db("dump")
    seed(db, SEED_NULLS)
    nova_db_alias(db, alias="nova")

    def pending(page):
        rows = re.findall(r"<td><code>(\w+)</code></td><td>[^<]*</td><td class=\"data-migration-pending\">(\d+)<", page)
        return dict(rows)

    page = admin_client.get("/admin/schema/").content.decode()
    assert "Online data migrations" in page
    assert pending(page) == {
        "deleted_null_to_false": "10",
        "populate_missing_flavorids": "1",
        "populate_missing_uuids": "4",
    }
    call("nova", "db_online_data_migrations")
    page = admin_client.get("/admin/schema/").content.decode()
    assert set(pending(page).values()) == {"0"}
