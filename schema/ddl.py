"""Turn differences into DDL for one backend, and run it.

Statements are executed through Django's
schema editor, ``connection.schema_editor()``, without
parameters; names are quoted by the dialect (``Dialect.quote``, which escapes
quotes inside a name where Django's ``quote_name`` does not). SQLite's
foreign-key checks are suspended the way Django does it, and a dry run
follows exactly the path a real run takes. What differs per
backend (autoincrement, inline foreign keys, DROP syntax) is the dialect's.
"""

from __future__ import annotations

from .dialects import dialect_for
from .schema import Index, Table


class DDLWriter:
    def __init__(self, connection):
        self.connection = connection
        self.dialect = dialect_for(connection)
        self.quote = self.dialect.quote

    # ---- whole objects ----------------------------------------------------------
    def create_table(self, table: Table) -> list[str]:
        q = self.quote
        parts = [self.dialect.column_definition(q, c) for c in table.columns.values()]
        if table.primary_key:
            parts.append(f"PRIMARY KEY ({', '.join(map(q, table.primary_key))})")
        parts += [self.dialect.inline_unique_sql(q, unique) for unique in table.uniques]
        inline_indexes = self.dialect.inline_indexes
        if inline_indexes:
            parts += [self.dialect.inline_index_sql(q, index) for index in table.indexes.values()]
        if self.dialect.inline_foreign_keys:
            parts += [self.dialect.inline_foreign_key_sql(q, fk) for fk in table.foreign_keys]
        body = ",\n\t".join(parts)
        statements = [f"CREATE TABLE {q(table.name)} (\n\t{body}\n){self.dialect.table_options()}"]
        if not inline_indexes:
            statements += [self.create_index(table.name, index) for index in table.indexes.values()]
        return statements

    def create_index(self, table: str, index: Index) -> str:
        q = self.quote
        unique = "UNIQUE " if index.unique else ""
        return f"CREATE {unique}INDEX {q(index.name)} ON {q(table)} ({', '.join(map(q, index.columns))})"


def run_statements(connection, statements: list[str]) -> list[str]:
    """Execute ``statements`` through Django's schema editor (atomic where DDL rolls back)."""
    atomic = connection.features.can_rollback_ddl
    with connection.schema_editor(atomic=atomic) as editor:
        for sql in statements:
            editor.execute(sql, params=None)
    return list(statements)
