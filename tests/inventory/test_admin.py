"""The read-only inventory admin on every backend, against a dump clone seeded with a small demo cloud."""

from __future__ import annotations

import datetime
import re

import pytest
from django.db import connections

from inventory import states
from inventory.models import FixedIp, FloatingIp, Instance, InstanceAction, InstanceFault, Network, User
from tests.inventory.inventory_support import LIST_URL, listed_uuids, page, seed

INVENTORY_MODELS = ("instance", "network", "fixedip", "floatingip", "computenode", "service", "project", "user")


def test_filters_return_the_matching_live_rows(nova, admin_client):
    live = Instance.objects.live()
    host = live.values_list("host", flat=True).order_by("host").first()
    flavor_id = live.exclude(flavor=None).values_list("flavor_id", flat=True).first()
    project = live.values_list("project_id", flat=True).first()
    cases = [
        ({"host": host}, live.filter(host=host)),
        ({"vm_state": "active"}, live.filter(vm_state="active")),
        ({"vm_state": "error"}, live.filter(vm_state="error")),
        ({"task_state": "none"}, live.filter(task_state__isnull=True)),
        ({"task_state": "spawning"}, live.filter(task_state="spawning")),
        ({"power_state": "4"}, live.filter(power_state=4)),
        ({"availability_zone": "az-east"}, live.filter(availability_zone="az-east")),
        ({"flavor": str(flavor_id)}, live.filter(flavor_id=flavor_id)),
        ({"project_id": project}, live.filter(project_id=project)),
        ({"host": host, "vm_state": "active"}, live.filter(host=host, vm_state="active")),
    ]
    for params, expected in cases:
        shown = listed_uuids(page(admin_client, LIST_URL, **params))
        assert sorted(shown) == sorted(expected.values_list("uuid", flat=True)), params
        assert shown, f"the fixture should have rows for {params}"


def test_soft_deleted_rows_are_hidden_unless_asked(nova, admin_client):
    deleted = set(Instance.objects.soft_deleted().values_list("uuid", flat=True))
    live = set(Instance.objects.live().values_list("uuid", flat=True))
    assert deleted and live
    assert set(listed_uuids(page(admin_client, LIST_URL))) == live
    assert set(listed_uuids(page(admin_client, LIST_URL, deleted="deleted"))) == deleted
    assert set(listed_uuids(page(admin_client, LIST_URL, deleted="all"))) == live | deleted
    html = page(admin_client, LIST_URL)
    assert f"{len(live)} instances" in html


def test_search_by_uuid_ip_and_name_prefix(nova, admin_client):
    target = Instance.objects.live().filter(fixed_ips__isnull=False).order_by("id")[5]
    fixed = FixedIp.objects.get(instance=target)
    assert listed_uuids(page(admin_client, LIST_URL, q=target.uuid)) == [target.uuid]
    assert listed_uuids(page(admin_client, LIST_URL, q=fixed.address)) == [target.uuid]

    floating = FloatingIp.objects.filter(fixed_ip__instance__deleted=False).select_related("fixed_ip__instance").first()
    owner = floating.fixed_ip.instance
    assert listed_uuids(page(admin_client, LIST_URL, q=floating.address)) == [owner.uuid]

    prefix = target.display_name.split("-")[0]
    expected = Instance.objects.live().filter(display_name__startswith=prefix)
    assert sorted(listed_uuids(page(admin_client, LIST_URL, q=prefix))) == sorted(
        expected.values_list("uuid", flat=True)
    )
    # not a substring search: the middle of a name finds nothing
    assert listed_uuids(page(admin_client, LIST_URL, q=target.display_name[3:])) == []
    assert listed_uuids(page(admin_client, LIST_URL, q="10.255.255.254")) == []
    assert "exact IP address" in page(admin_client, LIST_URL)


def test_list_shows_names_of_power_state_and_flavor_and_ips(nova, admin_client):
    instance = Instance.objects.live().filter(fixed_ips__floating_ips__isnull=False).select_related("flavor").first()
    floating = FloatingIp.objects.filter(fixed_ip__instance=instance).first()
    html = page(admin_client, LIST_URL, q=instance.uuid)
    row = html[html.index(f">{instance.uuid}</a></th>") :]
    row = row[: row.index("</tr>")]
    assert f'<td class="field-power">{states.power_state_name(instance.power_state)}</td>' in row
    assert f'<td class="field-flavor_name">{instance.flavor.name}</td>' in row
    assert floating.address in row and floating.fixed_ip.address in row


def test_instance_detail_shows_flavor_ips_metadata_groups_and_faults(nova, admin_client):
    fault = InstanceFault.objects.order_by("id").first()
    instance = Instance.objects.get(uuid=fault.instance_id)
    html = page(admin_client, f"/admin/inventory/instance/{instance.pk}/change/")
    assert instance.flavor.name in html
    assert fault.message in html
    for group in instance.security_group_associations.select_related("security_group"):
        assert group.security_group.name in html
    for item in instance.metadata.all():
        assert item.value in html
    live = Instance.objects.live().filter(fixed_ips__isnull=False).first()
    html = page(admin_client, f"/admin/inventory/instance/{live.pk}/change/")
    for ip in live.fixed_ips.all():
        assert ip.address in html
    assert 'name="_save"' not in html  # read-only: no save button


