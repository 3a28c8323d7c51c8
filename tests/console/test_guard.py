"""The guard refuses every way of reading a hidden column (users.secret_key, access_key) and lets
ordinary questions through; parsing only, in each backend's dialect (no database)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from inventory.console.guard import Refused, check, hidden_columns

VENDORS = ("postgresql", "mysql", "sqlite")

EVASIONS = [
    "SELECT secret_key FROM users",
    "select SECRET_KEY from USERS",
    'SELECT "secret_key" FROM "users"',
    "SELECT u.secret_key AS harmless FROM users u",
    "SELECT x FROM (SELECT secret_key AS x FROM users) t",
    "WITH s AS (SELECT secret_key FROM users) SELECT * FROM s",
    "SELECT * FROM users",
    "SELECT u.* FROM users u",
    "SELECT i.id, u.* FROM instances i JOIN users u ON u.id = i.user_id",
    "SELECT id FROM (SELECT * FROM users) t",
    "SELECT * FROM shadow_users",
    "SELECT name || secret_key FROM users",
    "SELECT CONCAT(name, access_key) FROM users",
    "SELECT upper(substr(secret_key, 1, 1)) FROM users",
    "SELECT id FROM users WHERE secret_key LIKE 'a%'",
    "SELECT id FROM users ORDER BY access_key",
    "SELECT id FROM users u JOIN shadow_users s USING (secret_key)",
    "SELECT * FROM novaweb_backup_users_20260101",
    "SELECT count(*) FROM users WHERE id IN (SELECT id FROM users WHERE secret_key = 'x')",
    "SELECT 1 UNION SELECT secret_key FROM users",
    "SELECT secret_key FROM users; SELECT 1",
]
PG_EVASIONS = [
    "SELECT row_to_json(u) FROM users u",
    "SELECT to_jsonb(users) FROM users",
    "SELECT u::text FROM users u",
    "SELECT (u).* FROM users u",
    "SELECT json_agg(u.*) FROM users u",
    "SELECT d FROM users AS u(a, b, c, d)",
    'SELECT U&"secret\\005fkey" FROM users',
    "SELECT query_to_xml('select secret_' || 'key from users', true, false, '')",
    "SELECT table_to_xml('users', true, false, '')",
    "SELECT most_common_vals FROM pg_stats WHERE tablename = 'users'",
    "SELECT query FROM pg_stat_activity",
    "SELECT * FROM pg_catalog.pg_statistic",
    "SELECT dblink('dbname=nova', 'select 1')",
    "SELECT pg_read_file('/etc/passwd')",
]
MYSQL_EVASIONS = [
    "SELECT `secret_key` FROM `users`",
    "SELECT * FROM users INTO OUTFILE '/tmp/keys'",
    "SELECT id FROM instances INTO DUMPFILE '/tmp/ids'",
    "SELECT LOAD_FILE('/etc/passwd')",
    "SELECT sql_text FROM performance_schema.events_statements_history",
    "SELECT info FROM information_schema.processlist",
    "SELECT min_value FROM mysql.column_stats",
]
SQLITE_EVASIONS = [
    "SELECT sql FROM sqlite_master",
    "VACUUM INTO '/tmp/copy.sqlite3'",
]

ALLOWED = [
    "SELECT id, name, is_admin FROM users",
    "SELECT count(*) FROM users",
    "SELECT i.uuid, u.name FROM instances i JOIN users u ON u.id = i.user_id",
    "SELECT * FROM instances WHERE deleted = 0",
    "WITH per_host AS (SELECT host, count(*) AS n FROM instances GROUP BY host) SELECT * FROM per_host",
    "SELECT host, vm_state, count(*) FROM instances GROUP BY host, vm_state ORDER BY 3 DESC",
    "UPDATE instances SET hostname = 'x' WHERE id = 1",  # the server refuses it, with its own error
    "DELETE FROM users WHERE id = 'x'",
]


@pytest.mark.parametrize("vendor", VENDORS)
@pytest.mark.parametrize("sql", EVASIONS)
def test_every_evasion_is_refused(sql, vendor):
    with pytest.raises(Refused):
        check(sql, vendor)


@pytest.mark.parametrize(
    ("vendor", "sql"),
    [("postgresql", s) for s in PG_EVASIONS]
    + [("mysql", s) for s in MYSQL_EVASIONS]
    + [("sqlite", s) for s in SQLITE_EVASIONS],
)
def test_dialect_evasions_are_refused(vendor, sql):
    with pytest.raises(Refused):
        check(sql, vendor)


@pytest.mark.parametrize("vendor", VENDORS)
@pytest.mark.parametrize("sql", ALLOWED)
def test_ordinary_questions_pass(sql, vendor):
    check(sql, vendor)


def test_the_hidden_columns_are_what_the_inventory_hides():
    assert hidden_columns() == {"users": frozenset({"secret_key", "access_key"})}


def test_a_refusal_says_why_in_one_line():
    with pytest.raises(Refused) as refused:
        check("SELECT * FROM users", "postgresql")
    assert str(refused.value) == "users holds hidden columns: name the columns you want instead of *"
    with pytest.raises(Refused, match="one statement at a time"):
        check("SELECT 1; SELECT 2", "sqlite")
    with pytest.raises(Refused, match="could not parse"):
        check("SELEKT 1", "mysql")


def _quoted(name: str, vendor: str, style: int) -> str:
    if style == 0:
        return name
    if vendor == "mysql":
        return f"`{name}`"
    return f'"{name}"'


@given(
    column=st.sampled_from(["secret_key", "access_key"]),
    case=st.lists(st.booleans(), min_size=10, max_size=10),
    style=st.integers(0, 1),
    vendor=st.sampled_from(VENDORS),
    alias=st.sampled_from(["u", "x", "users_1"]),
    wrapper=st.sampled_from(
        ["{c}", "upper({c})", "coalesce({c}, '')", "{c} || 'x'", "length({c})", "max({c})", "({c})"]
    ),
    shape=st.sampled_from(
        [
            "SELECT {e} FROM users {a}",
            "SELECT {e} AS v FROM users AS {a}",
            "SELECT v FROM (SELECT {e} AS v FROM users {a}) t",
            "SELECT id FROM users {a} WHERE {e} IS NOT NULL",
            "SELECT id FROM users {a} ORDER BY {e}",
            "SELECT id FROM instances WHERE user_id IN (SELECT id FROM users {a} GROUP BY id, {e})",
        ]
    ),
)
def test_any_spelling_of_a_hidden_column_in_any_position_is_refused(column, case, style, vendor, alias, wrapper, shape):
    cased = "".join(ch.upper() if flip else ch for ch, flip in zip(column, case + case, strict=False))
    qualified = f"{alias}.{_quoted(cased, vendor, style)}" if style else _quoted(cased, vendor, style)
    sql = shape.format(e=wrapper.format(c=qualified), a=alias)
    with pytest.raises(Refused):
        check(sql, vendor)
