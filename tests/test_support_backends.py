"""The test infrastructure itself: throwaway databases, dumps, clones, catalogs."""

import pytest

from tests.support.backends import catalog, clone, rows

# The reference README says "49 Nova tables plus migrate_version (50 in all)",
# but each dump holds 49 CREATE TABLEs: 48 Nova tables + migrate_version.
# Assert what the dumps hold.
DUMP_TABLE_COUNT = 49


def test_dump_loads_into_fresh_database(make_db):
    db = make_db("dump")
    schema = catalog(db)

    assert len(schema) == DUMP_TABLE_COUNT
    assert "migrate_version" in schema
    instances = schema["instances"]
    assert instances["primary_key"] == ("id",)
    assert instances["indexes"]["uuid"] == (True, ("uuid",))
    assert instances["indexes"]["project_id"] == (False, ("project_id",))
    assert set(instances["indexes"]) == {"uuid", "project_id"}
    assert rows(db, "migrate_version", "repository_id") == [
        ("nova", "/usr/lib/python2.7/dist-packages/nova/db/sqlalchemy/migrate_repo", 82)
    ]
    flavors = rows(db, "instance_types", "id")
    assert len(flavors) == 5
    assert db.fetchall("SELECT name FROM instance_types ORDER BY flavorid") == [
        ("m1.tiny",),
        ("m1.small",),
        ("m1.medium",),
        ("m1.large",),
        ("m1.xlarge",),
    ]


def test_catalog_sees_foreign_keys(make_db, backend):
    schema = catalog(make_db("dump"))
    fks = schema["user_project_role_association"]["foreign_keys"]
    composite = (("user_id", "project_id"), "user_project_association", ("user_id", "project_id"))
    # Added after table creation on MySQL and PostgreSQL only (reference README).
    if backend == "sqlite":
        assert composite not in fks
        assert schema["user_project_role_association"]["fk_names"] == []
    else:
        assert composite in fks
        assert len(schema["user_project_role_association"]["fk_names"]) == 1
    assert schema["instances"]["foreign_keys"] == []
    assert (("instance_id",), "instances", ("id",)) in (schema["security_group_instance_association"]["foreign_keys"])


def test_empty_database_is_empty(make_db):
    assert catalog(make_db()) == {}


def test_clone_is_equal_and_independent(make_db, tmp_path):
    source = make_db("dump")
    copy = clone(source, tmp_path)
    try:
        assert copy.name != source.name
        assert catalog(copy) == catalog(source)
        assert rows(copy, "instance_types", "id") == rows(source, "instance_types", "id")

        copy.execute("DROP TABLE agent_builds")
        copy.execute("DELETE FROM instance_types")
        assert "agent_builds" not in catalog(copy)
        assert "agent_builds" in catalog(source)
        assert len(rows(source, "instance_types", "id")) == 5
    finally:
        copy.drop()


def test_drop_removes_database(make_db):
    db = make_db()
    db.drop()
    if db.backend == "sqlite":
        assert not db.path.exists()
    else:
        with pytest.raises(Exception, match=db.name):
            db.connect()
    db.drop()  # dropping twice is harmless


def test_nova_db_alias_gives_django_a_connection(make_db, nova_db_alias):
    from django.db import connections

    db = make_db("dump")
    alias = nova_db_alias(db)
    with connections[alias].cursor() as cursor:
        cursor.execute("SELECT version FROM migrate_version")
        assert cursor.fetchone() == (82,)
        assert "instances" in connections[alias].introspection.table_names(cursor)


def test_nova_db_alias_replaces_and_restores_nova(make_db, nova_db_alias):
    from django.db import connections

    before = connections.settings["nova"]
    db = make_db("dump")
    assert nova_db_alias(db, alias="nova") == "nova"
    assert connections.settings["nova"] is not before
    with connections["nova"].cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM instance_types")
        assert cursor.fetchone() == (5,)


@pytest.mark.parametrize("backend", ["sqlite"])
def test_run_manage(run_manage, make_db, backend):
    db = make_db()
    show = "from django.conf import settings; print(settings.DATABASES['nova']['NAME'])"
    result = run_manage("shell", "-c", show, db=db)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == str(db.path)
    assert run_manage("check").returncode == 0