@pytest.fixture
def many_faults(nova):
    """An instance with 45 faults and 45 actions (Nova adds one per failed operation), removed afterwards."""
    instance = Instance.objects.live().order_by("id").first()
    when = datetime.datetime(2012, 1, 1)
    faults = InstanceFault.objects.bulk_create(
        InstanceFault(instance=instance, code=500, message=f"fault-{n:02d}", created_at=when + datetime.timedelta(n))
        for n in range(45)
    )
    actions = InstanceAction.objects.bulk_create(
        InstanceAction(instance=instance, action=f"action-{n:02d}", created_at=when + datetime.timedelta(n))
        for n in range(45)
    )
    yield instance
    InstanceFault.objects.filter(pk__in=[f.pk for f in faults]).delete()
    InstanceAction.objects.filter(pk__in=[a.pk for a in actions]).delete()


def test_instance_detail_shows_the_latest_faults_and_actions_only(nova, admin_client, many_faults):
    # Was every row: thousands of faults (each a traceback) made a page of tens of MB.
    html = page(admin_client, f"/admin/inventory/instance/{many_faults.pk}/change/")
    for kind in ("fault", "action"):
        shown = sorted(set(re.findall(rf"{kind}-(\d\d)", html)))
        assert shown == [f"{n:02d}" for n in range(25, 45)], kind  # the newest 20
        assert f"The latest 20 {kind}s are shown, newest first; the database holds more" in html
    other = Instance.objects.live().exclude(pk=many_faults.pk).order_by("id").first()
    assert "The latest 20" not in page(admin_client, f"/admin/inventory/instance/{other.pk}/change/")


def test_read_only_models_reject_writes(nova, admin_client):
    instance = Instance.objects.first()
    network = Network.objects.first()
    user = User.objects.first()
    for url in (
        LIST_URL,
        f"{LIST_URL}{instance.pk}/change/",
        f"{LIST_URL}{instance.pk}/delete/",
        f"{LIST_URL}add/",
        f"/admin/inventory/network/{network.pk}/change/",
        f"/admin/inventory/user/{user.pk}/change/",
    ):
        assert admin_client.post(url, {"display_name": "changed", "action": "delete_selected"}).status_code == 403, url
    instance.refresh_from_db()
    assert instance.display_name != "changed"
    assert Instance.objects.filter(pk=instance.pk).exists()


def test_query_count_per_page_is_constant(admin_client, backend, make_db, nova_db_alias, django_assert_max_num_queries):
    counts = {}
    for size in (10, 60):
        nova_db_alias(make_db("dump"), alias="nova")
        seed(size)
        nova = connections["nova"]
        admin_client.get(LIST_URL)  # warm
        before = len(nova.queries) if nova.queries_logged else None
        with django_assert_max_num_queries(12, connection=nova) as captured:
            html = page(admin_client, LIST_URL)
        assert len(listed_uuids(html)) == Instance.objects.live().count()
        counts[size] = len(captured)
        del before
    assert counts[10] == counts[60], counts


def test_secret_key_appears_in_no_page(nova, admin_client):
    user = User.objects.exclude(secret_key=None).order_by("id").first()
    secret, access = user.secret_key, user.access_key
    urls = [
        "/admin/inventory/user/",
        f"/admin/inventory/user/{user.pk}/change/",
        "/admin/inventory/user/export.csv",
        "/admin/inventory/project/",
        LIST_URL,
        f"/admin/inventory/user/?q={user.name}",
    ]
    for url in urls:
        response = admin_client.get(url)
        body = b"".join(response.streaming_content) if response.streaming else response.content
        text = body.decode()
        assert response.status_code == 200, url
        assert secret not in text, url
        assert access not in text, url
    assert f"{access[:4]}****" in page(admin_client, "/admin/inventory/user/")


def test_network_used_and_free_fixed_ip_counts(nova, admin_client):
    html = page(admin_client, "/admin/inventory/network/")
    for network in Network.objects.all():
        ips = FixedIp.objects.filter(network=network).exclude(deleted=True)
        used = ips.filter(instance__isnull=False).count()
        free = ips.filter(instance__isnull=True).exclude(reserved=True).count()
        assert f'<td class="field-used_ips">{used}</td><td class="field-free_ips">{free}</td>' in html


def test_dashboard_draws_svg_charts(nova, admin_client):
    from django.core.cache import cache

    cache.clear()
    html = page(admin_client, "/admin/inventory/dashboard/")
    assert html.count("<svg") >= 8
    live = Instance.objects.live().count()
    assert f"{live} live instances" in html
    active = Instance.objects.live().filter(vm_state="active").count()
    assert re.search(rf"<title>active: {active}</title>", html)
    assert "<script" not in html.split('id="content"')[1]
    assert "/admin/inventory/dashboard/" in page(admin_client, "/admin/")


@pytest.mark.parametrize("backend", ["sqlite"])
def test_anonymous_users_get_the_login_page(client, backend, make_db, nova_db_alias):
    nova_db_alias(make_db("dump"), alias="nova")
    urls = ["/admin/inventory/", "/admin/inventory/dashboard/"]
    for model in INVENTORY_MODELS:
        base = f"/admin/inventory/{model}/"
        urls += [base, f"{base}1/change/", f"{base}export.csv", f"{base}add/", f"{base}1/delete/"]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/admin/login/"), url
        login = client.get(response["Location"])
        assert 'id="login-form"' in login.content.decode()
