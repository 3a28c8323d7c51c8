"""Refuse, before it runs, a console query that could read a column the inventory hides.

The read-only connection stops writes at the server; this module keeps the
columns the inventory never shows (``users.secret_key``, ``users.access_key``:
every ``exclude`` of a Nova model's admin) out of the console's results. The
statement is parsed with sqlglot in the connection's dialect and refused when:

- it cannot be parsed, holds more than one statement, or is a kind sqlglot
  only keeps as raw text (``VACUUM``, ``PRAGMA``, typed ``EXPLAIN``...: the
  console has an Explain button);
- any name in it is a hidden column, wherever it stands (select list, WHERE,
  ``USING``, inside a function or a concatenation, quoted or not), or the raw
  text spells one (``U&"..."`` escapes are refused outright);
- a table that holds hidden columns (``users``, ``shadow_users``, backups) is
  read as a whole: ``*`` or ``t.*`` anywhere in the statement (``COUNT(*)`` is
  fine), a whole-row reference (PostgreSQL ``row_to_json(u)``, ``u::text``) or
  a column-alias list that renames its columns by position (``users AS u(a, b)``);
- it reads a table outside the Nova database (catalogs and server views such as
  ``pg_stats`` or ``performance_schema`` can show column samples or other
  sessions' SQL) or calls a function that runs SQL from text or reads files
  (``query_to_xml``, ``dblink``, ``load_file``...).

A read-only database account without SELECT on those columns
(``NOVA_READONLY_DATABASE_URL``; see README) enforces the same at the server.
"""

from __future__ import annotations

import functools
import logging
import re

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

logging.getLogger("sqlglot").setLevel(logging.ERROR)  # its "falling back to Command" notes

DIALECTS = {"postgresql": "postgres", "mysql": "mysql", "sqlite": "sqlite"}

#: Tables novaweb itself creates next to Nova's: archived rows and backups.
OWN_TABLE_PREFIXES = ("shadow_", "novaweb_")
#: Backups may copy any column, hidden ones included: never read whole.
GUARDED_PREFIXES = ("novaweb_backup_",)
SYSTEM_SCHEMAS = frozenset(
    {"information_schema", "pg_catalog", "pg_toast", "mysql", "performance_schema", "sys", "sqlite_master", "temp"}
)
#: Functions that run SQL given as text, read files or other sessions' activity.
DENIED_FUNCTIONS = frozenset(
    {"ts_stat", "load_file", "current_query", "sys_eval", "sys_exec", "load_extension", "readfile", "writefile"}
)
DENIED_FUNCTION_PREFIXES = (
    "query_to_xml",
    "table_to_xml",
    "cursor_to_xml",
    "schema_to_xml",
    "database_to_xml",
    "dblink",
    "lo_",
    "pg_read_",
    "pg_ls_",
    "pg_stat_",
    "pg_file",
)


class Refused(Exception):
    """The console will not run this statement; the message says why and what to do."""


@functools.cache
def hidden_columns() -> dict[str, frozenset[str]]:
    """``{table: {column, ...}}`` of what the inventory's admin never shows (its ``exclude``)."""
    from django.contrib import admin

    from novaweb.router import NOVA_APPS

    hidden = {}
    for model, model_admin in admin.site._registry.items():
        if model._meta.app_label not in NOVA_APPS or not model_admin.exclude:
            continue
        columns = frozenset(model._meta.get_field(name).column.lower() for name in model_admin.exclude)
        hidden[model._meta.db_table.lower()] = columns
    return hidden


@functools.cache
def hidden_column_names() -> frozenset[str]:
    return frozenset(column for columns in hidden_columns().values() for column in columns)


@functools.cache
def nova_tables() -> frozenset[str]:
    from django.apps import apps

    from novaweb.router import NOVA_APPS

    return frozenset(
        model._meta.db_table.lower() for label in NOVA_APPS for model in apps.get_app_config(label).get_models()
    )


def is_guarded(table: str) -> bool:
    """True for a table holding hidden columns: never read as a whole row."""
    guarded = hidden_columns()
    return table in guarded or table.removeprefix("shadow_") in guarded or table.startswith(GUARDED_PREFIXES)


