"""What differs between backends, in one class per backend.

A dialect answers three kinds of question:

- *model side*: which SQL type Nova gave a Django field on this backend
  (``MODEL_TYPES``), and how the backend names what it names itself
  (unique constraints, foreign keys, sequences);
- *live side*: the catalog queries Django's introspection lacks (raw column
  types, multi-column foreign keys), and how to normalize what they return;
- *benign differences*: what a real Nova database has that the models
  deliberately do not, recognized by shape and reported as "ignored".

Type normalization: types are compared after ``normalize_type`` on both
sides, with rules per backend (alembic's approach). The alternative, letting
the database normalize by creating the models' DDL in a scratch schema, was
not needed: Nova's Essex schema uses seven SQL types, and the models' DDL
types are chosen to be exactly the types Nova's own DDL produced, so the
rules are a short, closed table per backend, and the model side needs no
database at all (``bench/schema_bench.py`` measures both sides).
"""

from __future__ import annotations

import contextlib
import re

from django.db import models

from ..diff import SUGGESTED_INDEX_PREFIX
from ..schema import Check, Column, ForeignKey, Index, Table, UniqueConstraint
from ..statements import Statement


def quote_identifier(name: str, quote_char: str = '"') -> str:
    """``name`` quoted as an identifier, every embedded quote character doubled.

    Django's ``connection.ops.quote_name`` neither doubles an embedded quote
    nor quotes a name that already starts and ends with one (``x"; DROP TABLE
    instances; --`` or ``"a"`` would escape it), so novaweb never uses it for a
    name it did not write itself. The result is for SQL executed without
    parameters; :meth:`Dialect.quote_for_params` is for SQL with them.
    """
    if "\x00" in name:
        raise ValueError(f"an identifier cannot contain a NUL character: {name!r}")
    return quote_char + name.replace(quote_char, quote_char * 2) + quote_char


def quote_literal(text: str) -> str:
    """``text`` as a standard SQL string literal (quotes doubled), for a name a catalog function reads."""
    if "\x00" in text:
        raise ValueError(f"a string literal cannot contain a NUL character: {text!r}")
    return "'" + text.replace("'", "''") + "'"


