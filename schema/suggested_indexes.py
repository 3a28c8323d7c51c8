"""Indexes Essex lacks that the inventory's pages need at a million instances.

Essex never indexed ``fixed_ips.instance_id`` on PostgreSQL (MySQL kept one
from a dropped foreign key), nor any IP address column: the instance list's
IP column and the IP search then scan ``fixed_ips`` / ``floating_ips``.
Later Nova releases added similar indexes. They are extra to Nova's schema,
named ``novaweb_ix_*`` so that ``db_drift`` reports them as ignored (never
drift, never dropped by ``db_contract``), and created online
(``CONCURRENTLY`` / ``ALGORITHM=INPLACE, LOCK=NONE``) by ``db_add_indexes``.
"""

from __future__ import annotations

from .dialects import dialect_for
from .introspect import introspect
from .names import printable
from .schema import Index
from .statements import Statement

#: (table, columns): the list's IP column (by instance), the IP search (by address).
SUGGESTED_INDEXES = (
    ("fixed_ips", ("instance_id",)),
    ("fixed_ips", ("address",)),
    ("floating_ips", ("fixed_ip_id",)),
    ("floating_ips", ("address",)),
)


def missing_indexes(connection) -> list[tuple[str, Index]]:
    """The suggested indexes this database has no index for (any name serving the same columns counts)."""
    dialect = dialect_for(connection)
    live = introspect(connection, tables={table for table, _ in SUGGESTED_INDEXES})
    missing = []
    for table, columns in SUGGESTED_INDEXES:
        if table in live and live[table].index_serving(columns) is None:
            name = dialect.suggested_index_name(table, columns)
            missing.append((table, Index(name, columns)))
    return missing


def name_clashes(connection, missing) -> list[str]:
    """The planned names something else already has: an index of other columns, a table (none is created)."""
    dialect = dialect_for(connection)
    live = introspect(connection)
    clashes = []
    for table, index in missing:
        holders = [live[table]] if dialect.index_names_per_table else live.tables.values()
        held = [(t.name, i) for t in holders for i in t.indexes.values() if i.name == index.name]
        held += [(t.name, u) for t in holders for u in t.uniques if u.name == index.name]
        if held:
            owner, other = held[0]
            clashes.append(
                f"{index.name} is already the name of an index of {printable(owner)} "
                f"({', '.join(map(printable, other.columns))}), not the one on {table} ({', '.join(index.columns)})"
            )
        elif index.name in live.tables and not dialect.index_names_per_table:
            clashes.append(f"{index.name} is already the name of a table")
    return clashes


def statements_for(connection, missing) -> list[Statement]:
    dialect = dialect_for(connection)
    quote = dialect.quote
    return [statement for table, index in missing for statement in dialect.create_index_online(quote, table, index)]
