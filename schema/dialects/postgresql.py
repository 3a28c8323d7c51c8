"""PostgreSQL: serial keys, Nova's constraint names, leftover sequence names."""

from __future__ import annotations

import contextlib
import re

from .. import type_rules
from ..schema import Check, Column, ForeignKey, Index, Table, UniqueConstraint
from ..statements import Statement
from .base import Dialect
from .catalog import ViewReads
from .types import TypeRules

#: pg_advisory_lock key of the sync lock (advisory locks are per database): "novaweb" in ASCII.
SYNC_LOCK_KEY = 0x6E6F766177656200


#: ``nextval('<regclass text>'::regclass)``: the literal's quotes are doubled inside it.
_NEXTVAL = re.compile(r"nextval\('((?:[^']|'')+)'::regclass\)")
#: One part of a qualified name: ``"quoted"""`` (quotes doubled) or unquoted.
_NAME_PART = re.compile(r'"((?:[^"]|"")*)"|([^".]+)')


def name_literal(name: str) -> str:
    """A name as a string literal (``E'...'``: the same text whatever ``standard_conforming_strings`` says)."""
    if "\x00" in name:
        raise ValueError(f"a string literal cannot contain a NUL character: {name!r}")
    return "E'" + name.replace("\\", "\\\\").replace("'", "''") + "'"


#: The pseudo-types of CREATE TABLE and the column types they stand for (ALTER ... TYPE needs these).
SERIAL_STORAGE = {"serial": "integer", "bigserial": "bigint", "smallserial": "smallint"}


def serial_sequence(default: str | None) -> str | None:
    """The sequence a column default draws from (``nextval('s'::regclass)``), its schema left out."""
    match = _NEXTVAL.fullmatch(default or "")
    if match is None:
        return None
    text, parts, pos = match.group(1).replace("''", "'"), [], 0
    while pos < len(text):
        part = _NAME_PART.match(text, pos)
        if part is None:
            return None
        parts.append(part.group(1).replace('""', '"') if part.group(1) is not None else part.group(2))
        pos = part.end()
        if pos < len(text):
            if text[pos] != ".":
                return None
            pos += 1
    return parts[-1] if parts else None


class PostgreSQLTypes(TypeRules):
    vendor = "postgresql"

    MODEL_TYPES = {
        "IntegerField": "integer",
        "BigIntegerField": "bigint",
        "BooleanField": "boolean",
        "FloatField": "double precision",
        "DateTimeField": "timestamp without time zone",
        "TextField": "text",
        "CharField": "varchar(%(max_length)s)",
    }

    # A new table's foreign keys inside its CREATE TABLE, as Nova's own migration wrote them:
    # 26 ALTER TABLEs after the fact each lock both tables and invalidate their cached
    # descriptions for the rest of the transaction, which made a from-empty sync's DDL twice as
    # slow. The names are the ones PostgreSQL gives either way (``<table>_<column>_fkey``).
    inline_foreign_keys = True

    AUTOINCREMENT_TYPE = "serial"

    TYPE_ALIASES = {
        "integer": "int",
        "int4": "int",
        "serial": "int",
        "int8": "bigint",
        "boolean": "bool",
        "double precision": "float",
        "float8": "float",
        "timestamp without time zone": "datetime",
        "timestamp": "datetime",
        "timestamp with time zone": "datetime with time zone",
        "float4": "real",
    }

    def unique_constraint_name(self, table, columns):
        return f"{table}_{columns[0]}_key"

    def primary_key_name(self, table):
        return f"{table}_pkey"

    def sequence_name(self, table, column):
        return f"{table}_{column}_seq"

    def foreign_key_name(self, table, columns):
        return f"{table}_{columns[0]}_fkey"

    def normalize_default(self, raw):
        text = super().normalize_default(raw)
        return None if text is None else re.sub(r"::[a-z ]+$", "", text)


