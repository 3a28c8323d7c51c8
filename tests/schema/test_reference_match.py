"""The models mirror Nova Essex: db_sync on an empty database equals the reference dump.

The comparison here is independent of novaweb's engine: ``catalog()`` reads
information_schema / pg_catalog / PRAGMAs with queries written in the tests.
"""

import json
import re

from tests.support.backends import catalog, rows
from tests.support.commands import call

#: PostgreSQL names left over from releases before Essex: the dump's ``cells``
#: table still uses ``zones_id_seq`` / ``zones_pkey`` and ``quotas`` uses
#: ``quotas_new_*``. A fresh db_sync names them after their tables.
PG_LEFTOVERS = {
    "zones_id_seq": "cells_id_seq",
    "zones_pkey": "cells_pkey",
    "quotas_new_id_seq": "quotas_id_seq",
    "quotas_new_pkey": "quotas_pkey",
}


def _without_leftovers(snapshot):
    text = json.dumps(snapshot, sort_keys=True, default=list)
    for old, new in PG_LEFTOVERS.items():
        text = text.replace(old, new)
    return json.loads(text)


def test_reference_dump_has_no_drift_and_is_at_82(backend, make_db, nova_db_alias):
    alias = nova_db_alias(make_db("dump"))
    drift = call("db_drift", database=alias, format="json")
    assert drift.code == 0, drift.out + drift.err
    report = json.loads(drift.out)
    assert report["in_sync"] is True and report["differences"] == []
    # what is ignored is said, by name: SQLAlchemy's boolean CHECKs on MySQL and SQLite,
    # InnoDB's foreign-key indexes, PostgreSQL's leftover names
    reasons = {item["reason"].split(" (")[0] for item in report["ignored"]}
    expected = {
        "sqlite": {"SQLAlchemy's boolean CHECK"},
        "mysql": {"SQLAlchemy's boolean CHECK", "InnoDB's implicit index for a foreign key"},
        "postgresql": {
            "primary key named zones_pkey, not cells_pkey",
            "sequence for id named zones_id_seq, not cells_id_seq",
            "primary key named quotas_new_pkey, not quotas_pkey",
            "sequence for id named quotas_new_id_seq, not quotas_id_seq",
        },
    }[backend]
    assert reasons == expected
    version = call("db_version", database=alias)
    assert (version.code, version.out.strip()) == (0, "82")


def test_db_sync_on_empty_database_matches_the_dump(backend, make_db, nova_db_alias):
    reference, synced = make_db("dump"), make_db("empty")
    alias = nova_db_alias(synced)

    first = call("db_sync", database=alias)
    assert first.code == 0, first.err
    assert "49 tables created" in first.out

    got, want = catalog(synced), catalog(reference)
    # novaweb's own record of the sync (db_undo reads it): not part of Nova's schema
    assert got.pop("novaweb_sync_history")["primary_key"] == ("id",)
    assert got.pop("novaweb_sync_statements")["primary_key"] == ("sync_id", "seq")
    if backend == "postgresql":
        want = _without_leftovers(want)
        got = _without_leftovers(got)
    assert sorted(got) == sorted(want)
    assert len(got) == 49
    for table in want:
        for key in ("columns", "primary_key", "indexes", "unique_constraints", "foreign_keys", "fk_names", "extra"):
            assert got[table].get(key) == want[table].get(key), f"{table}.{key}"
        if "autounique" in want[table]:
            assert got[table]["autounique"] == want[table]["autounique"], table

    assert rows(synced, "migrate_version", "repository_id") == rows(reference, "migrate_version", "repository_id")
    assert rows(synced, "instance_types", "id") == rows(reference, "instance_types", "id")
    assert call("db_drift", database=alias).code == 0

    before = catalog(synced)
    second = call("db_sync", database=alias)
    assert second.code == 0
    assert second.out.strip() == "Nothing to do: the schema is at version 82."
    assert catalog(synced) == before


def test_db_sync_dry_run_prints_ddl_and_changes_nothing(backend, make_db, nova_db_alias):
    db = make_db("empty")
    alias = nova_db_alias(db)
    result = call("db_sync", database=alias, dry_run=True)
    assert result.code == 0
    assert result.out.count("CREATE TABLE") == 49
    assert "-- then the 5 default flavors" in result.out
    assert re.search(r"^INSERT INTO [`\"]instance_types[`\"] ", result.out, re.M)
    assert catalog(db) == {}
