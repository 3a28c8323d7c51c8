"""MySQL / MariaDB: the types Nova's SQLAlchemy emitted, InnoDB's implicit indexes."""

from __future__ import annotations

import contextlib
import re
from dataclasses import replace

from django.db.utils import DatabaseError

from ..schema import Check, Column, ForeignKey, Index, Table
from ..statements import Statement
from ..type_rules import type_info
from .base import Dialect
from .catalog import ViewReads
from .galera import ClusterSyncLock, is_galera
from .load_data import has_local_infile, load_data_session, local_infile
from .types import TypeRules

#: ER_ALTER_OPERATION_NOT_SUPPORTED(_REASON): the table cannot do ALGORITHM=INPLACE / LOCK=NONE.
ONLINE_REFUSED_ERRORS = (1845, 1846)


class MySQLTypes(TypeRules):
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

    AUTOINCREMENT_TYPE = "int(11)"

    # One statement per new table: each InnoDB DDL statement commits and syncs on its own, so a
    # from-empty sync that adds 26 foreign keys and 12 indexes afterwards costs 38 more of them.
    # The referenced tables come first (CreateTable.must_follow); the names InnoDB gives stay
    # those of Nova's own ALTERs (``<table>_ibfk_<n>``, an implicit index named after the column).
    inline_foreign_keys = True
    inline_indexes = True

    TYPE_ALIASES = {"integer": "int", "boolean": "bool", "bool": "bool", "double precision": "double"}

    BOOL_RANGE = (-128, 127)  # tinyint(1)

    FLOAT_BITS = {"float": 24, "double": 53, "real": 53}

    TEXT_BYTES = {"tinytext": 255, "text": 65535, "mediumtext": 16777215, "longtext": 4294967295}
    # TIMESTAMP is stored in UTC and read in the session's time zone: converting it to
    # DATETIME keeps whatever that session shows, so it is another family (refused while it holds values)
    NAIVE_DATETIME_TYPES = ("datetime",)
    # latin1 is cp1252: every character of it is in Unicode's first plane, all utf8mb3 holds
    CHARSETS_HELD = {
        "utf8mb4": frozenset({"*"}),
        "utf8mb3": frozenset({"utf8", "ascii", "latin1"}),
        "utf8": frozenset({"utf8mb3", "ascii", "latin1"}),
    }

    def normalize_type(self, raw: str) -> str:
        text = " ".join(raw.strip().lower().split())
        if text.startswith("tinyint(1)"):
            return "bool"
        # Display widths (int(11), bigint(20)) are cosmetic: MySQL 8 no longer prints them.
        text = re.sub(r"^(tinyint|smallint|mediumint|int|integer|bigint)\(\d+\)", r"\1", text)
        return super().normalize_type(text)

    def normalize_default(self, raw):
        return None if raw in (None, "NULL") else super().normalize_default(raw)

    def holds_characters(self, normalized: str) -> bool:
        """Whether a column of this type has a character set (and so a collation)."""
        return type_info(self, normalized).family in ("text", "char") or normalized.startswith(("enum", "set"))

    def unique_constraint_name(self, table, columns):
        return columns[0]

    def model_only_indexes(self, facts):
        # Left behind by foreign keys that older migrations dropped (MySQL keeps the index).
        return facts.mysql_indexes

    def adjust_model_table(self, table: Table) -> None:
        # MySQL has no unique constraint apart from a unique index: ``UNIQUE (host)``
        # becomes ``UNIQUE KEY host (host)``.
        for unique in table.uniques:
            table.indexes[unique.name] = Index(unique.name, unique.columns, unique=True)
        table.uniques = []


