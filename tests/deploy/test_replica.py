"""Read replicas on real replication (``scripts/replication.sh``), on MariaDB and PostgreSQL.

The session starts the PostgreSQL streaming pair (5441/5442) and the MariaDB
GTID pair (3341/3342) unless they stream already, and stops them at the end
if it started them. Each backend gets one copy of the Nova Essex reference
dump, loaded on the primary and replicated. Replay is paused with
``pg_wal_replay_pause()`` / ``STOP SLAVE SQL_THREAD``: the replica then
receives the primary's changes but does not apply them, so its lag grows.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
import uuid

import pytest
from django.conf import settings as django_settings

from inventory.models import Flavor, Instance
from novaweb import replication, router
from novaweb.middleware import COOKIE_NAME
from tests.inventory.test_flavors import flavor_post  # the change form's POST, with its version
from tests.support import replication as pair_support
from tests.support.backends import REPO_ROOT
from tests.support.commands import call
from tests.support.replication import PairDatabase, wait_until

pytestmark = pytest.mark.parametrize("backend", ["mysql", "postgresql"])

FLAVORS = "/admin/inventory/flavor/"
INSTANCES = "/admin/inventory/instance/"
ON_REPLICA = "reads from the replica ("
ON_PRIMARY_LAG = "reads from the primary: the replica is "
ON_PRIMARY_DOWN = "reads from the primary: the replica does not answer"


@pytest.fixture(scope="session")
def replication_pairs():
    """Both pairs streaming; stopped at the end when this session started them."""
    started = pair_support.ensure_pair()
    databases = {}

    def database(backend):
        if backend not in databases:
            databases[backend] = PairDatabase(backend)
        return databases[backend]

    yield database
    for db in databases.values():
        db.drop()
    if started and "PYTEST_XDIST_WORKER" not in os.environ:
        proc = pair_support.script("stop")
        assert proc.returncode == 0, proc.stderr


@pytest.fixture
def pair(admin_client, backend, replication_pairs, nova_db_alias, settings):
    """The pair's database as ``nova`` and ``nova_replica``, caught up, with a 1-second lag limit."""
    db = replication_pairs(backend)
    db.wait_caught_up()
    settings.NOVA_REPLICA_MAX_LAG = 1.0
    settings.NOVA_REPLICA_CAUSAL_WAIT = 0.2
    nova_db_alias(db.side("primary"), alias="nova")
    nova_db_alias(db.side("replica"), alias="nova_replica")
    replication.forget()
    token = router.begin(router.RoutingState())
    status = replication.replica_status()  # the process has watched the replica before the test starts
    assert (status.state, status.serves_reads) == ("streaming", True), status
    yield db
    router.end(token)
    replication.forget()


def page(client, url):
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code, response.content.decode()[:500])
    return response.content.decode()


def new_instance(db, name):
    """An instance row written on the primary (raw SQL: the test's own routing state stays clean)."""
    vm_uuid = str(uuid.uuid4())
    db.execute(
        "INSERT INTO instances (created_at, deleted, uuid, display_name, hostname, instance_type_id)"
        " VALUES (CURRENT_TIMESTAMP, %s, %s, %s, %s, 1)",
        [False, vm_uuid, name, name],
    )
    return vm_uuid


def test_the_pair_streams_and_the_header_says_reads_go_to_the_replica(pair, admin_client):
    assert pair_support.script("status").returncode == 0
    listing = page(admin_client, FLAVORS)
    assert ON_REPLICA in listing
    health = admin_client.get("/healthz").json()
    assert health["status"] == "ok"
    assert health["replica"]["state"] == "streaming"
    assert health["replica"]["reads"] == "replica"
    assert health["replica"]["lag_seconds"] <= 1.0


