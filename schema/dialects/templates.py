"""DDL templates: the SQL a backend writes for each change, as data where only the text differs.

Like Django's schema editor's ``sql_*`` attributes: a backend overrides a
template when its SQL differs in text only (MySQL's ``DROP INDEX ... ON``), and
a method when it differs in shape (SQLite rebuilds a table). No connection is
needed to write DDL.
"""

from __future__ import annotations

from ..diff import SUGGESTED_INDEX_PREFIX
from ..schema import Check, Column, ForeignKey, Index, Table, UniqueConstraint
from ..statements import Statement
from .quoting import quote_identifier, quote_literal


class DDLTemplates:
    #: Changes other than adding tables, columns and indexes rebuild the table (SQLite).
    rebuilds_tables = False
    #: How the backend quotes an identifier.
    IDENTIFIER_QUOTE = '"'
    #: Django lookups a plain B-tree index on the column can serve on this backend.
    PLAIN_INDEX_LOOKUPS = frozenset({"exact"})
    #: An index's name is unique within its table only (MySQL), not among every index and table.
    index_names_per_table = False

    # ---- templates: {table}, {name}, {column} are quoted identifiers ----
    sql_drop_index = "DROP INDEX {name}"
    sql_drop_foreign_key = "ALTER TABLE {table} DROP CONSTRAINT {name}"
    sql_drop_unique = "ALTER TABLE {table} DROP CONSTRAINT {name}"
    sql_drop_check = "ALTER TABLE {table} DROP CONSTRAINT {name}"
    sql_drop_column = "ALTER TABLE {table} DROP COLUMN {column}"
    sql_table_options = ""

    #: SQL templates for checking live values against a type, ``{}`` the value (schema.type_rules)
    SQL_TO_NUMBER = "CAST({} AS NUMERIC)"
    SQL_TO_TEXT = "CAST({} AS TEXT)"
    SQL_OCTET_LENGTH = "OCTET_LENGTH({})"
    SQL_TO_DOUBLE = "CAST({} AS DOUBLE PRECISION)"
    #: SQL true for a value a single-precision column would not give back as it is
    SQL_FLOAT32_LOST: str | None = None
    SQL_REGEX = "{} REGEXP {}"
    #: the regular expression anchor for the very end of a string (no newline before it)
    REGEX_END = r"\Z"

    def commits_before(self, sql: str) -> bool:
        """Whether the server commits the session's open transaction before it runs ``sql``
        (MySQL's implicit commit of DDL): a row written just before then commits with it."""
        return False

    def quote(self, name: str) -> str:
        """``name`` as an SQL identifier: the one quoting function of novaweb (see :func:`quote_identifier`)."""
        return quote_identifier(name, self.IDENTIFIER_QUOTE)

    def quote_for_params(self, name: str) -> str:
        """:meth:`quote` for SQL executed *with* parameters: ``%`` doubled for the format paramstyle."""
        return self.quote(name).replace("%", "%%")

    def inline_unique_sql(self, quote, unique: UniqueConstraint) -> str:
        """A unique constraint inside CREATE TABLE (named only where the backend keeps the name)."""
        return f"UNIQUE ({', '.join(map(quote, unique.columns))})"

    def inline_index_sql(self, quote, index: Index) -> str:
        """An index inside CREATE TABLE (where ``inline_indexes``)."""
        unique = "UNIQUE " if index.unique else ""
        return f"{unique}KEY {quote(index.name)} ({', '.join(map(quote, index.columns))})"

    def inline_foreign_key_sql(self, quote, fk: ForeignKey) -> str:
        """A foreign key inside CREATE TABLE (where ``inline_foreign_keys``), named if it has a name."""
        name = f"CONSTRAINT {quote(fk.name)} " if fk.name else ""
        return (
            f"{name}FOREIGN KEY({', '.join(map(quote, fk.columns))}) REFERENCES {quote(fk.ref_table)} "
            f"({', '.join(map(quote, fk.ref_columns))})"
        )

    def column_definition(self, quote, column: Column) -> str:
        sql = f"{quote(column.name)} {column.ddl_type or column.type}"
        if not column.nullable:
            sql += " NOT NULL"
        if column.default is not None:
            sql += f" DEFAULT {column.default}"
        return sql

    def table_options(self) -> str:
        return self.sql_table_options

    def add_foreign_key_sql(self, quote, table: str, fk: ForeignKey) -> str:
        name = f"CONSTRAINT {quote(fk.name)} " if fk.name else ""
        return (
            f"ALTER TABLE {quote(table)} ADD {name}FOREIGN KEY ({', '.join(map(quote, fk.columns))}) "
            f"REFERENCES {quote(fk.ref_table)} ({', '.join(map(quote, fk.ref_columns))})"
        )

    def drop_foreign_key_sql(self, quote, table: str, fk: ForeignKey) -> str:
        return self.sql_drop_foreign_key.format(table=quote(table), name=quote(fk.name))

    def drop_index_sql(self, quote, table: str, index: Index) -> str:
        return self.sql_drop_index.format(table=quote(table), name=quote(index.name))

    def add_unique_sql(self, quote, table: str, unique: UniqueConstraint) -> str:
        name = f"CONSTRAINT {quote(unique.name)} " if unique.name else ""
        return f"ALTER TABLE {quote(table)} ADD {name}UNIQUE ({', '.join(map(quote, unique.columns))})"

    def drop_unique_sql(self, quote, table: str, unique: UniqueConstraint) -> str:
        return self.sql_drop_unique.format(table=quote(table), name=quote(unique.name))

    def drop_column_sql(self, quote, table: str, column: str) -> str:
        return self.sql_drop_column.format(table=quote(table), column=quote(column))

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

    def rebuild_table(self, ddl, want: Table, have: Table) -> list[str]:
        """A table rebuilt into ``want`` (where ``rebuilds_tables``): SQLite's way to change a table."""
        raise NotImplementedError(f"{self.vendor} changes a table in place")

    def alter_column_statements(self, quote, table: str, before: Column, after: Column) -> list[str]:
        """DDL that turns column ``before`` into ``after`` (type, NULL, default, autoincrement)."""
        raise NotImplementedError(f"{self.vendor} rebuilds the table instead")

    def alter_primary_key_sql(self, quote, before: Table, after: Table) -> list[str]:
        """Drop the live primary key (if the table has one), then add the wanted one (if any)."""
        statements = []
        if before.primary_key:
            statements.append(f"ALTER TABLE {quote(after.name)} DROP CONSTRAINT {quote(before.primary_key_name)}")
        if after.primary_key:  # none when an undo takes the table back to having none
            columns = ", ".join(map(quote, after.primary_key))
            statements.append(f"ALTER TABLE {quote(after.name)} ADD PRIMARY KEY ({columns})")
        return statements

    def drop_check_sql(self, quote, table: str, check: Check) -> str:
        return self.sql_drop_check.format(table=quote(table), name=quote(check.name))

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
