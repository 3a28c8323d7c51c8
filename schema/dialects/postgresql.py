"""PostgreSQL: serial keys, Nova's constraint names, leftover sequence names."""

from __future__ import annotations

import re

from ..schema import Column, ForeignKey
from .base import Dialect


class PostgreSQLDialect(Dialect):
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
    }

    def unique_constraint_name(self, table, columns):
        return f"{table}_{columns[0]}_key"

    def primary_key_name(self, table):
        return f"{table}_pkey"

    def sequence_name(self, table, column):
        return f"{table}_{column}_seq"

    def foreign_key_name(self, table, columns):
        return f"{table}_{columns[0]}_fkey"

    def live_columns(self, cursor, table):
        cursor.execute(
            "SELECT a.attname, format_type(a.atttypid, a.atttypmod), NOT a.attnotnull, "
            "pg_get_expr(d.adbin, d.adrelid) "
            "FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum "
            "WHERE c.relname = %s AND n.nspname = current_schema() AND a.attnum > 0 AND NOT a.attisdropped "
            "ORDER BY a.attnum",
            [table],
        )
        columns = []
        for name, raw_type, nullable, default in cursor.fetchall():
            autoincrement = bool(default and default.startswith("nextval("))
            columns.append(
                Column(
                    name=name,
                    type=self.normalize_type(raw_type),
                    nullable=nullable,
                    default=None if autoincrement else self.normalize_default(default),
                    autoincrement=autoincrement,
                    ddl_type=raw_type,
                )
            )
        return columns

    def normalize_default(self, raw):
        text = super().normalize_default(raw)
        if text is None:
            return None
        return re.sub(r"::[a-z ]+$", "", text)

    def live_sequences(self, cursor, table):
        return {seq["column"]: seq["name"] for seq in self.connection.introspection.get_sequences(cursor, table)}

    def live_foreign_keys(self, cursor, table):
        cursor.execute(
            "SELECT con.conname, "
            "ARRAY(SELECT att.attname FROM unnest(con.conkey) WITH ORDINALITY k(n, i) "
            "      JOIN pg_attribute att ON att.attrelid = con.conrelid AND att.attnum = k.n ORDER BY k.i), "
            "ref.relname, "
            "ARRAY(SELECT att.attname FROM unnest(con.confkey) WITH ORDINALITY k(n, i) "
            "      JOIN pg_attribute att ON att.attrelid = con.confrelid AND att.attnum = k.n ORDER BY k.i) "
            "FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid "
            "JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_class ref ON ref.oid = con.confrelid "
            "WHERE con.contype = 'f' AND c.relname = %s AND n.nspname = current_schema() ORDER BY con.conname",
            [table],
        )
        return [ForeignKey(tuple(cols), ref, tuple(ref_cols), name) for name, cols, ref, ref_cols in cursor.fetchall()]

    def column_definition(self, quote, column: Column) -> str:
        if column.autoincrement:
            return f"{quote(column.name)} serial NOT NULL"
        return super().column_definition(quote, column)

    def alter_column_sql(self, quote, table, column, *, type_changed, null_changed):
        statements = []
        if type_changed:
            statements.append(
                f"ALTER TABLE {quote(table)} ALTER COLUMN {quote(column.name)} TYPE {column.ddl_type} "
                f"USING {quote(column.name)}::{column.ddl_type}"
            )
        if null_changed:
            action = "DROP NOT NULL" if column.nullable else "SET NOT NULL"
            statements.append(f"ALTER TABLE {quote(table)} ALTER COLUMN {quote(column.name)} {action}")
        return statements
