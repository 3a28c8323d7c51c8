"""SQLite: declared types as Nova's DDL wrote them, constraints read from PRAGMAs."""

from __future__ import annotations

from ..schema import Check, Column, ForeignKey, Index, Table, UniqueConstraint
from .base import Dialect


class SQLiteDialect(Dialect):
    vendor = "sqlite"
    MODEL_TYPES = {
        "IntegerField": "INTEGER",
        "BigIntegerField": "BIGINT",
        "BooleanField": "BOOLEAN",
        "FloatField": "FLOAT",
        "DateTimeField": "DATETIME",
        "TextField": "TEXT",
        "CharField": "VARCHAR(%(max_length)s)",
    }
    AUTOINCREMENT_TYPE = "INTEGER"
    has_late_foreign_keys = False
    inline_foreign_keys = True
    TYPE_ALIASES = {"integer": "int", "boolean": "bool", "bool": "bool", "real": "float", "float": "float"}

    def model_autoincrement(self, field, table_primary_key):
        # A lone INTEGER PRIMARY KEY is SQLite's rowid: it auto-increments, AutoField or not.
        return field.primary_key and len(table_primary_key) == 1 and self.model_ddl_type(field) == "INTEGER"

    def live_columns(self, cursor, table):
        cursor.execute(f"PRAGMA table_info({self.connection.ops.quote_name(table)})")
        rows = cursor.fetchall()
        pk_columns = [row for row in rows if row[5]]
        columns = []
        for _cid, name, raw_type, notnull, default, pk in rows:
            normalized = self.normalize_type(raw_type)
            # A lone INTEGER PRIMARY KEY is SQLite's rowid: it auto-increments.
            autoincrement = bool(pk) and len(pk_columns) == 1 and normalized == "int"
            columns.append(
                Column(
                    name=name,
                    type=normalized,
                    nullable=not notnull,
                    default=self.normalize_default(default),
                    autoincrement=autoincrement,
                    ddl_type=raw_type,
                )
            )
        return columns

    def live_keys(self, cursor, table, into: Table) -> None:
        # Django's SQLite introspection misreads SQLAlchemy's table-level
        # ``UNIQUE (host)``; PRAGMA index_list says exactly what exists.
        table_info = self._pragma(cursor, "table_info", table)
        into.primary_key = tuple(row[1] for row in sorted((r for r in table_info if r[5]), key=lambda r: r[5]))
        for _seq, name, unique, origin, _partial in self._pragma(cursor, "index_list", table):
            if origin == "pk":
                continue
            columns = tuple(row[2] for row in self._pragma(cursor, "index_info", name))
            if origin == "u":
                into.uniques.append(UniqueConstraint(columns, name))
            else:
                into.indexes[name] = Index(name, columns, bool(unique))
        for name, info in self.connection.introspection.get_constraints(cursor, table).items():
            if info.get("check"):
                into.checks.append(Check(tuple(info["columns"]), name))

    def _pragma(self, cursor, pragma, name):
        cursor.execute(f"PRAGMA {pragma}({self.connection.ops.quote_name(name)})")
        return cursor.fetchall()

    def live_foreign_keys(self, cursor, table):
        grouped: dict[int, list] = {}
        for row in self._pragma(cursor, "foreign_key_list", table):
            fk_id, seq, ref_table, column, ref_column = row[:5]
            grouped.setdefault(fk_id, []).append((seq, column, ref_table, ref_column))
        keys = []
        for rows in grouped.values():
            rows.sort()
            keys.append(ForeignKey(tuple(r[1] for r in rows), rows[0][2], tuple(r[3] for r in rows)))
        return keys

    def drop_index_sql(self, quote, table, index):
        return f"DROP INDEX {quote(index.name)}"
