"""Shared helpers of the inventory admin tests: a seeded Nova DB and what a list page shows."""

from __future__ import annotations

import contextlib
import re

from django.db import connections

from inventory.demo_cloud import DemoCloud
from tests.support import backends

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


@contextlib.contextmanager
def temporary_alias(db, name: str):
    """``db`` as a Django connection alias for the block (for module-scoped setup)."""
    from django.db import DEFAULT_DB_ALIAS

    from tests.conftest import django_db_config

    settings = {DEFAULT_DB_ALIAS: connections.settings[DEFAULT_DB_ALIAS], name: django_db_config(db)}
    connections.settings[name] = connections.configure_settings(settings)[name]
    try:
        yield connections[name]
    finally:
        connections[name].close()
        del connections[name]
        del connections.settings[name]


def seeded_database(backend, templates, tmp_dir, blocker, instances: int = 60):
    """A dump clone on ``backend`` seeded with a demo cloud (caller drops it)."""
    db = backends.clone(templates.get(backend), tmp_dir)
    with blocker.unblock(), temporary_alias(db, f"seeded_{backend}") as connection:
        DemoCloud(connection, instances=instances, seed=7).build()
    return db
