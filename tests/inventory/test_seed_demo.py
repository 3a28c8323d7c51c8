"""seed_demo: a deterministic demo cloud in every state Nova uses, on every backend."""

from __future__ import annotations

import json
import threading
import time

import pytest
from django.db import connections

from inventory import states
from inventory.demo_cloud import STATE_MIX, DemoCloud
from inventory.models import (
    ComputeNode,
    FixedIp,
    FloatingIp,
    Instance,
    InstanceMetadata,
    Project,
    SecurityGroupInstance,
    Service,
    User,
)
from tests.support.backends import quote
from tests.support.commands import call

N = 120


def table_rows(db, table):
    """Every row of ``table``, in one order whatever order the server returns them in."""
    return sorted(db.fetchall(f"SELECT * FROM {quote(db.backend, table)}"), key=repr)


def test_seed_demo_fills_a_realistic_cloud(make_db, nova_db_alias):
    alias = nova_db_alias(make_db("dump"))
    result = call("seed_demo", "--instances", N, "--seed", 3, "--format", "json", database=alias)
    assert result.code == 0, result.err
    report = json.loads(result.out)
    instances = Instance.objects.using(alias)
    assert instances.count() == N == report["rows"]["instances"]

    seen = set(instances.values_list("vm_state", "task_state", "power_state"))
    assert {(vm, task, power) for vm, task, power, _ in STATE_MIX} <= seen
    assert {vm for vm, *_ in seen} == set(states.VM_STATES)
    assert {task for _, task, _ in seen} == set(states.TASK_STATES) | {None}
    assert {power for *_, power in seen} == set(states.POWER_STATES)

    deleted = instances.filter(deleted=True)
    assert deleted.exists() and not deleted.exclude(vm_state="deleted").exists()
    assert not FixedIp.objects.using(alias).filter(instance__deleted=True).exists()  # released, as Nova does
    live_running = instances.exclude(deleted=True).exclude(vm_state="building")
    for instance in live_running:
        assert FixedIp.objects.using(alias).filter(instance=instance).count() == 1, instance.uuid
    assert FloatingIp.objects.using(alias).filter(fixed_ip__isnull=False).exists()
    assert FloatingIp.objects.using(alias).filter(fixed_ip__isnull=True).exists()  # free in the pool
    assert InstanceMetadata.objects.using(alias).exists()
    assert SecurityGroupInstance.objects.using(alias).count() >= N
    assert User.objects.using(alias).exclude(secret_key=None).exists() and Project.objects.using(alias).exists()
    hosts = set(Service.objects.using(alias).filter(binary="nova-compute").values_list("host", flat=True))
    assert set(instances.values_list("host", flat=True)) <= hosts
    assert ComputeNode.objects.using(alias).count() == len(hosts)
    assert len(set(instances.values_list("availability_zone", flat=True))) > 1

    # explicit ids moved the sequences on: Nova can insert the next row
    Instance.objects.using(alias).create(uuid="00000000-0000-4000-8000-000000000001", deleted=False)


@pytest.mark.parametrize("backend", ["sqlite"])  # rows are built in Python: the backend does not matter
def test_seed_demo_is_deterministic(make_db, nova_db_alias):
    uuids = []
    for _ in range(2):
        alias = nova_db_alias(make_db("dump"))
        assert call("seed_demo", "--instances", 40, "--seed", 9, database=alias).code == 0
        uuids.append(
            list(Instance.objects.using(alias).order_by("id").values_list("uuid", "host", "vm_state", "display_name"))
        )
    assert uuids[0] == uuids[1]
    other = nova_db_alias(make_db("dump"))
    assert call("seed_demo", "--instances", 40, "--seed", 10, database=other).code == 0
    assert list(Instance.objects.using(other).order_by("id").values_list("uuid", flat=True)) != [u[0] for u in uuids[0]]


def test_seed_demo_refuses_a_database_with_instances_or_without_schema(make_db, nova_db_alias):
    alias = nova_db_alias(make_db("dump"))
    assert call("seed_demo", "--instances", 5, database=alias).code == 0
    again = call("seed_demo", "--instances", 5, database=alias)
    assert again.code == 1 and "already has instances" in again.err
    assert Instance.objects.using(alias).count() == 5

    empty = nova_db_alias(make_db("empty"))
    result = call("seed_demo", database=empty)
    assert result.code == 2 and "db_sync" in result.err and "Traceback" not in result.err
    connections[empty].close()

    bad = call("seed_demo", "--instances", 0, database=alias)
    assert bad.code == 2 and "--instances" in bad.err