class MySQLDialect(MySQLTypes, Dialect):
    vendor = "mysql"
    SQL_TO_NUMBER = "CAST({} AS DECIMAL(65,0))"

    SQL_TO_TEXT = "CAST({} AS CHAR)"

    SQL_TO_DOUBLE = "CAST({} AS DOUBLE)"
    # a FLOAT holds a float32 and the server prints it with 6 significant digits: both must keep the value
    SQL_FLOAT32_LOST = "({0} <> CAST({0} AS FLOAT) OR ({0} <> 0 AND {0} <> ROUND({0}, 5 - FLOOR(LOG10(ABS({0}))))))"

    REGEX_END = r"\\z"  # in a MySQL string literal: PCRE's \z (\Z would also match before a final newline)

    @contextlib.contextmanager
    def bulk_load(self, cursor):
        cursor.execute("SET SESSION foreign_key_checks = 0, unique_checks = 0")
        try:
            yield
        except BaseException:
            # the load failed: reset if the connection still answers, and report the load's error, not this one
            with contextlib.suppress(DatabaseError):
                cursor.execute("SET SESSION foreign_key_checks = 1, unique_checks = 1")
            raise
        cursor.execute("SET SESSION foreign_key_checks = 1, unique_checks = 1")

    def bulk_connection(self):
        # local_infile is a client option, fixed when the connection opens (.load_data.local_infile)
        return local_infile(self.connection)

    @contextlib.contextmanager
    def bulk_session(self, *, fastest=True):
        # LOAD DATA LOCAL INFILE (.load_data) on this connection, in its transaction, where the server takes
        # it and the connection was opened with local_infile (bulk_connection); else multi-row INSERTs, said so.
        note = ""
        if fastest:
            with self.connection.cursor() as cursor:
                cursor.execute("SELECT @@GLOBAL.local_infile")
                allowed = str(cursor.fetchone()[0]).upper() in ("1", "ON")
            if allowed and has_local_infile(self.connection):
                with load_data_session(self) as session:
                    yield session
                return
            if not allowed:
                note = "the server has local_infile=OFF: rows were loaded with multi-row INSERTs (slower)"
            else:
                note = (
                    "the connection was opened without local_infile (already in a transaction): rows were loaded"
                    " with multi-row INSERTs (slower)"
                )
        with super().bulk_session() as session:
            session.note = note
            yield session

    def analyze(self, cursor, tables) -> None:
        quote = self.quote
        cursor.execute(f"ANALYZE TABLE {', '.join(map(quote, tables))}")
        cursor.fetchall()

    def read_tables(self, cursor, names):
        # information_schema is slow per query on MySQL/MariaDB (Django's
        # get_constraints costs ~7 ms a table): read the whole schema in four queries.
        tables = {name: Table(name) for name in names}
        for column in self._query(cursor, self.COLUMNS_SQL, "table_name, ordinal_position"):
            table = tables.get(column[0])
            if table is not None:
                table.add_column(self._column(*column[1:]))
        indexes: dict = {}
        for table_name, index, non_unique, column in self._query(
            cursor, self.INDEXES_SQL, "table_name, index_name, seq_in_index"
        ):
            if table_name in tables:
                indexes.setdefault((table_name, index), [non_unique, []])[1].append(column)
        for (table_name, index), (non_unique, columns) in indexes.items():
            table = tables[table_name]
            if index == "PRIMARY":
                table.primary_key, table.primary_key_name = tuple(columns), index
            else:
                table.indexes[index] = Index(index, tuple(columns), unique=not non_unique)
        # MariaDB's column-level CHECKs (a JSON column's json_valid()) belong to their column: they
        # cannot be dropped on their own (only with the column), so they are not table constraints here.
        mariadb = getattr(self.connection, "mysql_is_mariadb", False)
        checks_sql = self.CHECKS_SQL + (" AND level = 'Table'" if mariadb else "")
        for table_name, name, clause in self._query(cursor, checks_sql, "table_name, constraint_name"):
            if table_name in tables:
                table = tables[table_name]
                words = set(re.findall(r"`?(\w+)`?", clause))
                table.checks.append(Check(tuple(c for c in table.columns if c in words), name))
        grouped: dict = {}
        for table_name, name, column, ref_table, ref_column in self._query(
            cursor, self.FOREIGN_KEYS_SQL, "table_name, constraint_name, ordinal_position"
        ):
            if table_name in tables:
                grouped.setdefault((table_name, name), []).append((column, ref_table, ref_column))
        for (table_name, name), rows in grouped.items():
            tables[table_name].foreign_keys.append(
                ForeignKey(tuple(r[0] for r in rows), rows[0][1], tuple(r[2] for r in rows), name)
            )
        return [tables[name] for name in names]

    COLUMNS_SQL = (
        "SELECT table_name, column_name, column_type, is_nullable, column_default, extra, collation_name "
        "FROM information_schema.columns WHERE table_schema = DATABASE()"
    )

    INDEXES_SQL = (
        "SELECT table_name, index_name, non_unique, column_name "
        "FROM information_schema.statistics WHERE table_schema = DATABASE()"
    )

    CHECKS_SQL = (
        "SELECT table_name, constraint_name, check_clause "
        "FROM information_schema.check_constraints WHERE constraint_schema = DATABASE()"
    )

    FOREIGN_KEYS_SQL = (
        "SELECT table_name, constraint_name, column_name, referenced_table_name, referenced_column_name "
        "FROM information_schema.key_column_usage "
        "WHERE table_schema = DATABASE() AND referenced_table_name IS NOT NULL"
    )

    #: DDL that ends the open transaction with a commit before it runs (the server's "implicit
    #: commit"); CREATE TEMPORARY TABLE is not among them.
    _COMMITS_BEFORE = re.compile(r"(CREATE (UNIQUE )?INDEX|CREATE TABLE|ALTER TABLE|DROP (TABLE|INDEX)|RENAME TABLE) ")

    def commits_before(self, sql):
        return self._COMMITS_BEFORE.match(sql) is not None

    def view_reads(self, cursor):
        cursor.execute("SELECT DATABASE()")
        (database,) = cursor.fetchone()
        cursor.execute(
            "SELECT table_schema, table_name, view_definition FROM information_schema.views "
            "ORDER BY table_schema, table_name"
        )
        return ViewDefinitions(self.quote, database, cursor.fetchall())

    @staticmethod
    def _query(cursor, sql, order_by):
        cursor.execute(f"{sql} ORDER BY {order_by}")
        return cursor.fetchall()

    def _column(self, name, raw_type, nullable, default, extra, collation):
        return Column(
            name=name,
            type=self.normalize_type(raw_type),
            nullable=nullable == "YES",
            default=self.normalize_default(default),
            autoincrement="auto_increment" in (extra or "").lower(),
            ddl_type=raw_type,
            collation=collation,
        )

    def ignored_extra_index(self, expected: Table, live: Table, index: Index):
        # InnoDB creates an index for every foreign key that has none.
        if not index.unique and any(fk.columns == index.columns for fk in live.foreign_keys):
            return "InnoDB's implicit index for a foreign key"
        # ... and will keep this one for a foreign key the models add back (it cannot be dropped then).
        if not index.unique and any(fk.columns == index.columns for fk in expected.foreign_keys):
            return "InnoDB's implicit index for a foreign key (once the missing foreign key is added)"
        return None

    def column_definition(self, quote, column: Column) -> str:
        if column.collation and self.holds_characters(column.type):
            # Without it MODIFY gives the column its table's character set: a utf8mb4 column of a
            # utf8 table would be converted, its emoji refused by the strict session. A copy
            # (shadow, backup table) gets its source column's, whatever its own table's default.
            column = replace(column, ddl_type=f"{column.ddl_type or column.type} COLLATE {column.collation}")
        sql = super().column_definition(quote, column)
        return sql + " AUTO_INCREMENT" if column.autoincrement else sql

    PLAIN_INDEX_LOOKUPS = frozenset({"exact", "iexact", "istartswith"})

    IDENTIFIER_QUOTE = "`"

    sql_table_options = " ENGINE=InnoDB DEFAULT CHARSET=utf8"

    sql_drop_foreign_key = "ALTER TABLE {table} DROP FOREIGN KEY {name}"

    sql_drop_index = "DROP INDEX {name} ON {table}"

    index_names_per_table = True

    sql_drop_unique = "ALTER TABLE {table} DROP INDEX {name}"

    def estimated_row_counts(self, cursor):
        cursor.execute(
            "SELECT table_name, table_rows FROM information_schema.tables "
            "WHERE table_schema = DATABASE() AND table_type = 'BASE TABLE'"
        )
        return {name: None if rows is None else int(rows) for name, rows in cursor.fetchall()}

    def alter_column_statements(self, quote, table, before, after):
        return [f"ALTER TABLE {quote(table)} MODIFY {self.column_definition(quote, after)}"]

    def alter_primary_key_sql(self, quote, before, after):
        changes = ["DROP PRIMARY KEY"] if before.primary_key else []
        if after.primary_key:
            changes.append(f"ADD PRIMARY KEY ({', '.join(map(quote, after.primary_key))})")
        return [f"ALTER TABLE {quote(after.name)} {', '.join(changes)}"]

    def create_index_online(self, quote, table, index):
        unique = "UNIQUE " if index.unique else ""
        add = (
            f"ALTER TABLE {quote(table)} ADD {unique}INDEX {quote(index.name)} ({', '.join(map(quote, index.columns))})"
        )
        return [Statement(f"{add}, ALGORITHM=INPLACE, LOCK=NONE", fallback=add)]

    def online_refused(self, exc):
        return bool(exc.args) and exc.args[0] in ONLINE_REFUSED_ERRORS

    def sync_lock(self):
        # GET_LOCK is local to one Galera node: there the lock is a certified row.
        return ClusterSyncLock(self.connection) if is_galera(self.connection) else self

    def try_sync_lock(self):
        # GET_LOCK names are server-wide: the database's name makes the lock this database's.
        with self.connection.cursor() as cursor:
            cursor.execute("SELECT GET_LOCK(CONCAT('novaweb_sync.', DATABASE()), 0)")
            return cursor.fetchone()[0] == 1

    def release_sync_lock(self):
        with self.connection.cursor() as cursor:
            cursor.execute("SELECT RELEASE_LOCK(CONCAT('novaweb_sync.', DATABASE()))")


class ViewDefinitions(ViewReads):
    """MySQL keeps no view dependencies, but each view's query with every name qualified and
    quoted (`db`.`table`.`column`): a view reads what its text names that way, in any database."""

    def __init__(self, quote, database: str, views):
        super().__init__()
        self.quote = quote
        self.database = database
        self.views = [(name if schema == database else f"{schema}.{name}", text or "") for schema, name, text in views]

    def readers(self, table, column=None):
        q = self.quote
        target = f"{q(self.database)}.{q(table)}" + (f".{q(column)}" if column else "")
        return sorted(f"view {name}" for name, text in self.views if target in text)
