"""novaweb on a 3-node MariaDB Galera cluster (``scripts/galera-cluster.sh``).

The session fixture starts the cluster (installing galera-4 when missing) and
stops it afterwards if it started it; the tests are skipped only when the
script says galera-4 cannot be installed here (exit 3).
"""

from __future__ import annotations

import contextlib
import fcntl
import itertools
import os
import subprocess
import sys

import MySQLdb
import pytest

from tests.inventory.test_flavors import flavor_post  # the change form's POST, with its version
from tests.support.backends import REPO_ROOT, TestDatabase

pytestmark = pytest.mark.galera

SCRIPT = REPO_ROOT / "scripts" / "galera-cluster.sh"
NODES = (1, 2, 3)
PORT_BASE = 4000
CANNOT_INSTALL = 3
_names = itertools.count(1)
#: Tables Galera cannot replicate well: those without a primary key.
NO_PRIMARY_KEY = (
    "SELECT t.TABLE_NAME FROM information_schema.TABLES t WHERE t.TABLE_SCHEMA = DATABASE() AND NOT EXISTS"
    " (SELECT 1 FROM information_schema.TABLE_CONSTRAINTS c WHERE c.TABLE_SCHEMA = t.TABLE_SCHEMA"
    " AND c.TABLE_NAME = t.TABLE_NAME AND c.CONSTRAINT_TYPE = 'PRIMARY KEY')"
)


def cluster(*args, timeout=180):
    return subprocess.run([str(SCRIPT), *map(str, args)], capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="session")
def galera():
    """The running cluster; started (and later stopped) here unless it already ran."""
    lock_path = REPO_ROOT / "var" / "galera.lock"
    lock_path.parent.mkdir(exist_ok=True)
    with lock_path.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # xdist workers: one start at a time
        was_running = cluster("status").returncode == 0
        if not was_running:
            proc = cluster("start")
            if proc.returncode == CANNOT_INSTALL:
                pytest.skip(f"no Galera cluster on this machine: {proc.stderr.strip().splitlines()[-1]}")
            assert proc.returncode == 0, f"galera-cluster.sh start failed:\n{proc.stdout}\n{proc.stderr}"
    yield
    # Under xdist another worker may still use it: only a lone run stops what it started.
    if not was_running and "PYTEST_XDIST_WORKER" not in os.environ:
        proc = cluster("stop")
        assert proc.returncode == 0, proc.stderr


def query(node, sql, database=None):
    conn = MySQLdb.connect(host="127.0.0.1", port=PORT_BASE + node, user="root", database=database or "")
    try:
        cur = conn.cursor()
        cur.execute(sql)
        rows = cur.fetchall() if cur.description else []
        conn.commit()
        return [tuple(r) for r in rows]
    finally:
        conn.close()


class ClusterDatabase:
    """One database on the cluster, reachable through each node."""

    def __init__(self):
        self.name = f"novatest_galera_{os.getpid()}_{next(_names)}"
        query(1, f"CREATE DATABASE `{self.name}` CHARACTER SET utf8")

    def url(self, node):
        return f"mysql://root@127.0.0.1:{PORT_BASE + node}/{self.name}"

    def on(self, node) -> TestDatabase:
        """The database through ``node``, for ``nova_db_alias``."""
        return TestDatabase("mysql", self.name, self.url(node))

    def query(self, node, sql):
        return query(node, sql, self.name)

    def drop(self):
        with contextlib.suppress(MySQLdb.Error):
            query(1, f"DROP DATABASE IF EXISTS `{self.name}`")


@pytest.fixture
def cluster_db(galera):
    dbs = []

    def make():
        dbs.append(ClusterDatabase())
        return dbs[-1]

    yield make
    for db in dbs:
        db.drop()


@pytest.fixture(scope="module")
def synced(galera):
    """A database synced through node 1 (db_sync on an empty database)."""
    db = ClusterDatabase()
    proc = manage("db_sync", db=db, node=1)
    yield db, proc
    db.drop()


def manage(*args, db, node):
    cmd, kwargs = _manage_cmd(args, db, node)
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, **kwargs)


def _manage_cmd(args, db, node):
    env = {
        **os.environ,
        "DATABASE_URL": "sqlite://:memory:",
        "NOVA_DATABASE_URL": db.url(node),
        "NOVA_REPLICA_DATABASE_URL": "",
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    return [sys.executable, str(REPO_ROOT / "manage.py"), *args], {"cwd": REPO_ROOT, "env": env}


def manage_bg(*args, db, node):
    cmd, kwargs = _manage_cmd(args, db, node)
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kwargs)


