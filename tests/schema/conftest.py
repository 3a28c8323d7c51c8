"""Fixtures of the schema tests (the shared ones are in tests/conftest.py)."""

from __future__ import annotations

import pytest

from tests.support.commands import call


@pytest.fixture
def synced(backend, make_db, nova_db_alias):
    """``(db, alias)``: a copy of the reference dump on the test's backend, synced to the models."""
    db = make_db("dump")
    alias = nova_db_alias(db)
    assert call("db_sync", database=alias).code == 0
    return db, alias
