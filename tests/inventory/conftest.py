"""Fixtures of the inventory admin tests: one seeded dump clone per backend and module."""

from __future__ import annotations

import pytest

from inventory.admin.instances import InstanceAdmin
from tests.inventory.inventory_support import seeded_database
from tests.support.backends import BACKENDS


@pytest.fixture(autouse=True)
def one_page(monkeypatch):
    """The seeded cloud's live instances fit on one list page."""
    monkeypatch.setattr(InstanceAdmin, "list_per_page", 100)


@pytest.fixture(scope="module", params=BACKENDS)
def seeded(request, _dump_templates, tmp_path_factory, django_db_blocker):
    """One dump clone per backend and module, seeded with 60 instances (the tests only read it)."""
    db = seeded_database(request.param, _dump_templates, tmp_path_factory.mktemp("seeded"), django_db_blocker)
    yield db
    db.drop()


@pytest.fixture
def nova(admin_client, seeded, nova_db_alias):
    """The seeded database as the ``nova`` alias (after ``admin_client``: Django's test DB exists first)."""
    nova_db_alias(seeded, alias="nova")
    return seeded