def test_a_lagging_replica_sends_reads_to_the_primary_until_it_catches_up(pair, admin_client, client):
    with pair.replay_paused():
        name = f"vm-written-while-paused-{uuid.uuid4().hex[:8]}"
        vm_uuid = new_instance(pair, name)
        search = f"{INSTANCES}?q={vm_uuid}"  # the uuid is in the search box; the name only in a result

        # Bounded wait: once the lag passes the 1-second limit, the search reads the primary and finds it.
        found = wait_until(lambda: name in (text := page(admin_client, search)) and text, 30, "the row found")
        assert ON_PRIMARY_LAG in found
        assert "(limit 1 s, replay stopped)" in found
        # ... which the replica really does not have yet.
        assert pair.fetchall("replica", "SELECT uuid FROM instances WHERE uuid = %s", [vm_uuid]) == []

        health = client.get("/healthz")
        assert health.status_code == 200  # the primary serves
        body = health.json()
        assert body["replica"]["state"] == "replay stopped"
        assert body["replica"]["reads"] == "primary"
        assert body["replica"]["lag_seconds"] > 1.0
        assert "behind (limit 1 s" in body["replica"]["reason"]

    # Replay resumed: the replica applies the row and reads go back to it.
    back = wait_until(lambda: ON_REPLICA in (text := page(admin_client, search)) and text, 30, "reads back")
    assert name in back
    assert client.get("/healthz").json()["replica"]["reads"] == "replica"


def test_a_stopped_replica_server_never_gives_a_500_or_503(pair, admin_client, client):
    flavor_page = page(admin_client, f"{FLAVORS}1/change/")
    assert ON_REPLICA in flavor_page  # the replica served a moment ago: its connection is open
    stopped = pair_support.script("stop", "replica")
    assert stopped.returncode == 0, stopped.stderr
    try:
        # The last reading ("streaming") still counts: the next read finds the replica dead, and that
        # request is answered again from the primary (which the header then says), not with a 503.
        replication.tracker().checked_at = time.monotonic()
        assert replication.replica_status().serves_reads
        response = admin_client.get(FLAVORS)
        assert response.status_code == 200
        assert ON_PRIMARY_DOWN in response.content.decode()
        assert "m1.tiny" in response.content.decode()

        urls = [INSTANCES, f"{INSTANCES}?q=vm", FLAVORS, f"{FLAVORS}1/change/", "/admin/", "/admin/schema/"]
        for url in urls:  # the first ones still find the replica's last reading "streaming"
            response = admin_client.get(url)
            assert response.status_code == 200, (url, response.status_code)
        wait_until(lambda: ON_PRIMARY_DOWN in page(admin_client, "/admin/"), 10, "the header saying so")
        for url in urls:
            response = admin_client.get(url)
            assert response.status_code == 200, (url, response.status_code)
            assert ON_PRIMARY_DOWN in response.content.decode(), url
        assert "m1.tiny" in page(admin_client, FLAVORS)

        anonymous = client.get("/healthz")
        assert anonymous.status_code == 200
        body = anonymous.json()
        assert body["replica"]["state"] == "unreachable"
        assert body["replica"]["reads"] == "primary"
        assert body["databases"]["nova_replica"] == "unavailable"
        text = anonymous.content.decode().replace(body["replica"].get("reference", ""), "")
        for secret in ("127.0.0.1", "3342", "5442", "refused", "connect", "postgres", "root"):
            assert secret not in text.lower(), secret
        assert "detail" not in body["replica"]
        assert "detail" in admin_client.get("/healthz").json()["replica"]  # staff see the driver's line
    finally:
        started = pair_support.script("start")
        assert started.returncode == 0, started.stdout + started.stderr
    # Back: once the next check finds it answering, reads go to the replica again.
    wait_until(lambda: ON_REPLICA in page(admin_client, FLAVORS), 30, "reads back on the replica")


