"""Which tables archive moves, and in which order.

The relations come from :mod:`schema.relations` (the models' and the live
foreign keys, merged). Tables are archived children first (a topological
order of the relations), so a soft-deleted instance's soft-deleted fixed IPs,
metadata and security-group rows have moved before the instance is
considered. Where the relations form a cycle (Essex: ``volumes.snapshot_id``
and ``snapshots.volume_id``), the cycle is cut at the first table by name and
the relations that point back into it become *back edges*: only a live row
at the other end of a back edge keeps a parent (the deleted one moves later
in the same sweep).
"""

from __future__ import annotations

from ..relations import Relation, live_relations, model_relations, topological
from ..schema import Schema

__all__ = [
    "FOLLOW_PARENT_TABLES",
    "NOT_ARCHIVED",
    "Relation",
    "archivable_tables",
    "archive_order",
    "live_relations",
    "model_relations",
]

#: Tables whose rows Nova never soft-deletes: they are the history of their
#: instance (Essex writes them and never deletes them; later Nova archives
#: them with the instance through a foreign key). Their rows are archived
#: when the row they refer to is soft-deleted, as well as when they are.
FOLLOW_PARENT_TABLES = ("instance_actions", "instance_faults")

#: Tables never archived: bookkeeping, not Nova's soft-deleted rows.
NOT_ARCHIVED = ("migrate_version",)


def archivable_tables(live: Schema, own_tables: set[str]) -> list[str]:
    """Live tables with Nova's soft-delete flag, other than novaweb's own and bookkeeping."""
    return sorted(
        name
        for name, table in live.tables.items()
        if "deleted" in table.columns and name not in own_tables and name not in NOT_ARCHIVED
    )


def archive_order(tables: list[str], relations: list[Relation]) -> tuple[list[str], set[tuple]]:
    """``(tables children first, keys of the back-edge relations)``; deterministic."""
    wanted = set(tables)
    children: dict[str, set[str]] = {t: set() for t in tables}
    for r in relations:
        if r.parent in wanted and r.child in wanted and r.child != r.parent:
            children[r.parent].add(r.child)
    order, cut = topological(sorted(tables), lambda t: children[t])
    back_edges = {r.key for r in relations if r.child == r.parent}
    back_edges |= {r.key for parent, child in cut for r in relations if r.parent == parent and r.child == child}
    return order, back_edges