def is_nova_table(table: str) -> bool:
    return table in nova_tables() or table.startswith(OWN_TABLE_PREFIXES)


def parse_one(sql: str, vendor: str) -> exp.Expression:
    """The single statement in ``sql``, parsed in ``vendor``'s dialect; :class:`Refused` otherwise."""
    try:
        statements = [s for s in sqlglot.parse(sql, read=DIALECTS[vendor]) if s is not None]
    except SqlglotError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise Refused(f"the console could not parse this statement: {first}") from None
    if not statements:
        raise Refused("there is no statement to run")
    if len(statements) > 1:
        raise Refused("one statement at a time: remove the ';' between statements")
    return statements[0]


def check(sql: str, vendor: str) -> exp.Expression:
    """Refuse ``sql`` (:class:`Refused`) when it could read a hidden column; return the parsed statement."""
    _check_text(sql)
    statement = parse_one(sql, vendor)
    if isinstance(statement, exp.Command):
        raise Refused(
            f"the console does not run {statement.name.upper()} statements: write a SELECT "
            "(use the Explain button for a plan)"
        )
    _check_tables(statement)
    _check_functions(statement)
    _check_names(statement)
    _check_whole_rows(statement)
    return statement


def _check_text(sql: str) -> None:
    lowered = sql.lower()
    for column in sorted(hidden_column_names()):
        if column in lowered:
            raise Refused(f"the column {column} is hidden: the console never reads it")
    if re.search(r"\bu&\s*[\"']", lowered):
        raise Refused('Unicode-escaped names (U&"...") are not accepted: write names plainly')
    if re.search(r"\binto\s+(outfile|dumpfile)\b", lowered):
        raise Refused("the console does not write files on the server (INTO OUTFILE): use the CSV button")


def _cte_names(statement) -> set[str]:
    return {cte.alias_or_name.lower() for cte in statement.find_all(exp.CTE)}


def _tables(statement):
    """Every table the statement names (not CTEs, not table functions)."""
    ctes = _cte_names(statement)
    for table in statement.find_all(exp.Table):
        if not isinstance(table.this, exp.Identifier):
            continue  # a table function such as generate_series(...)
        name = table.name.lower()
        if name in ctes and not table.db:
            continue
        yield table, name


def _check_tables(statement) -> None:
    for table, name in _tables(statement):
        schema = (table.db or "").lower()
        if schema in SYSTEM_SCHEMAS or not (is_nova_table(name) or name == "dual"):
            where = f"{schema}.{name}" if schema else name
            raise Refused(f"{where} is not a table of the Nova database: the console reads Nova's tables only")


def _function_name(node) -> str:
    if isinstance(node, exp.Anonymous):
        return str(node.this).lower()
    return node.sql_name().lower()


def _check_functions(statement) -> None:
    for node in statement.find_all(exp.Func):
        name = _function_name(node)
        if name in DENIED_FUNCTIONS or name.startswith(DENIED_FUNCTION_PREFIXES):
            raise Refused(f"the function {name}() is not available in the console")


def _check_names(statement) -> None:
    hidden = hidden_column_names()
    for identifier in statement.find_all(exp.Identifier):
        if identifier.name.lower() in hidden:
            raise Refused(f"the column {identifier.name.lower()} is hidden: the console never reads it")


def _check_whole_rows(statement) -> None:
    guarded = {}  # alias or name -> table
    for table, name in _tables(statement):
        if not is_guarded(name):
            continue
        guarded[name] = name
        guarded[table.alias_or_name.lower()] = name
        alias = table.args.get("alias")
        if alias is not None and alias.columns:
            raise Refused(f"{name} holds hidden columns: renaming its columns by position is not accepted")
    if not guarded:
        return
    for star in statement.find_all(exp.Star):
        if isinstance(star.parent, exp.Count):
            continue
        table = star.parent.table.lower() if isinstance(star.parent, exp.Column) else ""
        if not table or table in guarded:
            target = guarded.get(table) or ", ".join(sorted(set(guarded.values())))
            raise Refused(f"{target} holds hidden columns: name the columns you want instead of *")
    for column in statement.find_all(exp.Column):
        if not column.table and column.name.lower() in guarded:
            raise Refused(f"{guarded[column.name.lower()]} holds hidden columns: a whole row of it is not accepted")
