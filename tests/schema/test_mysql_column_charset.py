"""MariaDB/MySQL: a column whose own character set is wider than its table's (utf8mb4 in a utf8 table).

The models choose no character set, and the engine compares none: such a
column is no drift. Nor may novaweb convert it on the way: ``MODIFY`` without
a character set gives the column its table's, and a value utf8mb3 cannot hold
(an emoji) is refused by the strict session. So every statement that rewrites
the column keeps its collation (expand, migrate, contract, undo), and a copy
of it (a shadow or backup table) gets it too; an existing shadow column whose
character set lacks some of the live column's characters is refused before a
row moves.
"""

from __future__ import annotations

import datetime

import pytest

from tests.support.commands import backups_made, call

pytestmark = pytest.mark.parametrize("backend", ["mysql"])

#: "web 🚀": the rocket is four bytes in UTF-8, beyond what utf8mb3 stores
ROCKET = "web \U0001f680".encode().hex().upper()


def utf8mb4_display_name(db, definition="varchar(255)", *, deleted=False):
    """``instances.display_name`` made utf8mb4 by the operator (the table stays utf8), an emoji stored in it."""
    kind, _, rest = definition.partition(" ")
    db.execute(f"ALTER TABLE instances MODIFY display_name {kind} CHARACTER SET utf8mb4 {rest}")
    db.execute(
        "INSERT INTO instances (id, uuid, display_name, deleted, deleted_at) "
        "VALUES (1, 'u1', CONVERT(X'" + ROCKET + "' USING utf8mb4), %s, %s)",
        (deleted, datetime.datetime(2012, 1, 1) if deleted else None),
    )


def display_name(db, table="instances"):
    """``(hex of the value, character set of the column)``."""
    (value,) = db.fetchall(f"SELECT HEX(display_name) FROM {table} WHERE id = 1")[0]
    (charset,) = db.fetchall(
        "SELECT character_set_name FROM information_schema.columns "
        "WHERE table_schema = DATABASE() AND table_name = %s AND column_name = 'display_name'",
        (table,),
    )[0]
    return value, charset


def test_a_wider_column_charset_is_no_drift(backend, make_db, nova_db_alias):
    db = make_db("dump")
    alias = nova_db_alias(db)
    utf8mb4_display_name(db)
    assert call("db_drift", database=alias).code == 0
    result = call("db_sync", "--dry-run", database=alias)
    assert result.code == 0 and "display_name" not in result.out


@pytest.mark.parametrize(
    ("definition", "commands"),
    [
        ("varchar(200)", [("db_expand",)]),  # widened back to varchar(255)
        ("varchar(255) NOT NULL DEFAULT ''", [("db_expand",), ("db_migrate",)]),  # relaxed, default dropped
        ("varchar(300)", [("db_contract",)]),  # narrowed back: every value fits
        ("varchar(300)", [("db_sync", "--allow-destructive")]),
        ("varchar(200)", [("db_sync",)]),
    ],
    ids=["expand", "expand-migrate", "contract", "sync-allow-destructive", "sync"],
)
def test_changing_the_column_keeps_its_charset_and_values(backend, make_db, nova_db_alias, definition, commands):
    db = make_db("dump")
    alias = nova_db_alias(db)
    utf8mb4_display_name(db, definition)
    assert call("db_drift", database=alias).code == 1  # the type, NULL or default: drift
    for command in commands:
        result = call(*command, database=alias)
        assert result.code == 0, (command, result)
    assert display_name(db) == (ROCKET, "utf8mb4")
    assert call("db_drift", database=alias).code == 0


def test_undo_keeps_its_charset_and_values(backend, make_db, nova_db_alias):
    db = make_db("dump")
    alias = nova_db_alias(db)
    utf8mb4_display_name(db, "varchar(200)")
    assert call("db_sync", database=alias).code == 0
    result = call("db_undo", "--last", database=alias)
    assert result.code == 0, result
    assert display_name(db) == (ROCKET, "utf8mb4")
    assert db.fetchall(
        "SELECT column_type FROM information_schema.columns WHERE table_schema = DATABASE() "
        "AND table_name = 'instances' AND column_name = 'display_name'"
    ) == [("varchar(200)",)]


def test_archive_gives_the_shadow_column_the_live_charset(backend, make_db, nova_db_alias):
    db = make_db("dump")
    alias = nova_db_alias(db)
    utf8mb4_display_name(db, deleted=True)
    assert call("db_archive_deleted_rows", database=alias).code == 1
    assert display_name(db, "shadow_instances") == (ROCKET, "utf8mb4")


def test_archive_refuses_a_shadow_column_whose_charset_lacks_the_characters(backend, make_db, nova_db_alias):
    db = make_db("dump")
    alias = nova_db_alias(db)
    # the shadow table a novaweb without this fix made: the table's utf8 for every column
    db.execute(
        "CREATE TABLE shadow_instances (shadow_id int NOT NULL AUTO_INCREMENT PRIMARY KEY, id int, "
        "display_name varchar(255)) DEFAULT CHARSET=utf8"
    )
    utf8mb4_display_name(db, deleted=True)
    result = call("db_archive_deleted_rows", database=alias)
    assert result.code == 2, result
    assert result.err.count("\n") == 1, result.err
    assert "shadow_instances.display_name is varchar(255) COLLATE utf8mb3_general_ci" in result.err
    assert "widen that column" in result.err
    assert display_name(db) == (ROCKET, "utf8mb4")
    assert db.fetchall("SELECT COUNT(*) FROM shadow_instances") == [(0,)]


def test_a_dropped_column_is_backed_up_with_its_charset(backend, make_db, nova_db_alias):
    """--allow-destructive copies the column into a backup table first: with its character set."""
    db = make_db("dump")
    alias = nova_db_alias(db)
    db.execute("ALTER TABLE instances ADD COLUMN nickname varchar(50) CHARACTER SET utf8mb4")
    db.execute(f"INSERT INTO instances (id, uuid, nickname) VALUES (1, 'u1', CONVERT(X'{ROCKET}' USING utf8mb4))")
    assert call("db_sync", database=alias).code == 1  # refused: the column holds values
    result = call("db_sync", "--allow-destructive", database=alias)
    assert result.code == 0, result
    (backup,) = backups_made(result)
    assert db.fetchall(f"SELECT id, HEX(nickname) FROM {backup}") == [(1, ROCKET)]
