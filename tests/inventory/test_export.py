"""CSV export: exactly the rows the filtered list shows, all pages, streamed."""

from __future__ import annotations

import csv
import io

from inventory.admin.instances import InstanceAdmin
from inventory.models import Instance
from tests.inventory.inventory_support import LIST_URL, listed_uuids, page

EXPORT_URL = LIST_URL + "export.csv"


def export(client, **params) -> list[dict]:
    response = client.get(EXPORT_URL, params)
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_export_matches_the_filtered_list(nova, admin_client):
    host = Instance.objects.live().values_list("host", flat=True).order_by("host").first()
    for params in ({"host": host}, {"vm_state": "active", "deleted": "all"}, {"deleted": "deleted"}, {}):
        shown = listed_uuids(page(admin_client, LIST_URL, **params))
        rows = export(admin_client, **params)
        assert [row["Uuid"] for row in rows] == shown, params  # same rows, same order
    instance = Instance.objects.live().filter(fixed_ips__isnull=False).select_related("flavor").first()
    (row,) = export(admin_client, q=instance.uuid)
    assert row["Display name"] == instance.display_name
    assert row["Flavor"] == instance.flavor.name
    assert row["Fixed IPs"] == " ".join(instance.fixed_ips.values_list("address", flat=True))
    assert "<" not in "".join(row.values())  # text, not the list's HTML


def test_export_covers_every_page(nova, admin_client, monkeypatch):
    monkeypatch.setattr(InstanceAdmin, "list_per_page", 10)
    live = Instance.objects.live()
    assert len(listed_uuids(page(admin_client, LIST_URL))) == 10
    rows = export(admin_client)
    assert sorted(row["Uuid"] for row in rows) == sorted(live.values_list("uuid", flat=True))
    assert len(rows) == live.count() > 10


def test_export_link_carries_the_filters(nova, admin_client):
    html = page(admin_client, LIST_URL, vm_state="active")
    assert 'href="/admin/inventory/instance/export.csv?vm_state=active"' in html