def test_a_writer_reads_its_own_flavor_edit_while_others_read_the_replica(
    pair, admin_client, client, django_user_model, settings
):
    settings.NOVA_REPLICA_MAX_LAG = 3600.0  # only causal reads decide here, not the lag
    other = django_user_model.objects.create_superuser("other", "other@example.org", "pw")
    client.force_login(other)
    flavor = Flavor.objects.using("nova").get(pk=2)
    old_name, new_name = flavor.name, f"m1.small-{uuid.uuid4().hex[:8]}"
    with pair.replay_paused():
        response = admin_client.post(f"{FLAVORS}2/change/", flavor_post(flavor, name=new_name))
        assert response.status_code == 302, response.content.decode()[:2000]
        position = response.cookies[COOKIE_NAME].value
        assert position.startswith(f"{pair.backend}:")
        assert pair.fetchall("primary", "SELECT name FROM instance_types WHERE id = 2") == [(new_name,)]
        assert pair.fetchall("replica", "SELECT name FROM instance_types WHERE id = 2") == [(old_name,)]

        # The writer's next pages: the replica has not applied the save, so they come from the primary.
        for _ in range(2):
            listing = page(admin_client, response["Location"])
            assert new_name in listing
            assert admin_client.cookies[COOKIE_NAME].value == position  # still waiting for the replica

        # Another user, who wrote nothing, reads the replica: the old name.
        theirs = page(client, FLAVORS)
        assert old_name in theirs and new_name not in theirs
        assert ON_REPLICA in theirs

    # Replay resumed: once the replica has the save, the writer reads it there and the cookie goes.
    pair.wait_caught_up()
    after = admin_client.get(FLAVORS)
    assert new_name in after.content.decode()
    assert after.cookies[COOKIE_NAME].value == ""  # deleted: the replica has applied the write
    assert new_name in page(client, FLAVORS)  # and everyone sees it on the replica


@pytest.mark.parametrize("forged", ["garbage", "postgresql:zz/1", "mysql:0-1", "mysql:0-1-2;x", "sqlite:1", ""])
def test_a_forged_position_cookie_is_dropped(pair, admin_client, forged):
    admin_client.cookies[COOKIE_NAME] = forged
    response = admin_client.get(FLAVORS)
    assert response.status_code == 200
    assert ON_REPLICA in response.content.decode()
    if forged:
        assert response.cookies[COOKIE_NAME].value == ""  # deleted


def test_a_position_the_replica_never_reaches_keeps_the_writer_on_the_primary(
    pair, admin_client, client, django_user_model, settings
):
    settings.NOVA_REPLICA_MAX_LAG = 3600.0
    client.force_login(django_user_model.objects.create_superuser("other", "other@example.org", "pw"))
    far = {"postgresql": "postgresql:FFFFFFFF/FFFFFFFF", "mysql": "mysql:0-1-18446744073709551615"}[pair.backend]
    admin_client.cookies[COOKIE_NAME] = far
    (old_name,) = pair.fetchall("primary", "SELECT name FROM instance_types WHERE id = 5")[0]
    new_name = f"{old_name}-{uuid.uuid4().hex[:6]}"
    with pair.replay_paused():
        pair.execute("UPDATE instance_types SET name = %s WHERE id = 5", [new_name])  # on the primary only
        for _ in range(2):
            response = admin_client.get(FLAVORS)
            assert response.status_code == 200  # after at most the causal wait
            assert new_name in response.content.decode()  # from the primary
            assert COOKIE_NAME not in response.cookies  # kept: the replica has not applied it
        assert old_name in page(client, FLAVORS) and new_name not in page(client, FLAVORS)  # others: the replica
    pair.execute("UPDATE instance_types SET name = %s WHERE id = 5", [old_name])


def test_orm_reads_after_a_write_wait_for_the_replica_or_use_the_primary(pair, settings):
    settings.NOVA_REPLICA_MAX_LAG = 3600.0
    with pair.replay_paused():
        Flavor.objects.filter(pk=3).update(memory_mb=4321)  # the context wrote (router: primary)
        assert pair.fetchall("replica", "SELECT memory_mb FROM instance_types WHERE id = 3") != [(4321,)]
        assert Flavor.objects.get(pk=3).memory_mb == 4321  # not on the replica yet: read from the primary
        assert router.read_alias() == "nova"
    pair.wait_caught_up()
    assert Flavor.objects.get(pk=3).memory_mb == 4321
    # Applied: reads are back on the replica (at its next check, within a second).
    wait_until(lambda: router.read_alias() == "nova_replica", 10, "reads back on the replica")
    Flavor.objects.using("nova").filter(pk=3).update(memory_mb=2048)


