"""MySQL / MariaDB: the types Nova's SQLAlchemy emitted, InnoDB's implicit indexes."""

from __future__ import annotations

import re

from ..schema import Column, ForeignKey, Index, Table
from .base import Dialect


class MySQLDialect(Dialect):
    vendor = "mysql"
    MODEL_TYPES = {
        "IntegerField": "int(11)",
        "BigIntegerField": "bigint(20)",
        "BooleanField": "tinyint(1)",
        "FloatField": "float",
        "DateTimeField": "datetime",
        "TextField": "text",
        "CharField": "varchar(%(max_length)s)",
    }
    TYPE_ALIASES = {"integer": "int", "boolean": "bool", "bool": "bool", "double precision": "double"}

    def normalize_type(self, raw: str) -> str:
        text = " ".join(raw.strip().lower().split())
        if text.startswith("tinyint(1)"):
            return "bool"
        # Display widths (int(11), bigint(20)) are cosmetic: MySQL 8 no longer prints them.
        text = re.sub(r"^(tinyint|smallint|mediumint|int|integer|bigint)\(\d+\)", r"\1", text)
        return super().normalize_type(text)

    def normalize_default(self, raw):
        return None if raw in (None, "NULL") else super().normalize_default(raw)

    def table_options(self) -> str:
        return " ENGINE=InnoDB DEFAULT CHARSET=utf8"

    def live_columns(self, cursor, table):
        cursor.execute(
            "SELECT column_name, column_type, is_nullable, column_default, extra "
            "FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name = %s "
            "ORDER BY ordinal_position",
            [table],
        )
        return [
            Column(
                name=name,
                type=self.normalize_type(raw_type),
                nullable=nullable == "YES",
                default=self.normalize_default(default),
                autoincrement="auto_increment" in (extra or "").lower(),
                ddl_type=raw_type,
            )
            for name, raw_type, nullable, default, extra in cursor.fetchall()
        ]

    def live_foreign_keys(self, cursor, table):
        cursor.execute(
            "SELECT constraint_name, column_name, referenced_table_name, referenced_column_name "
            "FROM information_schema.key_column_usage "
            "WHERE table_schema = DATABASE() AND table_name = %s AND referenced_table_name IS NOT NULL "
            "ORDER BY constraint_name, ordinal_position",
            [table],
        )
        grouped: dict[str, list] = {}
        for name, column, ref_table, ref_column in cursor.fetchall():
            grouped.setdefault(name, []).append((column, ref_table, ref_column))
        return [
            ForeignKey(tuple(r[0] for r in rows), rows[0][1], tuple(r[2] for r in rows), name)
            for name, rows in grouped.items()
        ]

    def ignored_extra_index(self, expected: Table, live: Table, index: Index):
        # InnoDB creates an index for every foreign key that has none.
        if not index.unique and any(fk.columns == index.columns for fk in live.foreign_keys):
            return "InnoDB's implicit index for a foreign key"
        return None

    def column_definition(self, quote, column: Column) -> str:
        sql = super().column_definition(quote, column)
        return sql + " AUTO_INCREMENT" if column.autoincrement else sql

    def drop_foreign_key_sql(self, quote, table, fk):
        return f"ALTER TABLE {quote(table)} DROP FOREIGN KEY {quote(fk.name)}"

    def drop_index_sql(self, quote, table, index):
        return f"DROP INDEX {quote(index.name)} ON {quote(table)}"

    def drop_unique_sql(self, quote, table, unique):
        return f"ALTER TABLE {quote(table)} DROP INDEX {quote(unique.name)}"

    def unique_constraint_name(self, table, columns):
        return columns[0]

    def adjust_model_table(self, table: Table) -> None:
        # MySQL has no unique constraint apart from a unique index: ``UNIQUE (host)``
        # becomes ``UNIQUE KEY host (host)``.
        for unique in table.uniques:
            table.indexes[unique.name] = Index(unique.name, unique.columns, unique=True)
        table.uniques = []

    def alter_column_sql(self, quote, table, column, *, type_changed, null_changed):
        return [f"ALTER TABLE {quote(table)} MODIFY {self.column_definition(quote, column)}"]
