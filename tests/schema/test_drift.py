"""db_drift finds each kind of difference; db_sync fixes each (issue 3: expand/migrate/contract)."""

import json

import pytest

from tests.support.commands import call

S3_IMAGES_SQLITE = (
    "CREATE TABLE s3_images (created_at DATETIME, updated_at DATETIME, deleted_at DATETIME, deleted BOOLEAN, "
    "id INTEGER NOT NULL, uuid {uuid}, PRIMARY KEY (id), CHECK (deleted IN (0, 1)))"
)
INSTANCE_METADATA_SQLITE_NO_FK = (
    "CREATE TABLE instance_metadata (created_at DATETIME, updated_at DATETIME, deleted_at DATETIME, deleted BOOLEAN, "
    'id INTEGER NOT NULL, instance_id INTEGER NOT NULL, "key" VARCHAR(255), value VARCHAR(255), PRIMARY KEY (id), '
    "CHECK (deleted IN (0, 1)))"
)

# kind -> (table, object, {backend: SQL that makes the difference})
MUTATIONS = {
    "missing_table": (
        "s3_images",
        "s3_images",
        {b: ["DROP TABLE s3_images"] for b in ("sqlite", "mysql", "postgresql")},
    ),
    "missing_column": (
        "s3_images",
        "uuid",
        {b: ["ALTER TABLE s3_images DROP COLUMN uuid"] for b in ("sqlite", "mysql", "postgresql")},
    ),
    "extra_column": (
        "s3_images",
        "note",
        {b: ["ALTER TABLE s3_images ADD COLUMN note varchar(10)"] for b in ("sqlite", "mysql", "postgresql")},
    ),
    "column_type": (
        "s3_images",
        "uuid",
        {
            "sqlite": ["DROP TABLE s3_images", S3_IMAGES_SQLITE.format(uuid="VARCHAR(64) NOT NULL")],
            "mysql": ["ALTER TABLE s3_images MODIFY uuid varchar(64) NOT NULL"],
            "postgresql": ["ALTER TABLE s3_images ALTER COLUMN uuid TYPE varchar(64)"],
        },
    ),
    "column_nullable": (
        "s3_images",
        "uuid",
        {
            "sqlite": ["DROP TABLE s3_images", S3_IMAGES_SQLITE.format(uuid="VARCHAR(36)")],
            "mysql": ["ALTER TABLE s3_images MODIFY uuid varchar(36) NULL"],
            "postgresql": ["ALTER TABLE s3_images ALTER COLUMN uuid DROP NOT NULL"],
        },
    ),
    "missing_index": (
        "instances",
        "project_id",
        {
            "sqlite": ["DROP INDEX project_id"],
            "mysql": ["DROP INDEX project_id ON instances"],
            "postgresql": ["DROP INDEX project_id"],
        },
    ),
    "extra_index": (
        "instances",
        "ix_hostname",
        {b: ["CREATE INDEX ix_hostname ON instances (hostname)"] for b in ("sqlite", "mysql", "postgresql")},
    ),
    "missing_foreign_key": (
        "instance_metadata",
        "instance_id",
        {
            "sqlite": ["DROP TABLE instance_metadata", INSTANCE_METADATA_SQLITE_NO_FK],
            "mysql": ["ALTER TABLE instance_metadata DROP FOREIGN KEY instance_metadata_ibfk_1"],
            "postgresql": ["ALTER TABLE instance_metadata DROP CONSTRAINT instance_metadata_instance_id_fkey"],
        },
    ),
}


@pytest.mark.parametrize("kind", sorted(MUTATIONS))
def test_db_drift_reports_each_kind_and_db_sync_fixes_it(kind, backend, make_db, nova_db_alias):
    table, obj, sql = MUTATIONS[kind]
    db = make_db("dump")
    for statement in sql[backend]:
        db.execute(statement)
    alias = nova_db_alias(db)

    drift = call("db_drift", database=alias, format="json")
    assert drift.code == 1
    report = json.loads(drift.out)
    assert report["in_sync"] is False
    found = [(d["kind"], d["table"], d["object"]) for d in report["differences"]]
    assert (kind, table, obj) in found
    # a missing column that held the data also reports nothing else on that table
    assert all(t == table for _, t, _ in found), found

    text = call("db_drift", database=alias)
    assert text.code == 1 and kind in text.out and table in text.out

    # every kind is planned and applied; these tables are empty, so nothing is lost
    sync = call("db_sync", database=alias)
    assert sync.code == 0, sync.err
    assert call("db_drift", database=alias).code == 0
