"""PostgreSQL with several schemas on the search_path: novaweb works on the current schema only.

The current schema is the first schema of the search_path that exists (``current_schema()``,
where CREATE TABLE puts a table). Nova's tables are read from it and created in it; tables of
later schemas, even ones named like Nova's, are neither reported nor touched. Without a current
schema a command says so in one line and exits 2.

The operator sets the path in the URL (``?options=-c%20search_path%3Dnova,public``, which
django-environ hands to libpq as its ``options``) or with ``ALTER DATABASE/ROLE ... SET search_path``.
"""

from __future__ import annotations

import dataclasses

import pytest

from tests.support.commands import call

pytestmark = pytest.mark.parametrize("backend", ["postgresql"])

#: The URL's query, as an operator writes it for a search_path of ``nova, public``.
NOVA_FIRST = "?options=-c%20search_path%3Dnova,public"


def with_query(db, query):
    """``db`` whose URL carries ``query`` (the raw connections of the test keep the default path)."""
    return dataclasses.replace(db, url=db.url + query)


def move_nova_to_schema(db, schema="nova"):
    """The dump's tables in their own schema, and a new, empty ``public`` beside it."""
    db.execute(f"ALTER SCHEMA public RENAME TO {schema}")
    db.execute("CREATE SCHEMA public")


def add_decoys(db, schema="public"):
    """Tables named like Nova's (an old copy of ``instances``, a foreign ``shadow_instances``) and another one."""
    db.execute(f"CREATE TABLE {schema}.instances (id integer PRIMARY KEY, note text)")
    db.execute(f"INSERT INTO {schema}.instances VALUES (1, 'old copy')")
    db.execute(f"CREATE TABLE {schema}.shadow_instances (shadow_id integer PRIMARY KEY, note text)")
    db.execute(f"INSERT INTO {schema}.shadow_instances VALUES (7, 'someone else''s archive')")
    db.execute(f"CREATE TABLE {schema}.unrelated (x integer)")
    db.execute(f"INSERT INTO {schema}.unrelated VALUES (42)")


def relations(db, schema):
    """Every relation of ``schema`` (tables, indexes, sequences) with its columns."""
    return db.fetchall(
        "SELECT c.relname, c.relkind, array_agg(a.attname::text || ' ' || format_type(a.atttypid, a.atttypmod) "
        "ORDER BY a.attnum) FROM pg_class c LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 "
        "WHERE c.relnamespace = %s::regnamespace GROUP BY c.relname, c.relkind ORDER BY c.relname",
        (schema,),
    )


def decoy_state(db, schema="public"):
    contents = {t: db.fetchall(f"SELECT * FROM {schema}.{t} ORDER BY 1") for t in ("instances", "shadow_instances")}
    return relations(db, schema), contents


def tables_in(db, schema):
    return {name for (name,) in db.fetchall("SELECT tablename FROM pg_tables WHERE schemaname = %s", (schema,))}


def test_nova_in_its_own_schema_through_the_url_has_no_drift(make_db, nova_db_alias):
    db = make_db("dump")
    move_nova_to_schema(db)
    add_decoys(db)
    alias = nova_db_alias(with_query(db, NOVA_FIRST))

    version = call("db_version", database=alias)
    assert (version.code, version.out.strip()) == (0, "82"), version.err
    drift = call("db_drift", database=alias)
    assert drift.code == 0, drift.out + drift.err
    assert drift.out.startswith("Nothing to do"), drift.out
    dry_run = call("db_sync", "--dry-run", database=alias)
    assert (dry_run.code, dry_run.out.strip()) == (0, ""), dry_run.out + dry_run.err


def test_sync_from_empty_creates_nova_in_the_current_schema_and_nowhere_else(make_db, nova_db_alias):
    reference = tables_in(make_db("dump"), "public")
    db = make_db()
    db.execute("CREATE SCHEMA nova")
    add_decoys(db)
    before = decoy_state(db)
    alias = nova_db_alias(with_query(db, NOVA_FIRST))

    result = call("db_sync", database=alias)

    assert result.code == 0, result.out + result.err
    assert reference <= tables_in(db, "nova")
    assert decoy_state(db) == before  # nothing created in, altered in or dropped from public
    assert call("db_drift", database=alias).code == 0
    assert call("db_version", database=alias).out.strip() == "82"


def test_same_named_tables_later_on_the_path_are_not_reported_nor_touched(make_db, nova_db_alias):
    db = make_db("dump")
    move_nova_to_schema(db)
    add_decoys(db)
    db.execute(
        "INSERT INTO nova.instances (created_at, deleted, deleted_at, uuid, hostname) "
        "VALUES ('2020-01-01', true, '2020-01-02', 'gone', 'gone')"
    )
    before = decoy_state(db)
    alias = nova_db_alias(with_query(db, NOVA_FIRST))

    drift = call("db_drift", "--format", "json", "--verbose", database=alias)
    assert drift.code == 0, drift.out + drift.err
    assert "unrelated" not in drift.out and "note" not in drift.out
    sync = call("db_sync", database=alias)
    assert sync.code == 0, sync.out + sync.err
    archive = call("db_archive_deleted_rows", database=alias)
    assert archive.code == 1, archive.out + archive.err  # rows archived

    assert db.fetchall("SELECT uuid FROM nova.shadow_instances") == [("gone",)]
    assert db.fetchall("SELECT count(*) FROM nova.instances") == [(0,)]
    assert decoy_state(db) == before
    assert db.fetchall("SELECT x FROM public.unrelated") == [(42,)]