class PostgreSQLDialect(PostgreSQLTypes, Dialect):
    vendor = "postgresql"
    SQL_FLOAT32_LOST = "{0} <> CAST(CAST({0} AS REAL) AS DOUBLE PRECISION)"

    SQL_REGEX = "{} ~ {}"

    bulk_method = "COPY"

    def bulk_insert(self, cursor, table, columns, rows):
        # COPY: several times faster than multi-row INSERTs for a bulk load.
        quote = self.quote
        with cursor.cursor.copy(f"COPY {quote(table)} ({', '.join(map(quote, columns))}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)

    @contextlib.contextmanager
    def bulk_load(self, cursor):
        # Foreign keys are triggers: a superuser may skip them for the transaction (pg_restore's
        # --disable-triggers); anyone else loads with the checks on.
        cursor.execute("SELECT current_setting('is_superuser')")
        if cursor.fetchone()[0] == "on":
            cursor.execute("SET LOCAL session_replication_role = replica")
        yield

    def inline_unique_sql(self, quote, unique):
        name = f"CONSTRAINT {quote(unique.name)} " if unique.name else ""
        return name + super().inline_unique_sql(quote, unique)

    # novaweb works on ONE schema: current_schema(), the first schema of the search_path that
    # exists (and that the user may use), where CREATE TABLE puts a table and where an unqualified
    # name is looked up first. Django's introspection lists every table *visible* on the path,
    # so a table of a later schema would pass for one of Nova's; every query here reads
    # current_schema() alone.
    TABLES_SQL = (
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p', 'f') AND NOT c.relispartition"
    )

    def live_table_names(self, cursor):
        cursor.execute(self.TABLES_SQL)
        return sorted(name for (name,) in cursor.fetchall())

    #: The session's schema, its path, its user, and the first later schema of the path that holds
    #: Nova's ``migrate_version`` when the current one does not.
    WORK_SCHEMA_SQL = (
        "SELECT current_schema(), current_setting('search_path'), current_user, "
        "(SELECT n.nspname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE c.relname = 'migrate_version' AND c.relkind IN ('r', 'p') "
        "AND n.nspname = ANY (current_schemas(false)) "
        "AND NOT EXISTS (SELECT 1 FROM pg_class m JOIN pg_namespace mn ON mn.oid = m.relnamespace "
        "WHERE m.relname = 'migrate_version' AND mn.nspname = current_schema()) "
        "ORDER BY array_position(current_schemas(false), n.nspname) LIMIT 1)"
    )

    def no_work_schema(self, cursor, setting):
        cursor.execute(self.WORK_SCHEMA_SQL)
        current, path, user, hidden = cursor.fetchone()
        advice = f"{setting} ending in ?options=-c%20search_path%3D<schema>, or ALTER ROLE/DATABASE ... SET search_path"
        if current is None:
            return (
                f"no current schema: no schema of the search_path ({path}) exists or is usable by {user}; "
                f"set search_path to the schema holding Nova's tables ({advice}) or create it"
            )
        if hidden is not None:
            # Tables made in the current schema would hide the later schema's from Nova's own
            # services, which find an unqualified name through the whole path.
            return (
                f"its current schema {current} holds no Nova database, but {hidden}, later on the search_path "
                f"({path}), does: novaweb works on the current schema only; set search_path to {hidden} "
                f"({advice}), or drop the schema {current} if it is not meant to hold Nova"
            )
        return None

    def read_tables(self, cursor, names):
        # One catalog query per kind of object for the whole schema, not per table.
        tables = {name: Table(name) for name in names}
        cursor.execute(self.COLUMNS_SQL)
        for table_name, name, raw_type, nullable, default in cursor.fetchall():
            table = tables.get(table_name)
            if table is None:
                continue
            sequence = serial_sequence(default)
            if sequence:
                table.sequences[name] = sequence
            table.add_column(
                Column(
                    name=name,
                    type=self.normalize_type(raw_type),
                    nullable=nullable,
                    default=None if sequence else self.normalize_default(default),
                    autoincrement=bool(sequence),
                    ddl_type=raw_type,
                )
            )
        cursor.execute(self.CONSTRAINTS_SQL)
        for table_name, name, kind, columns, ref_table, ref_columns in cursor.fetchall():
            table = tables.get(table_name)
            if table is None:
                continue
            if kind == "p":
                table.primary_key, table.primary_key_name = tuple(columns), name
            elif kind == "u":
                table.uniques.append(UniqueConstraint(tuple(columns), name))
            elif kind == "f":
                table.foreign_keys.append(ForeignKey(tuple(columns), ref_table, tuple(ref_columns), name))
            elif kind == "c":
                table.checks.append(Check(tuple(columns), name))
        cursor.execute(self.INDEXES_SQL)
        for table_name, name, unique, columns, partial in cursor.fetchall():
            if table_name in tables:
                tables[table_name].indexes[name] = Index(name, tuple(columns), unique, partial)
        return [tables[name] for name in names]

    COLUMNS_SQL = (
        "SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod), NOT a.attnotnull, "
        "pg_get_expr(d.adbin, d.adrelid) "
        "FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
        "JOIN pg_namespace n ON n.oid = c.relnamespace "
        "LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum "
        "WHERE c.relkind IN ('r', 'p') AND n.nspname = current_schema() AND a.attnum > 0 AND NOT a.attisdropped "
        "ORDER BY c.relname, a.attnum"
    )

    _COLUMN_NAMES = (
        "ARRAY(SELECT att.attname FROM unnest({keys}) WITH ORDINALITY k(n, i) "
        "JOIN pg_attribute att ON att.attrelid = {rel} AND att.attnum = k.n ORDER BY k.i)"
    )

    CONSTRAINTS_SQL = (
        "SELECT c.relname, con.conname, con.contype, "
        + _COLUMN_NAMES.format(keys="con.conkey", rel="con.conrelid")
        + ", ref.relname, "
        + _COLUMN_NAMES.format(keys="con.confkey", rel="con.confrelid")
        + " FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid "
        "JOIN pg_namespace n ON n.oid = c.relnamespace LEFT JOIN pg_class ref ON ref.oid = con.confrelid "
        "WHERE n.nspname = current_schema() AND con.contype IN ('p', 'u', 'f', 'c') ORDER BY c.relname, con.conname"
    )

    # Indexes that are not the backing index of a constraint.
    INDEXES_SQL = (
        "SELECT t.relname, i.relname, ix.indisunique, "
        + _COLUMN_NAMES.format(keys="ix.indkey::int2[]", rel="ix.indrelid")
        + ", ix.indpred IS NOT NULL"
        + " FROM pg_index ix JOIN pg_class i ON i.oid = ix.indexrelid JOIN pg_class t ON t.oid = ix.indrelid "
        "JOIN pg_namespace n ON n.oid = t.relnamespace "
        # An INVALID index (a CREATE INDEX CONCURRENTLY that was killed or failed)
        # serves no query: it counts as missing, and create_index_online replaces it.
        "WHERE n.nspname = current_schema() AND ix.indisvalid "
        "AND NOT EXISTS (SELECT 1 FROM pg_constraint con WHERE con.conindid = ix.indexrelid "
        "AND con.conrelid = ix.indrelid AND con.contype IN ('p', 'u', 'x')) "
        "ORDER BY t.relname, i.relname"
    )

    def column_definition(self, quote, column: Column) -> str:
        if column.autoincrement:
            return f"{quote(column.name)} serial NOT NULL"
        return super().column_definition(quote, column)

    def estimated_row_counts(self, cursor):
        # reltuples is -1 until the table is first vacuumed or analyzed (PostgreSQL 14+).
        cursor.execute(
            "SELECT c.relname, c.reltuples FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p')"
        )
        return {name: None if rows is None or rows < 0 else int(rows) for name, rows in cursor.fetchall()}

    RETYPE_REFUSED_UNDER_VIEWS = True

    #: The rewrite rules (a view's own, a materialized view's, a rule on another table) and what
    #: they read of the current schema's tables: a column (``refobjsubid``, its number) or the table.
    _READS_SQL = (
        "SELECT DISTINCT CASE v.relkind WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view' "
        "ELSE 'rule on' END, CASE WHEN n.nspname = current_schema() THEN '' ELSE n.nspname || '.' END, "
        "v.relname, t.relname, a.attname "
        "FROM pg_depend d JOIN pg_rewrite r ON r.oid = d.objid JOIN pg_class v ON v.oid = r.ev_class "
        "JOIN pg_namespace n ON n.oid = v.relnamespace JOIN pg_class t ON t.oid = d.refobjid "
        "JOIN pg_namespace tn ON tn.oid = t.relnamespace AND tn.nspname = current_schema() "
        "LEFT JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid AND d.refobjsubid > 0 "
        "WHERE d.classid = 'pg_rewrite'::regclass AND d.refclassid = 'pg_class'::regclass "
        "AND r.ev_class <> d.refobjid"
    )

    def view_reads(self, cursor):
        cursor.execute(self._READS_SQL)
        return ViewReads([(f"{kind} {schema}{name}", table, column) for kind, schema, name, table, column in cursor])

    def suggested_index_sql(self, table, columns, lookup="exact"):
        # Django compares UPPER(col::text) for iexact / istartswith / icontains.
        if lookup in ("iexact", "istartswith") and len(columns) == 1:
            name = self.quote(f"{table}_{columns[0]}_upper_idx"[:63])
            return (
                f"CREATE INDEX {name} ON {self.quote(table)} (UPPER({self.quote(columns[0])}::text) text_pattern_ops)"
            )
        if lookup == "icontains" and len(columns) == 1:
            name = self.quote(f"{table}_{columns[0]}_trgm_idx"[:63])
            return (
                f"CREATE EXTENSION IF NOT EXISTS pg_trgm; CREATE INDEX {name} ON {self.quote(table)} "
                f"USING gin (UPPER({self.quote(columns[0])}::text) gin_trgm_ops)"
            )
        return super().suggested_index_sql(table, columns, lookup)

    def alter_column_statements(self, quote, table, before, after):
        alter = f"ALTER TABLE {quote(table)} ALTER COLUMN {quote(after.name)}"
        statements = []
        default_kept = before.default
        if before.type != after.type:
            to_type = SERIAL_STORAGE.get(after.ddl_type, after.ddl_type)  # serial is no type ALTER knows
            using = self.conversion_sql(quote(after.name), before.type, after.type, to_type)
            if using is not None and before.default is not None:
                # the old default goes through no USING: it would refuse the type ("cannot be cast")
                statements.append(f"{alter} DROP DEFAULT")
                default_kept = None
            statements.append(f"{alter} TYPE {to_type}" + (f" USING {using}" if using else ""))
        if before.nullable != after.nullable:
            statements.append(f"{alter} {'DROP NOT NULL' if after.nullable else 'SET NOT NULL'}")
        if default_kept != after.default:
            statements.append(
                f"{alter} DROP DEFAULT" if after.default is None else f"{alter} SET DEFAULT {after.default}"
            )
        if before.autoincrement != after.autoincrement:
            statements += self._serial_statements(quote, table, after)
        return statements

    def conversion_sql(self, column_sql: str, old: str, new: str, to_type: str) -> str | None:
        """The ``USING`` expression that turns a value of type ``old`` into ``new``; ``None``: the server's own.

        An explicit cast cuts a too-long string silently, where the assignment cast that
        ALTER TYPE uses without one fails instead: so an expression only where no
        assignment cast exists. boolean has none to or from the integers (Nova's
        ``deleted`` made ``integer`` by hand comes back with ``<> 0``, after the values
        other than 0 and 1 were refused as values that do not fit).
        """
        integers = old != new and {type_rules.type_info(self, t).family for t in (old, new)} == {"integer"}
        if integers and new == "bool":
            return f"({column_sql} <> 0)"
        if integers and old == "bool":
            return f"{column_sql}::integer" + ("" if new in ("int", "integer") else f"::{to_type}")
        return None if type_rules.assignment_cast(self, old, new) else f"{column_sql}::{to_type}"

    def _serial_statements(self, quote, table, column):
        alter = f"ALTER TABLE {quote(table)} ALTER COLUMN {quote(column.name)}"
        if not column.autoincrement:
            return [f"{alter} DROP DEFAULT"]
        seq = self.sequence_name(table, column.name)
        regclass = name_literal(quote(seq))  # nextval() parses its text as a (quoted) name
        return [
            f"CREATE SEQUENCE IF NOT EXISTS {quote(seq)} OWNED BY {quote(table)}.{quote(column.name)}",
            f"{alter} SET DEFAULT nextval({regclass})",
            f"SELECT setval({regclass}, COALESCE(MAX({quote(column.name)}), 0) + 1, false) FROM {quote(table)}",
        ]

    def create_index_online(self, quote, table, index):
        # CONCURRENTLY does not block writes, and cannot run inside a transaction.
        unique = "UNIQUE " if index.unique else ""
        columns = ", ".join(map(quote, index.columns))
        sql = f"CREATE {unique}INDEX CONCURRENTLY {quote(index.name)} ON {quote(table)} ({columns})"
        return [
            Statement(self._drop_invalid_index_sql(quote, index.name), transactional=False),
            Statement(sql, transactional=False),
        ]

    @staticmethod
    def _drop_invalid_index_sql(quote, name):
        """Drop a leftover INVALID index of that name (from a killed concurrent build), and nothing else."""
        body = (
            "BEGIN IF EXISTS (SELECT 1 FROM pg_index ix JOIN pg_class i ON i.oid = ix.indexrelid "
            f"WHERE i.relname = {name_literal(name)} AND i.relnamespace = current_schema()::regnamespace "
            f"AND NOT ix.indisvalid) THEN DROP INDEX {quote(name)}; END IF; END"
        )
        tag = "$novaweb$"
        while tag in body:  # a dollar-quote tag the name cannot close
            tag = tag[:-1] + "_$"
        return f"DO {tag}{body}{tag}"

    def try_sync_lock(self):
        # pg_try_advisory_lock, polled: a session blocked in pg_advisory_lock holds a
        # snapshot that the other run's CREATE INDEX CONCURRENTLY would wait for.
        with self.connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [SYNC_LOCK_KEY])
            return bool(cursor.fetchone()[0])

    def release_sync_lock(self):
        with self.connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [SYNC_LOCK_KEY])