@pytest.mark.parametrize("backend", ["mysql"])
def test_seed_demo_load_data_writes_the_rows_of_the_generic_path(make_db, nova_db_alias):
    """MariaDB's LOAD DATA path stores, table by table, the very rows the multi-row INSERT path stores."""
    fast, generic = make_db("dump"), make_db("dump")
    alias = nova_db_alias(fast)
    result = call("seed_demo", "--instances", 300, "--seed", 5, "--format", "json", database=alias)
    assert result.code == 0, result.err
    report = json.loads(result.out)
    assert report["method"] == "LOAD DATA LOCAL INFILE" and "note:" not in result.err

    cloud = DemoCloud(connections[nova_db_alias(generic)], instances=300, seed=5, fastest_load=False)
    assert cloud.build() == report["rows"] and cloud.load_method == "multi-row INSERT"
    for table in sorted(report["rows"]) + ["instance_types"]:
        assert table_rows(fast, table) == table_rows(generic, table), table
    # NULLs, booleans, datetimes and quoted JSON text made the trip
    instances = Instance.objects.using(alias)
    assert instances.filter(launched_at=None).exists() and instances.exclude(deleted_at=None).exists()
    assert instances.filter(deleted=True).exists() and instances.filter(deleted=False).exists()
    assert '"arch": "x86_64"' in ComputeNode.objects.using(alias).first().cpu_info


@pytest.mark.parametrize("backend", ["mysql"])
def test_seed_demo_killed_in_the_middle_of_a_load_commits_nothing(make_db, nova_db_alias):
    """The Nova connection dies while LOAD DATA runs: exit 255, one line, and not one row of the seed stays.

    Deterministic, without a hook: another connection holds ``LOCK TABLES instance_metadata WRITE``,
    so the seed stops on its LOAD DATA into a table loaded after users, instances and fixed_ips; it is
    killed there (the lowest connection id of the seed's: the command's own, opened first).
    """
    db = make_db("dump")
    db.execute("DELETE FROM instance_types")  # the flavors are written by the seed's transaction too
    alias = nova_db_alias(db)
    locker, monitor = db.connect(), db.connect()
    ours = set()
    for conn in (locker, monitor):
        cur = conn.cursor()
        cur.execute("SELECT CONNECTION_ID()")
        ours.add(cur.fetchone()[0])
    monitor_cursor = monitor.cursor()
    locker.cursor().execute("LOCK TABLES instance_metadata WRITE")
    results = []

    def seed():
        try:
            results.append(call("seed_demo", "--instances", 300, database=alias))
        finally:
            connections[alias].close()

    thread = threading.Thread(target=seed)
    thread.start()
    try:
        waiting = []
        for _ in range(600):  # a failure guard only: the seed stops on the lock however slow the machine is
            monitor_cursor.execute(
                "SELECT id, info FROM information_schema.processlist WHERE db = %s AND info LIKE 'LOAD DATA%%'"
                " AND state LIKE '%%metadata lock%%'",
                [db.name],
            )
            waiting = monitor_cursor.fetchall()
            if waiting or not thread.is_alive():
                break
            time.sleep(0.1)
        assert waiting, f"the seed never waited in LOAD DATA: {results}"
        monitor_cursor.execute("SELECT id FROM information_schema.processlist WHERE db = %s", [db.name])
        nova = min(row[0] for row in monitor_cursor.fetchall() if row[0] not in ours)
        monitor_cursor.execute(f"KILL CONNECTION {int(nova)}")
    finally:
        locker.cursor().execute("UNLOCK TABLES")
        thread.join()
        locker.close()
        monitor.close()
    (result,) = results
    assert result.code == 255 and len(result.err.splitlines()) == 1, result.err
    assert "Traceback" not in result.err
    for table in ("instances", "fixed_ips", "users", "instance_metadata", "instance_types"):
        assert db.fetchall(f"SELECT COUNT(*) FROM {table}") == [(0,)], table
    assert call("seed_demo", "--instances", 300, database=alias).code == 0  # nothing left to refuse a rerun
