"""Read replica routing, through the admin, on MariaDB and PostgreSQL.

Primary and "replica" are two separate clones of the reference dump, not
replicated: a read that hits the replica sees what only the replica has.
The replica's m1.tiny is renamed and it holds an instance the primary lacks.
"""

from __future__ import annotations

import time
import uuid

import pytest

from inventory.models import Flavor, Instance
from novaweb import router
from novaweb.middleware import COOKIE_NAME
from tests.inventory.test_flavors import flavor_post  # the change form's POST, with its version

pytestmark = pytest.mark.parametrize("backend", ["mysql", "postgresql"])

FLAVORS = "/admin/inventory/flavor/"
INSTANCES = "/admin/inventory/instance/"
REPLICA_FLAVOR = "m1.tiny-on-replica"
REPLICA_VM = "vm-only-on-the-replica"


@pytest.fixture(autouse=True)
def fresh_routing_state():
    """Each test starts with a context that has never written."""
    token = router.begin(router.RoutingState())
    yield
    router.end(token)


@pytest.fixture
def dbs(admin_client, make_db, nova_db_alias):
    primary, replica = make_db("dump"), make_db("dump")
    replica.execute(f"UPDATE instance_types SET name = '{REPLICA_FLAVOR}' WHERE id = 1")
    replica.execute("CREATE INDEX replica_only_idx ON instance_types (memory_mb)")
    nova_db_alias(primary, alias="nova")
    nova_db_alias(replica, alias="nova_replica")
    Instance.objects.using("nova_replica").create(
        uuid=str(uuid.uuid4()), display_name=REPLICA_VM, hostname=REPLICA_VM, flavor_id=1, deleted=False
    )
    return primary, replica


def page(client, url):
    response = client.get(url)
    assert response.status_code == 200, url
    return response.content.decode()


def test_admin_lists_detail_pages_and_export_read_the_replica(dbs, admin_client):
    assert REPLICA_FLAVOR in page(admin_client, FLAVORS)
    assert REPLICA_FLAVOR in page(admin_client, f"{FLAVORS}1/change/")
    assert REPLICA_VM in page(admin_client, INSTANCES)
    export = admin_client.get(INSTANCES + "export.csv")
    assert export.status_code == 200
    assert REPLICA_VM in b"".join(export.streaming_content).decode()
    # The schema pages describe the replica's catalog.
    assert "replica_only_idx" in page(admin_client, "/admin/schema/table/instance_types/")


def test_flavor_save_writes_the_primary_and_the_writer_reads_it_back(dbs, admin_client, django_user_model, client):
    primary, replica = dbs
    small = Flavor.objects.using("nova").get(pk=2)
    response = admin_client.post(f"{FLAVORS}2/change/", flavor_post(small, name="m1.small-renamed"))
    assert response.status_code == 302, response.content.decode()[:2000]

    assert primary.fetchall("SELECT name FROM instance_types WHERE id = 2") == [("m1.small-renamed",)]
    assert replica.fetchall("SELECT name FROM instance_types WHERE id = 2") == [("m1.small",)]

    # The writer's next page comes from the primary: the saved name, the primary's m1.tiny.
    listing = page(admin_client, response["Location"])
    assert "m1.small-renamed" in listing
    assert REPLICA_FLAVOR not in listing

    # Another user, who wrote nothing, still reads the replica.
    other = django_user_model.objects.create_superuser("other", "other@example.org", "pw")
    client.force_login(other)
    assert REPLICA_FLAVOR in page(client, FLAVORS)
    assert "m1.small-renamed" not in page(client, FLAVORS)

    # Once the window has passed, the writer is back on the replica.
    admin_client.cookies[COOKIE_NAME] = f"{time.time() - router.PIN_SECONDS - 1:.3f}"
    listing = page(admin_client, FLAVORS)
    assert REPLICA_FLAVOR in listing
    assert "m1.small-renamed" not in listing


def test_orm_reads_replica_writes_primary_and_reads_its_own_writes(dbs):
    primary, replica = dbs
    assert Flavor.objects.get(pk=1).name == REPLICA_FLAVOR
    Flavor.objects.filter(pk=3).update(memory_mb=4321)
    assert primary.fetchall("SELECT memory_mb FROM instance_types WHERE id = 3") == [(4321,)]
    assert replica.fetchall("SELECT memory_mb FROM instance_types WHERE id = 3") != [(4321,)]
    assert Flavor.objects.get(pk=3).memory_mb == 4321  # within the window: the primary
    with router.use_primary():
        assert Flavor.objects.get(pk=1).name == "m1.tiny"


def test_without_a_replica_everything_uses_the_primary(admin_client, make_db, nova_db_alias, monkeypatch):
    from django.db import connections

    monkeypatch.delitem(connections.settings, "nova_replica", raising=False)
    primary = make_db("dump")
    primary.execute("UPDATE instance_types SET name = 'm1.tiny-primary' WHERE id = 1")
    nova_db_alias(primary, alias="nova")
    assert "m1.tiny-primary" in page(admin_client, FLAVORS)
    assert Flavor.objects.get(pk=1).name == "m1.tiny-primary"