class Dialect:
    vendor = "base"
    #: Django internal type -> the SQL type Nova's migrations created.
    MODEL_TYPES: dict[str, str] = {}
    #: The SQL type of an auto-increment primary key column.
    AUTOINCREMENT_TYPE = "integer"
    #: Nova added some foreign keys with ALTER TABLE: absent where that is impossible.
    has_late_foreign_keys = True
    #: Foreign keys are written inside CREATE TABLE (SQLite) rather than added after.
    inline_foreign_keys = False
    #: Changes other than adding tables, columns and indexes rebuild the table (SQLite).
    rebuilds_tables = False
    #: normalized type aliases: raw (lowercased, lengths stripped where irrelevant) -> canonical
    TYPE_ALIASES: dict[str, str] = {}

    # ---- what types hold (read by schema.type_rules; no connection needed) ----
    #: the range a normalized ``bool`` column stores
    BOOL_RANGE = (0, 1)
    #: float types (normalized) and their mantissa bits
    FLOAT_BITS = {"float": 53, "double": 53, "real": 24}
    #: text types (normalized) that hold at most so many bytes
    TEXT_BYTES: dict[str, int] = {}
    #: SQL templates for checking live values against a type, ``{}`` the value
    SQL_TO_NUMBER = "CAST({} AS NUMERIC)"
    SQL_TO_TEXT = "CAST({} AS TEXT)"
    SQL_OCTET_LENGTH = "OCTET_LENGTH({})"
    SQL_FLOAT32: str | None = None
    SQL_REGEX = "{} REGEXP {}"
    #: the regular expression anchor for the very end of a string (no newline before it)
    REGEX_END = r"\Z"

    def __init__(self, connection):
        self.connection = connection

    # ---- model side -------------------------------------------------------
    def model_ddl_type(self, field) -> str:
        """The SQL type Nova's schema has for a Django field on this backend."""
        if field.is_relation:
            field = field.target_field
            if isinstance(field, models.AutoField):
                field = models.IntegerField()
        internal = field.get_internal_type()
        if isinstance(field, models.AutoField) or internal == "AutoField":
            internal = "IntegerField"
        template = self.MODEL_TYPES[internal]
        return template % {"max_length": getattr(field, "max_length", None)}

    def model_autoincrement(self, field, table_primary_key: tuple) -> bool:
        """Whether a model column auto-increments on this backend."""
        return isinstance(field, models.AutoField)

    def unique_constraint_name(self, table: str, columns: tuple) -> str | None:
        return None

    def model_only_indexes(self, facts) -> tuple:
        """``(name, columns)`` indexes of Nova's schema that exist only on this backend."""
        return ()

    def inline_unique_sql(self, quote, unique: UniqueConstraint) -> str:
        """A unique constraint inside CREATE TABLE (named only where the backend keeps the name)."""
        return f"UNIQUE ({', '.join(map(quote, unique.columns))})"

    def adjust_model_table(self, table: Table) -> None:
        """Reshape the models' table into what this backend can express (in place)."""

    def primary_key_name(self, table: str) -> str | None:
        return None

    def sequence_name(self, table: str, column: str) -> str | None:
        return None

    # ---- normalization ----------------------------------------------------
    def normalize_type(self, raw: str) -> str:
        text = " ".join(raw.strip().lower().split())
        match = re.fullmatch(r"(?:varchar|character varying|nvarchar)\s*\((\d+)\)", text)
        if match:
            return f"varchar({match.group(1)})"
        return self.TYPE_ALIASES.get(text, text)

    def normalize_default(self, raw) -> str | None:
        if raw is None:
            return None
        text = str(raw).strip()
        if text.upper() == "NULL" or text == "":
            return None
        return text

    # ---- live side ----------------------------------------------------------
    def read_tables(self, cursor, names) -> list[Table]:
        """Each named table as it is live; a dialect may read the catalog in bulk instead."""
        tables = []
        for name in names:
            table = Table(name)
            for column in self.live_columns(cursor, name):
                table.add_column(column)
            self.live_keys(cursor, name, table)
            table.foreign_keys = self.live_foreign_keys(cursor, name)
            table.sequences = self.live_sequences(cursor, name)
            tables.append(table)
        return tables

    def live_columns(self, cursor, table: str) -> list[Column]:
        raise NotImplementedError

    def live_foreign_keys(self, cursor, table: str) -> list[ForeignKey]:
        raise NotImplementedError

    def live_sequences(self, cursor, table: str) -> dict[str, str]:
        return {}

    def live_keys(self, cursor, table: str, into: Table) -> None:
        """Primary key, unique constraints, indexes and checks, from Django's introspection."""
        constraints = self.connection.introspection.get_constraints(cursor, table)
        for name, info in constraints.items():
            columns = tuple(info["columns"])
            if info["primary_key"]:
                into.primary_key = columns
                into.primary_key_name = name
            elif info.get("check"):
                into.checks.append(Check(columns, name))
            elif info.get("foreign_key"):
                continue
            elif info["unique"] and not info["index"]:
                into.uniques.append(UniqueConstraint(columns, name))
            elif info["index"]:
                into.indexes[name] = Index(name, columns, bool(info["unique"]))

    # ---- bulk loading (seed_demo) ----------------------------------------------
    def bulk_insert(self, cursor, table: str, columns: tuple, rows: list) -> None:
        """Insert ``rows`` (tuples in ``columns`` order) the fastest way the backend offers.

        Here: one ``executemany``; MySQLdb rewrites it into multi-row INSERTs.
        """
        quote = self.quote_for_params
        names = ", ".join(map(quote, columns))
        marks = ", ".join(["%s"] * len(columns))
        cursor.executemany(f"INSERT INTO {quote(table)} ({names}) VALUES ({marks})", rows)

    @contextlib.contextmanager
    def bulk_load(self, cursor):
        """A session set up for a bulk load of consistent rows (foreign-key checks off, as a dump restore)."""
        yield

    def analyze(self, cursor, tables) -> None:
        """Refresh the planner's statistics (and so the catalog's row estimates) after a bulk load."""
        quote = self.quote
        for table in tables:
            cursor.execute(f"ANALYZE {quote(table)}")

    # ---- benign differences ---------------------------------------------------
    def ignored_extra_index(self, expected: Table, live: Table, index: Index) -> str | None:
        """Why an index the models lack is harmless here, or None when it is drift."""
        return None

    def ignored_check(self, live: Table, check: Check) -> str | None:
        column = live.columns.get(check.columns[0]) if len(check.columns) == 1 else None
        if column is not None and column.type == "bool":
            return f"SQLAlchemy's boolean CHECK ({check.columns[0]} IN (0, 1))"
        return None

    # ---- DDL ------------------------------------------------------------------
    def column_definition(self, quote, column: Column) -> str:
        sql = f"{quote(column.name)} {column.ddl_type or column.type}"
        if not column.nullable:
            sql += " NOT NULL"
        if column.default is not None:
            sql += f" DEFAULT {column.default}"
        return sql

    def table_options(self) -> str:
        return ""

    def add_foreign_key_sql(self, quote, table: str, fk: ForeignKey) -> str:
        name = f"CONSTRAINT {quote(fk.name)} " if fk.name else ""
        return (
            f"ALTER TABLE {quote(table)} ADD {name}FOREIGN KEY ({', '.join(map(quote, fk.columns))}) "
            f"REFERENCES {quote(fk.ref_table)} ({', '.join(map(quote, fk.ref_columns))})"
        )

    def drop_foreign_key_sql(self, quote, table: str, fk: ForeignKey) -> str:
        return f"ALTER TABLE {quote(table)} DROP CONSTRAINT {quote(fk.name)}"

    def drop_index_sql(self, quote, table: str, index: Index) -> str:
        return f"DROP INDEX {quote(index.name)}"

    def add_unique_sql(self, quote, table: str, unique: UniqueConstraint) -> str:
        name = f"CONSTRAINT {quote(unique.name)} " if unique.name else ""
        return f"ALTER TABLE {quote(table)} ADD {name}UNIQUE ({', '.join(map(quote, unique.columns))})"

    def drop_unique_sql(self, quote, table: str, unique: UniqueConstraint) -> str:
        return f"ALTER TABLE {quote(table)} DROP CONSTRAINT {quote(unique.name)}"

    def drop_column_sql(self, quote, table: str, column: str) -> str:
        return f"ALTER TABLE {quote(table)} DROP COLUMN {quote(column)}"

    # ---- documentation and lint -------------------------------------------------
    #: Django lookups a plain B-tree index on the column can serve on this backend.
    PLAIN_INDEX_LOOKUPS = frozenset({"exact"})
    #: Tables the backend keeps for itself (statistics...): never part of a schema.
    INTERNAL_TABLE_PREFIXES: tuple[str, ...] = ()
    #: How the backend quotes an identifier.
    IDENTIFIER_QUOTE = '"'

    def quote(self, name: str) -> str:
        """``name`` as an SQL identifier: the one quoting function of novaweb (see :func:`quote_identifier`)."""
        return quote_identifier(name, self.IDENTIFIER_QUOTE)

    def quote_for_params(self, name: str) -> str:
        """:meth:`quote` for SQL executed *with* parameters: ``%`` doubled for the format paramstyle."""
        return self.quote(name).replace("%", "%%")

    def estimated_row_counts(self, cursor) -> dict[str, int | None]:
        """``{table: estimated rows}`` from the catalog's statistics (never ``COUNT(*)``).

        ``None`` where the backend has no estimate (never analyzed).
        """
        return {}

    def suggested_index_name(self, table: str, columns: tuple) -> str:
        return f"{SUGGESTED_INDEX_PREFIX}{table}_{'_'.join(columns)}"[:63]

    def suggested_index_sql(self, table: str, columns: tuple, lookup: str = "exact") -> str | None:
        """DDL for an index that would serve ``lookup`` on ``columns`` (a suggestion, never run).

        ``None`` when no index can: a B-tree cannot serve a substring search (``icontains``).
        """
        if lookup in ("icontains", "contains"):
            return None
        name = self.quote(self.suggested_index_name(table, columns))
        return f"CREATE INDEX {name} ON {self.quote(table)} ({', '.join(map(self.quote, columns))})"

    def alter_column_statements(self, quote, table: str, before: Column, after: Column) -> list[str]:
        """DDL that turns column ``before`` into ``after`` (type, NULL, default, autoincrement)."""
        raise NotImplementedError(f"{self.vendor} rebuilds the table instead")

    def alter_primary_key_sql(self, quote, before: Table, after: Table) -> list[str]:
        return [
            f"ALTER TABLE {quote(after.name)} DROP CONSTRAINT {quote(before.primary_key_name)}",
            f"ALTER TABLE {quote(after.name)} ADD PRIMARY KEY ({', '.join(map(quote, after.primary_key))})",
        ]

    def drop_check_sql(self, quote, table: str, check: Check) -> str:
        return f"ALTER TABLE {quote(table)} DROP CONSTRAINT {quote(check.name)}"

    # ---- online changes ---------------------------------------------------------------
    def create_index_online(self, quote, table: str, index: Index) -> list[Statement]:
        """Create an index on a live table without blocking writes, where the backend can."""
        unique = "UNIQUE " if index.unique else ""
        columns = ", ".join(map(quote, index.columns))
        return [Statement(f"CREATE {unique}INDEX {quote(index.name)} ON {quote(table)} ({columns})")]

    def online_refused(self, exc) -> bool:
        """Whether ``exc`` is the backend refusing an online variant (then the fallback runs)."""
        return False

    # ---- data checks ---------------------------------------------------------------------
    def char_length_sql(self, expression: str) -> str:
        return f"CHAR_LENGTH({expression})"

    def regex_sql(self, expression: str, pattern: str) -> str:
        """SQL true when ``expression`` matches ``pattern`` whole (``pattern`` starts with ``^``)."""
        return self.SQL_REGEX.format(expression, quote_literal(pattern + self.REGEX_END))

    # ---- the sync lock (see schema.locking) ----------------------------------------------
    def try_sync_lock(self) -> bool:
        """Take the database-wide sync lock without waiting; True when taken."""
        raise NotImplementedError

    def release_sync_lock(self) -> None:
        raise NotImplementedError
