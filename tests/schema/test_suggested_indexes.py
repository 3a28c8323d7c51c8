"""db_add_indexes: the inventory's indexes at scale, created online, ignored by db_drift, kept by db_sync."""

import json

from tests.support.backends import catalog
from tests.support.commands import call

WANTED = {
    ("fixed_ips", ("instance_id",)),
    ("fixed_ips", ("address",)),
    ("floating_ips", ("fixed_ip_id",)),
    ("floating_ips", ("address",)),
}


def _index_columns(snapshot):
    return {(t, cols) for t in ("fixed_ips", "floating_ips") for _u, cols in snapshot[t]["indexes"].values()}


def test_db_add_indexes_creates_what_is_missing_and_drift_ignores_it(backend, make_db, nova_db_alias):
    db = make_db("dump")
    alias = nova_db_alias(db)
    before = catalog(db)
    # MySQL kept an index on fixed_ips.instance_id from a dropped foreign key: nothing to add there.
    already = WANTED & _index_columns(before)
    assert already == (
        {("fixed_ips", ("instance_id",)), ("floating_ips", ("fixed_ip_id",))} if backend == "mysql" else set()
    )

    dry = call("db_add_indexes", database=alias, dry_run=True, format="json")
    assert dry.code == 0
    planned = json.loads(dry.out)["indexes"]
    assert {(i["table"], tuple(i["columns"])) for i in planned} == WANTED - already
    assert all(i["name"].startswith("novaweb_ix_") for i in planned)
    assert catalog(db) == before

    done = call("db_add_indexes", database=alias)
    assert done.code == 0, done.err
    assert f"Created {len(WANTED - already)} indexes" in done.out
    assert _index_columns(catalog(db)) >= WANTED

    drift = call("db_drift", database=alias, format="json", verbose=True)
    assert drift.code == 0, drift.out
    ignored = {i["object"] for i in json.loads(drift.out)["ignored"] if "novaweb's suggestions" in i["reason"]}
    assert ignored == {i["name"] for i in planned}

    assert call("db_sync", database=alias).code == 0
    assert _index_columns(catalog(db)) >= WANTED
    again = call("db_add_indexes", database=alias)
    assert (again.code, again.out.strip()) == (0, "Nothing to do: every suggested index is there.")


def test_an_index_of_other_columns_already_named_as_planned_is_refused_before_any_change(
    backend, make_db, nova_db_alias
):
    db = make_db("dump")
    alias = nova_db_alias(db)
    db.execute("CREATE INDEX novaweb_ix_fixed_ips_address ON fixed_ips (reserved)")
    before = catalog(db)

    for dry_run in (True, False):
        refused = call("db_add_indexes", database=alias, dry_run=dry_run)
        assert refused.code == 2, refused.out + refused.err
        assert refused.err == (
            "error: novaweb_ix_fixed_ips_address is already the name of an index of fixed_ips (reserved), "
            "not the one on fixed_ips (address): rename or drop it, then run again (nothing was created)\n"
        )
        assert catalog(db) == before  # not half-done: no other index was created either


def test_the_planned_name_on_another_table(backend, make_db, nova_db_alias):
    """Index names are the schema's on PostgreSQL and SQLite (refused), the table's on MySQL (no clash)."""
    db = make_db("dump")
    alias = nova_db_alias(db)
    db.execute("CREATE INDEX novaweb_ix_floating_ips_address ON networks (label)")
    done = call("db_add_indexes", database=alias)
    if backend == "mysql":
        assert done.code == 0, done.err
        assert ("floating_ips", ("address",)) in _index_columns(catalog(db))
    else:
        assert done.code == 2 and "already the name of an index of networks (label)" in done.err
        assert ("floating_ips", ("address",)) not in _index_columns(catalog(db))
