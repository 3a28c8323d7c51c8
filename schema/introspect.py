"""The schema of a live database, read through Django's introspection.

Django's ``connection.introspection`` lists tables and reads primary keys,
unique constraints, indexes and checks; the backend's dialect adds what it
lacks (raw column types, multi-column foreign keys, SQLite's table-level
UNIQUE) and narrows it to the one schema novaweb works on (PostgreSQL's
current schema, not every table visible on the search_path). One pass over
the catalog per call: no caching, the database is the truth.
"""

from __future__ import annotations

from .dialects import dialect_for
from .schema import Schema


def live_table_names(connection) -> list[str]:
    """The tables of the schema novaweb works on (PostgreSQL: the current schema only), sorted."""
    with connection.cursor() as cursor:
        return dialect_for(connection).live_table_names(cursor)


def introspect(connection, tables=None) -> Schema:
    """Read the live schema of ``connection`` (all tables, or only ``tables``)."""
    dialect = dialect_for(connection)
    schema = Schema(connection.vendor)
    names = live_table_names(connection)
    if tables is not None:
        wanted = set(tables)
        names = [n for n in names if n in wanted]
    with connection.cursor() as cursor:
        for table in dialect.read_tables(cursor, names):
            schema.add_table(table)
    return schema