def test_db_sync_through_node1_gives_the_schema_on_every_node(synced):
    db, proc = synced
    assert proc.returncode == 0, proc.stderr
    assert "Schema synced to version 82" in proc.stdout
    for node in (2, 3):
        drift = manage("db_drift", db=db, node=node)
        assert drift.returncode == 0, f"node {node}: {drift.stdout}{drift.stderr}"
        assert db.query(node, "SELECT version FROM migrate_version") == [(82,)]
        assert db.query(node, "SELECT COUNT(*) FROM instance_types") == [(5,)]
        # Galera's rule: every table has a primary key.
        assert db.query(node, NO_PRIMARY_KEY) == []


def edit_flavor(admin_client, pk, **changes):
    from inventory.models import Flavor

    flavor = Flavor.objects.using("nova").get(pk=pk)
    response = admin_client.post(f"/admin/inventory/flavor/{pk}/change/", flavor_post(flavor, **changes))
    assert response.status_code == 302, response.content.decode()[:2000]


def test_flavor_edited_through_node2_is_visible_on_node3(synced, admin_client, nova_db_alias):
    db, _ = synced
    nova_db_alias(db.on(2), alias="nova")
    edit_flavor(admin_client, 2, name="m1.small-galera", memory_mb="3072")
    assert db.query(3, "SELECT name, memory_mb FROM instance_types WHERE id = 2") == [("m1.small-galera", 3072)]
    nova_db_alias(db.on(3), alias="nova")
    assert "m1.small-galera" in admin_client.get("/admin/inventory/flavor/").content.decode()


def test_two_db_syncs_on_two_nodes_at_once_end_in_one_schema(cluster_db):
    db = cluster_db()
    runs = [manage_bg("db_sync", db=db, node=node) for node in (1, 2)]
    outputs = [run.communicate(timeout=120) for run in runs]
    for run, (out, err) in zip(runs, outputs, strict=True):
        assert run.returncode == 0, f"{out}{err}"
    summaries = sorted(out.strip().splitlines()[-1].split(":")[0] for out, _ in outputs)
    assert summaries == ["Nothing to do", "Schema synced to version 82"]
    drift = manage("db_drift", db=db, node=3)
    assert drift.returncode == 0, drift.stdout + drift.stderr
    assert db.query(3, "SELECT COUNT(*) FROM instance_types") == [(5,)]
    assert db.query(3, "SELECT holder FROM novaweb_sync_lock") == [(None,)]


def test_a_stopped_node_leaves_the_other_two_serving(synced, admin_client, nova_db_alias):
    db, _ = synced
    assert cluster("stop", 3).returncode == 0
    try:
        for node in (1, 2):
            nova_db_alias(db.on(node), alias="nova")
            health = admin_client.get("/healthz")
            assert health.status_code == 200, f"node {node}: {health.content.decode()}"
            listing = admin_client.get("/admin/inventory/flavor/")
            assert "m1.medium" in listing.content.decode(), f"node {node}: HTTP {listing.status_code}"
        edit_flavor(admin_client, 4, name="m1.large-while-node3-down")
        assert db.query(1, "SELECT name FROM instance_types WHERE id = 4") == [("m1.large-while-node3-down",)]
        assert "127.0.0.1:4003 stopped" in cluster("status").stdout
    finally:
        proc = cluster("start", 3)
        assert proc.returncode == 0, proc.stderr
    # Back in the cluster, node 3 caught up on what it missed.
    assert db.query(3, "SELECT name FROM instance_types WHERE id = 4") == [("m1.large-while-node3-down",)]


def test_archive_through_node2_moves_rows_on_every_node(synced):
    db, _ = synced
    db.query(1, "INSERT INTO instances (created_at, deleted_at, deleted, uuid) VALUES (NOW(), NOW(), 1, 'gone-1')")
    proc = manage("db_archive_deleted_rows", "--until-complete", db=db, node=2)
    assert proc.returncode == 1, proc.stderr  # nova-manage's "rows were archived"
    assert db.query(3, "SELECT uuid FROM shadow_instances") == [("gone-1",)]
    assert db.query(3, "SELECT COUNT(*) FROM instances WHERE uuid = 'gone-1'") == [(0,)]
    assert manage("db_drift", db=db, node=3).returncode == 0


def test_shadow_tables_have_primary_keys(synced):
    db, _ = synced
    db.query(1, "INSERT INTO instances (created_at, deleted_at, deleted, uuid) VALUES (NOW(), NOW(), 1, 'gone-2')")
    manage("db_archive_deleted_rows", "--until-complete", db=db, node=1)
    assert db.query(2, NO_PRIMARY_KEY) == []
