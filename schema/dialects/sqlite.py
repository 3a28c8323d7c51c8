"""SQLite: declared types as Nova's DDL wrote them, constraints read from PRAGMAs."""

from __future__ import annotations

import re
import sqlite3

from ..schema import Check, Column, ForeignKey, Index, Table, UniqueConstraint
from .base import Dialect
from .catalog import ViewReads
from .types import TypeRules

#: The sync lock: a write transaction (BEGIN IMMEDIATE) held on a small file beside the
#: database, so SQLite's own file locking serializes runs and a killed run releases it.
LOCK_SUFFIX = "-novaweb-lock"


class SQLiteTypes(TypeRules):
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


class SQLiteDialect(SQLiteTypes, Dialect):
    vendor = "sqlite"
    rebuilds_tables = True

    SQL_TO_NUMBER = "CAST({} AS REAL)"

    SQL_OCTET_LENGTH = "LENGTH(CAST({} AS BLOB))"  # REGEXP: Django registers it on every connection

    def live_columns(self, cursor, table):
        cursor.execute(f"PRAGMA table_info({self.quote(table)})")
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
        for _seq, name, unique, origin, partial in self._pragma(cursor, "index_list", table):
            if origin == "pk":
                continue
            columns = tuple(row[2] for row in self._pragma(cursor, "index_info", name))
            if origin == "u":
                into.uniques.append(UniqueConstraint(columns, name))
            else:
                into.indexes[name] = Index(name, columns, bool(unique), bool(partial))
        for n, clause in enumerate(self._check_clauses(cursor, table), 1):
            words = set(re.findall(r'"?(\w+)"?', clause))
            columns = tuple(c for c in into.columns if c in words) if into.columns else ()
            into.checks.append(Check(columns, f"check_{n}"))

    def _check_clauses(self, cursor, table) -> list[str]:
        """The text inside each CHECK (...) of the table's SQL (Django's parser needs newlines)."""
        cursor.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = %s", [table])
        row = cursor.fetchone()
        sql = row[0] if row and row[0] else ""
        clauses = []
        for match in re.finditer(r"\bCHECK\s*\(", sql, flags=re.IGNORECASE):
            depth, start = 1, match.end()
            for pos in range(start, len(sql)):
                depth += {"(": 1, ")": -1}.get(sql[pos], 0)
                if depth == 0:
                    clauses.append(sql[start:pos])
                    break
        return clauses

    def _pragma(self, cursor, pragma, name):
        cursor.execute(f"PRAGMA {pragma}({self.quote(name)})")
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

    def view_reads(self, cursor):
        # SQLite keeps no dependencies: its authorizer is told every (table, column) that
        # preparing a view's query reads, through views of views too ("" for a table read
        # without a column of it, as COUNT(*) does).
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'view' ORDER BY name")
        views = [row[0] for row in cursor.fetchall()]
        raw = self.connection.connection
        reads = []

        for view in views:

            def note(action, table, column, database, source, reader=f"view {view}"):
                if action == sqlite3.SQLITE_READ:
                    reads.append((reader, table, column or None))
                return sqlite3.SQLITE_OK

            raw.set_authorizer(note)
            try:
                raw.execute(f"SELECT * FROM {self.quote(view)} LIMIT 0").close()
            except sqlite3.Error:
                continue  # a view that no longer reads (it names what is gone already)
            finally:
                raw.set_authorizer(None)
        return ViewReads(reads)

    #: sqlite_stat1 (ANALYZE), sqlite_sequence (AUTOINCREMENT): the prefix is reserved.
    INTERNAL_TABLE_PREFIXES = ("sqlite_",)

    def estimated_row_counts(self, cursor):
        # Only ANALYZE writes statistics; without sqlite_stat1 there is no estimate.
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'sqlite_stat1'")
        if not cursor.fetchall():
            return {}
        cursor.execute("SELECT tbl, stat FROM sqlite_stat1")
        counts: dict[str, int | None] = {}
        for table, stat in cursor.fetchall():
            first = (stat or "").split(" ", 1)[0]
            if first.isdigit():
                counts[table] = max(counts.get(table) or 0, int(first))
        return counts

    def suggested_index_sql(self, table, columns, lookup="exact"):
        # Django's iexact / istartswith are LIKE: SQLite uses an index only if it is NOCASE.
        if lookup in ("iexact", "istartswith") and len(columns) == 1:
            name = self.quote(f"{table}_{columns[0]}_nocase_idx")
            return f"CREATE INDEX {name} ON {self.quote(table)} ({self.quote(columns[0])} COLLATE NOCASE)"
        return super().suggested_index_sql(table, columns, lookup)

    def char_length_sql(self, expression):
        return f"LENGTH({expression})"

    def _lock_path(self):
        name = str(self.connection.settings_dict["NAME"])
        return None if name in ("", ":memory:") or name.startswith("file:") else name + LOCK_SUFFIX

    def try_sync_lock(self):
        path = self._lock_path()
        if path is None:
            return True
        lock = sqlite3.connect(path, timeout=0, isolation_level=None)
        try:
            lock.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError:
            lock.close()
            return False
        self._lock = lock
        return True

    def release_sync_lock(self):
        lock = getattr(self, "_lock", None)
        if lock is not None:
            lock.execute("ROLLBACK")
            lock.close()
            self._lock = None

    def rebuild_table(self, ddl, want: Table, have: Table) -> list[str]:
        """SQLite's way to change a table: a new one, the rows copied, a rename (``ddl``: a DDLWriter).

        The new table is named ``novaweb_rebuild_<table>``: one of novaweb's own
        tables, so a copy left by a run killed half-way is never reported as drift
        and is replaced by the next rebuild (the original still holds every row
        until its DROP, which runs only after the copy).
        """
        q = self.quote
        temp = Table(
            f"novaweb_rebuild_{want.name}",
            want.columns,
            want.primary_key,
            want.primary_key_name,
            want.uniques,
            {},
            want.foreign_keys,
        )
        common = [name for name in want.columns if name in have.columns]
        columns = ", ".join(map(q, common))
        statements = [f"DROP TABLE IF EXISTS {q(temp.name)}", *ddl.create_table(temp)]
        statements.append(f"INSERT INTO {q(temp.name)} ({columns}) SELECT {columns} FROM {q(have.name)}")
        statements.append(f"DROP TABLE {q(have.name)}")
        # Legacy rename: a view that reads the table (another application's) is not checked
        # while the table is briefly gone, and reads the rebuilt one afterwards.
        statements.append("PRAGMA legacy_alter_table = ON")
        statements.append(f"ALTER TABLE {q(temp.name)} RENAME TO {q(want.name)}")
        statements.append("PRAGMA legacy_alter_table = OFF")
        statements += [ddl.create_index(want.name, index) for index in want.indexes.values()]
        # DROP TABLE took the table's triggers with it: they come back as they were written
        statements += self._triggers(have.name)
        return statements

    def _triggers(self, table: str) -> list[str]:
        """The CREATE TRIGGER statements on ``table`` (none when planning without a database)."""
        if not hasattr(self.connection, "cursor"):
            return []
        with self.connection.cursor() as cursor:
            cursor.execute(
                "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s AND sql IS NOT NULL "
                "ORDER BY name",
                [table],
            )
            return [row[0] for row in cursor.fetchall()]