def test_a_replica_whose_lag_cannot_be_read_still_serves_reads(pair, admin_client, nova_db_alias, backend):
    sides = [pair.side("primary")]  # not a standby / no replication configured
    if backend == "mysql":  # an account that may read but not SHOW SLAVE STATUS
        pair.execute("CREATE USER IF NOT EXISTS 'novatest_reader'@'%'")
        pair.execute(f"GRANT SELECT ON `{pair.name}`.* TO 'novatest_reader'@'%'")
        pair.wait_caught_up()
        reader = pair.side("replica")
        sides.append(type(reader)(backend, pair.name, reader.url.replace("root@", "novatest_reader@")))
    for side in sides:
        nova_db_alias(side, alias="nova_replica")
        replication.forget()
        listing = page(admin_client, FLAVORS)
        assert "reads from the replica (lag not measured)" in listing, side.url
        assert admin_client.get("/healthz").json()["replica"]["state"] == "not measured"
        assert router.read_alias() == "nova_replica"
        result = call("db_archive_deleted_rows", "--max-replica-lag", "1", database="nova")
        assert result.code == 2
        assert "the replica's lag cannot be read" in result.err


def _archive_env(pair, tmp_path):
    env = dict(os.environ)
    for name in ("DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE"):
        env.pop(name, None)
    env.update(
        DATABASE_URL=f"sqlite:///{tmp_path / 'django.sqlite3'}",
        NOVA_DATABASE_URL=pair.side("primary").url,
        NOVA_REPLICA_DATABASE_URL=pair.side("replica").url,
        PYTHONUNBUFFERED="1",
    )
    return env


