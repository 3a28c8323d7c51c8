"""A new table's foreign keys are written inside its CREATE TABLE (MySQL, PostgreSQL, SQLite):
whatever they reference must exist first, the parent table, its column and the key on it.

On a Nova-made database (the reference dump) with some tables missing, and a parent's key
dropped too, ``db_sync`` must put back exactly the dump's schema: same catalog, exit 0,
and ``db_drift`` clean afterwards.
"""

from __future__ import annotations

import pytest

from tests.support.backends import catalog, quote
from tests.support.commands import call

#: (what is taken away, the tables dropped children first, the (table, index) keys dropped after)
DAMAGE = {
    # a child whose parent's unique key is gone too: the key must come back before the child
    "child_and_parent_key": (("instance_info_caches",), (("instances", "uuid"),)),
    # a parent and all its children: the parent must be created before them
    "parent_and_children": (("block_device_mapping", "iscsi_targets", "sm_volume", "volume_metadata", "volumes"), ()),
    # a chain of three, each the next one's parent
    "chain": (("user_project_role_association", "user_project_association", "user_role_association"), ()),
}


def nova_tables(found: dict) -> dict:
    """The catalog less novaweb's own tables (the sync history and state a sync writes)."""
    return {table: shape for table, shape in found.items() if not table.startswith("novaweb_")}


def drop_index(db, table, index):
    if db.backend == "mysql":
        db.execute(f"DROP INDEX {quote(db.backend, index)} ON {quote(db.backend, table)}")
    else:
        db.execute(f"DROP INDEX {quote(db.backend, index)}")


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_sync_recreates_missing_tables_after_what_they_reference(backend, make_db, db_factory, nova_db_alias, damage):
    reference = catalog(db_factory(backend, "dump"))
    db = make_db("dump")
    tables, keys = DAMAGE[damage]
    for table in tables:
        db.execute(f"DROP TABLE {quote(db.backend, table)}")
    for table, index in keys:
        drop_index(db, table, index)
    alias = nova_db_alias(db)
    assert call("db_drift", database=alias).code == 1

    synced = call("db_sync", database=alias)

    assert synced.code == 0, synced.err
    assert nova_tables(catalog(db)) == nova_tables(reference)
    assert call("db_drift", database=alias).code == 0


#: How an operator loses a primary key on each backend (PostgreSQL: with the foreign keys on it).
DROP_PRIMARY_KEY = {
    "postgresql": ("aggregates", "ALTER TABLE aggregates DROP CONSTRAINT aggregates_pkey CASCADE"),
    "mysql": ("agent_builds", "ALTER TABLE agent_builds MODIFY id INT NOT NULL, DROP PRIMARY KEY"),
}


@pytest.mark.parametrize("backend", sorted(DROP_PRIMARY_KEY))
def test_a_dropped_primary_key_is_put_back_before_what_needs_it(backend, make_db, db_factory, nova_db_alias):
    """The key comes back first, then the auto-increment (MySQL needs a key for it) and the foreign
    keys that reference it (PostgreSQL dropped them with it): the dump's catalog again."""
    reference = catalog(db_factory(backend, "dump"))
    db = make_db("dump")
    table, sql = DROP_PRIMARY_KEY[backend]
    db.execute(sql)
    alias = nova_db_alias(db)
    assert not catalog(db)[table]["primary_key"]

    synced = call("db_sync", database=alias)

    assert synced.code == 0, synced.err
    assert nova_tables(catalog(db)) == nova_tables(reference)
    assert call("db_drift", database=alias).code == 0

    if backend == "mysql":  # and back: db_undo takes the key away again (the auto-increment first)
        undone = call("db_undo", database=alias, last=True)
        assert undone.code == 0, undone.err
        assert not catalog(db)[table]["primary_key"]