def test_the_database_default_search_path_is_followed(make_db, nova_db_alias):
    db = make_db("dump")
    move_nova_to_schema(db)
    add_decoys(db)
    db.execute(f'ALTER DATABASE {db.name} SET search_path = "$user", nova, public')  # no schema "postgres"
    alias = nova_db_alias(db)

    drift = call("db_drift", database=alias)
    assert drift.code == 0, drift.out + drift.err
    assert call("db_version", database=alias).out.strip() == "82"


@pytest.mark.parametrize(
    "command",
    [("db_version",), ("db_drift",), ("db_sync",), ("db_sync", "--dry-run"), ("db_archive_deleted_rows",)],
    ids=" ".join,
)
def test_no_current_schema_is_one_line_and_exit_2(command, make_db, run_manage):
    db = make_db("dump")
    before = relations(db, "public")

    result = run_manage(*command, db=with_query(db, "?options=-c%20search_path%3Dmissing"))

    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr, result.stderr
    assert "no current schema" in result.stderr and "search_path" in result.stderr, result.stderr
    assert relations(db, "public") == before
    assert db.fetchall("SELECT count(*) FROM pg_namespace WHERE nspname = 'missing'") == [(0,)]


@pytest.mark.parametrize(
    "command", [("db_version",), ("db_sync",), ("db_sync", "--dry-run"), ("db_drift",)], ids=" ".join
)
@pytest.mark.parametrize("path", ["nova,public", "%22$user%22,public"], ids=["nova first", "$user first"])
def test_an_empty_schema_ahead_of_novas_is_refused_not_filled(command, path, make_db, run_manage):
    """Nova in ``public``, and an empty schema earlier on the path (one named after the user, as
    PostgreSQL's default path ``"$user", public`` picks). Tables made there would hide public's
    from Nova's own services, which look names up through the whole path: exit 2, nothing made."""
    db = make_db("dump")
    schema = "postgres" if "user" in path else "nova"
    db.execute(f"CREATE SCHEMA {schema}")

    result = run_manage(*command, db=with_query(db, f"?options=-c%20search_path%3D{path}"))

    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr, result.stderr
    assert f"current schema {schema} holds no Nova database, but public" in result.stderr, result.stderr
    assert relations(db, schema) == []


@pytest.mark.parametrize("tables", [{"tables": "instances"}, {}], ids=["some tables", "complete"])
def test_snapshot_and_restore_are_of_the_current_schema_and_leave_the_decoys_alone(
    tables, make_db, nova_db_alias, tmp_path
):
    db = make_db("dump")
    move_nova_to_schema(db)
    add_decoys(db)
    db.execute("INSERT INTO nova.instances (id, hostname, deleted) VALUES (1, 'kept', false)")
    alias = nova_db_alias(with_query(db, NOVA_FIRST))
    snapshot = call("db_snapshot", database=alias, output=str(tmp_path), **tables)
    assert snapshot.code == 0, snapshot.err
    path = snapshot.out.strip()
    db.execute("UPDATE nova.instances SET hostname = 'changed since'")
    db.execute("INSERT INTO public.instances VALUES (2, 'written after the snapshot')")
    decoys = decoy_state(db)

    scratch = call("db_restore", path, database=alias, verify_only=True)
    assert scratch.code == 0, scratch.out + scratch.err
    restored = call("db_restore", path, database=alias, yes=True)

    assert restored.code == 0, restored.out + restored.err
    assert "verified equal" in restored.out
    assert db.fetchall("SELECT id, hostname FROM nova.instances") == [(1, "kept")]
    assert decoy_state(db) == decoys  # public's tables neither replaced nor rolled back
    assert call("db_drift", database=alias).code == 0


def test_a_snapshot_of_another_schema_is_refused_with_exit_2(make_db, nova_db_alias, tmp_path):
    db = make_db("dump")
    move_nova_to_schema(db)
    add_decoys(db)
    snapshot = call("db_snapshot", database=nova_db_alias(with_query(db, NOVA_FIRST)), output=str(tmp_path))
    assert snapshot.code == 0, snapshot.err
    decoys = decoy_state(db)

    result = call("db_restore", snapshot.out.strip(), database=nova_db_alias(db), yes=True)  # current schema: public

    assert result.code == 2, result.out + result.err
    assert "schema 'nova'" in result.err and "search_path" in result.err and result.err.count("\n") == 1
    assert decoy_state(db) == decoys