def run_while_replay_is_paused(pair, tmp_path, *args):
    """Run ``manage.py ARGS`` with replay paused until it says it waits, then resume; (code, stdout, stderr lines)."""
    lines = []
    with pair.replay_paused():
        proc = subprocess.Popen(
            [sys.executable, str(REPO_ROOT / "manage.py"), *args],
            cwd=REPO_ROOT,
            env=_archive_env(pair, tmp_path),
            text=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        reader = threading.Thread(target=lambda: lines.extend(proc.stderr), daemon=True)
        reader.start()
        try:
            wait_until(lambda: any("waiting for the replica" in line for line in lines), 60, "the wait shown")
            assert proc.poll() is None  # replay is paused: it keeps waiting
        except BaseException:
            proc.kill()
            raise
    proc.wait(timeout=120)
    reader.join(timeout=10)
    return proc.returncode, proc.stdout.read(), lines


def test_archive_with_max_replica_lag_waits_while_replay_is_paused(pair, tmp_path):
    names = [f"archived-{uuid.uuid4().hex[:8]}-{n}" for n in range(10)]
    for name in names:
        pair.execute(
            "INSERT INTO instances (created_at, deleted, deleted_at, uuid, hostname, instance_type_id)"
            " VALUES ('2026-01-02 08:00:00', %s, '2026-01-10 08:00:00', %s, %s, 1)",
            [True, str(uuid.uuid4()), name],
        )
    pair.wait_caught_up()
    code, out, lines = run_while_replay_is_paused(
        pair,
        tmp_path,
        "db_archive_deleted_rows",
        "--until-complete",
        "--max_rows",
        "1",
        "--sleep",
        "0.2",
        "--max-replica-lag",
        "1",
        "--verbose",
    )
    err = "".join(lines)
    assert code == 1, (out, err)  # rows archived
    waiting = next(line for line in lines if "waiting for the replica" in line)
    assert "s behind, replay stopped, limit 1 s" in waiting
    assert "replica caught up" in err
    assert re.search(r"^instances\s+\| (\d+)$", out, re.M), out
    hostnames = ", ".join(f"'{n}'" for n in names)
    assert pair.fetchall("primary", f"SELECT COUNT(*) FROM instances WHERE hostname IN ({hostnames})") == [(0,)]
    assert pair.fetchall("primary", f"SELECT COUNT(*) FROM shadow_instances WHERE hostname IN ({hostnames})") == [
        (len(names),)
    ]
    pair.wait_caught_up()
    assert pair.fetchall("replica", f"SELECT COUNT(*) FROM shadow_instances WHERE hostname IN ({hostnames})") == [
        (len(names),)
    ]


def test_online_data_migrations_with_max_replica_lag_wait_while_replay_is_paused(pair, tmp_path):
    pair.execute("UPDATE instance_types SET deleted = NULL WHERE id IN (2, 3)")
    pair.wait_caught_up()
    code, out, lines = run_while_replay_is_paused(pair, tmp_path, "db_online_data_migrations", "--max-replica-lag", "1")
    assert code == 0, (out, lines)  # nothing left to migrate
    assert any("replica caught up" in line for line in lines)
    assert pair.fetchall("primary", "SELECT COUNT(*) FROM instance_types WHERE deleted IS NULL") == [(0,)]


def test_online_data_migrations_with_max_replica_lag_run_on_a_replica_that_keeps_up(pair, tmp_path):
    pair.execute("UPDATE instance_types SET deleted = NULL WHERE id = 4")
    pair.wait_caught_up()
    proc = subprocess.run(
        [sys.executable, str(REPO_ROOT / "manage.py"), "db_online_data_migrations", "--max-replica-lag", "1"],
        cwd=REPO_ROOT,
        env=_archive_env(pair, tmp_path),
        text=True,
        capture_output=True,
        timeout=120,
    )
    assert proc.returncode == 0, (proc.stdout, proc.stderr)
    assert "waiting for the replica" not in proc.stderr
    assert pair.fetchall("primary", "SELECT deleted FROM instance_types WHERE id = 4") in ([(False,)], [(0,)])


@pytest.mark.parametrize(("command", "code"), [("db_archive_deleted_rows", 2), ("db_online_data_migrations", 127)])
@pytest.mark.parametrize("value", ["-1", "soon", "nan", ""])
def test_max_replica_lag_bad_values_are_bad_input(pair, command, code, value):
    result = call(command, f"--max-replica-lag={value}", database="nova")
    assert result.code == code, result.err
    assert len(result.err.strip().splitlines()) == 1
    assert "max-replica-lag" in result.err


@pytest.mark.parametrize(("command", "code"), [("db_archive_deleted_rows", 2), ("db_online_data_migrations", 127)])
def test_max_replica_lag_without_a_replica_says_what_to_set(pair, command, code):
    from django.db import connections

    replica = connections.settings.pop(django_settings.NOVA_REPLICA_ALIAS)
    try:
        result = call(command, "--max-replica-lag", "1", database="nova")
    finally:
        connections.settings[django_settings.NOVA_REPLICA_ALIAS] = replica
    assert result.code == code
    assert result.err.strip() == "error: --max-replica-lag needs a replica to watch: set NOVA_REPLICA_DATABASE_URL"


def test_without_a_replica_everything_uses_the_primary(admin_client, make_db, nova_db_alias, monkeypatch):
    from django.db import connections

    monkeypatch.delitem(connections.settings, django_settings.NOVA_REPLICA_ALIAS, raising=False)
    primary = make_db("dump")
    primary.execute("UPDATE instance_types SET name = 'm1.tiny-primary' WHERE id = 1")
    nova_db_alias(primary, alias="nova")
    listing = page(admin_client, FLAVORS)
    assert "m1.tiny-primary" in listing
    assert "reads from" not in listing  # no replica: the header says nothing about one
    assert Flavor.objects.get(pk=1).name == "m1.tiny-primary"
    assert Instance.objects.db == "nova"
