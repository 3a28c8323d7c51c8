"""Issue 12: ``db_sync --rehearse`` runs the plan on a scratch copy first, timing each statement."""

from tests.schema.test_safe_sync import AGGREGATES_SQLITE_NO_UNIQUE, drop_index
from tests.support.backends import catalog
from tests.support.commands import call


def drop_aggregates_unique(db):
    if db.backend == "sqlite":
        db.execute("DROP TABLE aggregates")
        db.execute(AGGREGATES_SQLITE_NO_UNIQUE)
    elif db.backend == "mysql":
        db.execute("DROP INDEX name ON aggregates")
    else:
        db.execute("ALTER TABLE aggregates DROP CONSTRAINT aggregates_name_key")


def test_a_failing_statement_is_found_in_the_rehearsal_before_the_database_is_touched(backend, make_db, nova_db_alias):
    db = make_db("dump")
    drop_index(db, "instances", "project_id")  # expand: would run first for real
    drop_aggregates_unique(db)  # migrate: the unique constraint fails on the duplicates
    for i in (1, 2):
        db.execute(
            "INSERT INTO aggregates (id, name, operational_state, availability_zone) "
            f"VALUES ({i}, 'twin', 'up', 'nova')"
        )
    alias = nova_db_alias(db)
    before = catalog(db)
    result = call("db_sync", database=alias, rehearse=True)
    assert result.code == 1, result.out + result.err
    assert "the rehearsal failed at 'add UNIQUE (name) on aggregates'" in result.err or (
        "the rehearsal failed at 'create UNIQUE INDEX name (name) on aggregates'" in result.err
    )
    assert "nothing was changed in the database" in result.err
    assert "create INDEX project_id (project_id) on instances" in result.out  # timed before the failure
    assert catalog(db) == before  # not even the expand step, and no history table


def test_a_passing_rehearsal_reports_timings_then_syncs(backend, make_db, nova_db_alias):
    db = make_db("dump")
    drop_index(db, "instances", "project_id")
    db.execute("ALTER TABLE instances ADD COLUMN note varchar(20)")
    db.execute("INSERT INTO instances (id, note) VALUES (1, 'kept in a backup')")
    alias = nova_db_alias(db)
    result = call("db_sync", database=alias, rehearse=True, allow_destructive=True)
    assert result.code == 0, result.out + result.err
    lines = result.out.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("SECONDS"))
    timed = [line.split(" | ") for line in lines[header + 2 :] if " | " in line]
    operations = [row[1].strip() for row in timed]
    assert "back up what the contract drops" in operations
    assert "create INDEX project_id (project_id) on instances" in operations
    assert "drop column instances.note" in operations
    assert all(float(row[0]) >= 0 for row in timed)
    assert "Rehearsal passed" in result.out and "Schema synced to version 82" in result.out
    assert call("db_drift", database=alias).code == 0
