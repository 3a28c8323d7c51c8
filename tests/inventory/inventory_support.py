"""Shared helpers of the inventory admin tests: a seeded Nova DB and what a list page shows."""

from __future__ import annotations

import re

from django.db import connections

from inventory.demo_cloud import DemoCloud

LIST_URL = "/admin/inventory/instance/"


def seed(instances: int, seed: int = 7) -> dict:
    """Seed a demo cloud into the current ``nova`` alias."""
    return DemoCloud(connections["nova"], instances=instances, seed=seed).build()


def listed_uuids(html: str) -> list[str]:
    """The instance UUIDs a changelist page shows, in order."""
    return re.findall(r'<th class="field-uuid"><a href="[^"]*">([0-9a-f-]{36})</a>', html)


def page(client, url: str, **params) -> str:
    response = client.get(url, params)
    assert response.status_code == 200, (url, params, response.status_code)
    return response.content.decode()
