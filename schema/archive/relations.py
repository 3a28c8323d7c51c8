"""Which rows refer to which, and the order tables are archived in.

A *relation* is a child table's columns referring to a parent table's
columns. They come from two places, merged:

- the Django models: every ``ForeignKey``, including Nova's unconstrained
  relations (``db_constraint=False``: ``fixed_ips.instance_id``,
  ``instance_faults.instance_uuid -> instances.uuid``...), and the models'
  multi-column foreign keys (``schema_facts.composite_foreign_keys``);
- the live database's foreign-key constraints (an operator's extra
  constraint is honoured too).

Tables are archived children first (a topological order of the relations),
so a soft-deleted instance's soft-deleted fixed IPs, metadata and
security-group rows have moved before the instance is considered. Where the
relations form a cycle (Essex: ``volumes.snapshot_id`` and
``snapshots.volume_id``), the cycle is cut at the first table by name and the
relations that point back into it become *back edges*: only a live row at
the other end of a back edge keeps a parent (the deleted one moves later in
the same sweep).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..model_schema import nova_models
from ..schema import Schema

#: Tables whose rows Nova never soft-deletes: they are the history of their
#: instance (Essex writes them and never deletes them; later Nova archives
#: them with the instance through a foreign key). Their rows are archived
#: when the row they refer to is soft-deleted, as well as when they are.
FOLLOW_PARENT_TABLES = ("instance_actions", "instance_faults")

#: Tables never archived: bookkeeping, not Nova's soft-deleted rows.
NOT_ARCHIVED = ("migrate_version",)


@dataclass(frozen=True)
class Relation:
    child: str
    columns: tuple[str, ...]
    parent: str
    ref_columns: tuple[str, ...]
    #: a foreign-key constraint (in the database or in the models' DDL)
    constrained: bool = False

    @property
    def key(self):
        return (self.child, self.columns, self.parent, self.ref_columns)

    def describe(self) -> str:
        kind = "foreign key" if self.constrained else "relation"
        return f"{self.child}({', '.join(self.columns)}) -> {self.parent}({', '.join(self.ref_columns)}) [{kind}]"


def model_relations() -> list[Relation]:
    """The relations the models declare, constrained or not."""
    found = []
    for model in nova_models():
        table = model._meta.db_table
        for field in model._meta.local_fields:
            if field.is_relation and field.concrete:
                found.append(
                    Relation(
                        table,
                        (field.column,),
                        field.related_model._meta.db_table,
                        (field.target_field.column,),
                        bool(field.db_constraint),
                    )
                )
        for fk in model.schema_facts.composite_foreign_keys:
            found.append(Relation(table, tuple(fk.columns), fk.ref_table, tuple(fk.ref_columns), True))
    return found


def archivable_tables(live: Schema, own_tables: set[str]) -> list[str]:
    """Live tables with Nova's soft-delete flag, other than novaweb's own and bookkeeping."""
    return sorted(
        name
        for name, table in live.tables.items()
        if "deleted" in table.columns and name not in own_tables and name not in NOT_ARCHIVED
    )


def live_relations(live: Schema, own_tables: set[str]) -> list[Relation]:
    """Model relations and live foreign keys between live tables (merged, constrained if either is)."""
    merged: dict[tuple, Relation] = {}
    candidates = model_relations() + [
        Relation(table.name, fk.columns, fk.ref_table, fk.ref_columns, True)
        for table in live.tables.values()
        if table.name not in own_tables
        for fk in table.foreign_keys
    ]
    for relation in candidates:
        if relation.child not in live or relation.parent not in live:
            continue
        child, parent = live[relation.child], live[relation.parent]
        if not (set(relation.columns) <= set(child.columns) and set(relation.ref_columns) <= set(parent.columns)):
            continue
        known = merged.get(relation.key)
        if known is None or (relation.constrained and not known.constrained):
            merged[relation.key] = relation
    return sorted(merged.values(), key=lambda r: r.key)


def archive_order(tables: list[str], relations: list[Relation]) -> tuple[list[str], set[tuple]]:
    """``(tables children first, keys of the back-edge relations)``; deterministic."""
    wanted = set(tables)
    children: dict[str, set[str]] = {t: set() for t in tables}
    for r in relations:
        if r.parent in wanted and r.child in wanted and r.child != r.parent:
            children[r.parent].add(r.child)
    order: list[str] = []
    back_edges = {r.key for r in relations if r.child == r.parent}
    remaining = sorted(tables)
    while remaining:
        placed = set(order)
        ready = next((t for t in remaining if children[t] <= placed), None)
        if ready is None:
            ready = _cycle_cut(remaining, {t: children[t] - placed for t in remaining})
            back_edges |= {r.key for r in relations if r.parent == ready and r.child in children[ready] - placed}
        order.append(ready)
        remaining.remove(ready)
    return order, back_edges


def _cycle_cut(remaining: list[str], children: dict[str, set[str]]) -> str:
    """The first table (by name) of a cycle that waits on nothing outside its cycle."""

    def reach(start):
        seen, todo = set(), [start]
        while todo:
            for child in children[todo.pop()]:
                if child not in seen:
                    seen.add(child)
                    todo.append(child)
        return seen

    reachable = {t: reach(t) for t in remaining}
    for table in remaining:
        cycle = {u for u in reachable[table] if table in reachable[u]}
        if table in cycle and all(children[u] <= cycle for u in cycle):
            return table
    return remaining[0]  # unreachable: a stuck sweep always contains such a cycle
