"""Fixtures of the console tests: one seeded Nova database per backend and module, read through ``nova_readonly``."""

from __future__ import annotations

import pytest
from django.db import connections

from inventory.console.database import READONLY_ALIAS, readonly_database
from tests.inventory.inventory_support import seeded_database
from tests.support.backends import BACKENDS

#: The console's time limit in these tests (seconds): short, so a stopped query costs little.
TEST_TIMEOUT = 1.0


@pytest.fixture(scope="module", params=BACKENDS)
def seeded(request, _dump_templates, tmp_path_factory, django_db_blocker):
    """A dump clone seeded with 60 instances; the console tests only read it."""
    db = seeded_database(request.param, _dump_templates, tmp_path_factory.mktemp("console"), django_db_blocker)
    yield db
    db.drop()


@pytest.fixture
def readonly(seeded, nova_db_alias):
    """``seeded`` as ``nova`` and, locked down as the settings build it, as ``nova_readonly``."""
    nova_db_alias(seeded, alias="nova")
    nova_db_alias(seeded, alias=READONLY_ALIAS)
    connections.settings[READONLY_ALIAS] = readonly_database(
        connections.settings[READONLY_ALIAS], timeout_seconds=TEST_TIMEOUT
    )
    return seeded
