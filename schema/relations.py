"""The relation graph of a Nova database, and the one topological sort over it.

A *relation* is a table's columns referring to another table's columns. They
come from two places, merged:

- the Django models: every ``ForeignKey``, including Nova's unconstrained
  relations (``db_constraint=False``: ``fixed_ips.instance_id``,
  ``instance_faults.instance_uuid -> instances.uuid``...), and the models'
  multi-column foreign keys (``schema_facts.composite_foreign_keys``);
- the live database's foreign-key constraints (an operator's extra
  constraint is honoured too).

Archive (children first), the docs (relations in and out of a table), lint
(a load order that never breaks a relation) and the phase order of a plan
(:mod:`schema.phases`) all read this graph and sort with :func:`topological`.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass

from .schema import Schema


@dataclass(frozen=True)
class Relation:
    """``table.columns`` refers to ``ref_table.ref_columns``, with or without a constraint."""

    table: str
    columns: tuple[str, ...]
    ref_table: str
    ref_columns: tuple[str, ...]
    #: a foreign-key constraint (in the database or in the models' DDL)
    constrained: bool = False
    name: str | None = None
    #: the model field that declares it (``Instance.flavor``), when one does
    field: str | None = None

    # the archive's words for the two ends: rows of the child refer to a parent row
    @property
    def child(self) -> str:
        return self.table

    @property
    def parent(self) -> str:
        return self.ref_table

    @property
    def key(self) -> tuple:
        return (self.table, self.columns, self.ref_table, self.ref_columns)

    def describe(self) -> str:
        kind = "FOREIGN KEY" if self.constrained else "relation without constraint"
        return f"{self.table} ({', '.join(self.columns)}) -> {self.ref_table} ({', '.join(self.ref_columns)}): {kind}"

    def compact(self) -> str:
        """``child(columns) -> parent(columns) [foreign key]``: one line of a command's output."""
        kind = "foreign key" if self.constrained else "relation"
        return f"{self.table}({', '.join(self.columns)}) -> {self.ref_table}({', '.join(self.ref_columns)}) [{kind}]"

    def as_dict(self) -> dict:
        return {
            "table": self.table,
            "columns": list(self.columns),
            "ref_table": self.ref_table,
            "ref_columns": list(self.ref_columns),
            "constrained": self.constrained,
            "name": self.name,
            "field": self.field,
        }


def declared_relations(model, constrained: dict | None = None) -> list[Relation]:
    """The relations one model declares; ``constrained``: ``{key[1:]: constraint name}`` of the
    foreign keys the DDL has (default: what each field says, ``db_constraint``)."""
    table = model._meta.db_table
    found = []
    for f in model._meta.local_fields:
        if not (f.is_relation and f.concrete):
            continue
        key = ((f.column,), f.related_model._meta.db_table, (f.target_field.column,))
        is_constrained = bool(f.db_constraint) if constrained is None else key in constrained
        name = None if constrained is None else constrained.get(key)
        found.append(Relation(table, *key, is_constrained, name, f"{model.__name__}.{f.name}"))
    for fk in model.schema_facts.composite_foreign_keys:
        key = (tuple(fk.columns), fk.ref_table, tuple(fk.ref_columns))
        is_constrained = True if constrained is None else key in constrained
        name = None if constrained is None else constrained.get(key)
        found.append(Relation(table, *key, is_constrained, name, model.__name__))
    return found


def model_relations() -> list[Relation]:
    """The relations the models declare, constrained or not."""
    from .model_schema import nova_models  # the models need Django's app registry; the sort does not

    return [r for model in nova_models() for r in declared_relations(model)]


def live_relations(live: Schema, own_tables: set[str]) -> list[Relation]:
    """Model relations and live foreign keys between live tables (merged, constrained if either is)."""
    merged: dict[tuple, Relation] = {}
    candidates = model_relations() + [
        Relation(table.name, fk.columns, fk.ref_table, fk.ref_columns, True, fk.name)
        for table in live.tables.values()
        if table.name not in own_tables
        for fk in table.foreign_keys
    ]
    for relation in candidates:
        if relation.table not in live or relation.ref_table not in live:
            continue
        child, parent = live[relation.table], live[relation.ref_table]
        if not (set(relation.columns) <= set(child.columns) and set(relation.ref_columns) <= set(parent.columns)):
            continue
        known = merged.get(relation.key)
        if known is None or (relation.constrained and not known.constrained):
            merged[relation.key] = relation
    return sorted(merged.values(), key=lambda r: r.key)


# ---- the one topological sort ------------------------------------------------------------------
Cut = Callable[[list, dict], list[tuple]]


def topological(
    nodes: Iterable[Hashable],
    waits_on: Callable[[Hashable], Iterable[Hashable]],
    *,
    priority: Callable[[Hashable], object] = lambda node: node,
    cut: Cut | None = None,
) -> tuple[list, list[tuple]]:
    """``(order, cut)``: every node after the nodes it waits on, ready ones by ``priority``.

    Kahn's algorithm with a priority queue: deterministic. Where the waits form
    a cycle, ``cut(remaining, waiting)`` names the ``(node, waited-on node)``
    waits to set aside (by default every wait of the first node, by priority,
    of a cycle that waits on nothing outside itself); they are returned in ``cut``.
    """
    nodes = list(nodes)
    present = set(nodes)
    index = {n: i for i, n in enumerate(nodes)}
    waiting = {n: {w for w in waits_on(n) if w in present and w != n} for n in nodes}
    choose = cut or cut_first_node(priority)
    heap = [(priority(n), index[n], n) for n in nodes if not waiting[n]]
    heapq.heapify(heap)
    order, done, set_aside = [], set(), []
    while len(order) < len(nodes):
        if not heap:  # a cycle: set some waits aside
            pairs = choose([n for n in nodes if n not in done], waiting)
            for node, waited in pairs:
                waiting[node].discard(waited)
                set_aside.append((node, waited))
                if not waiting[node]:
                    heapq.heappush(heap, (priority(node), index[node], node))
            continue
        _, _, node = heapq.heappop(heap)
        if node in done:
            continue
        done.add(node)
        order.append(node)
        for other in nodes:
            if node in waiting[other]:
                waiting[other].discard(node)
                if not waiting[other] and other not in done:
                    heapq.heappush(heap, (priority(other), index[other], other))
    return order, set_aside


def cut_first_node(priority) -> Cut:
    """Cut a cycle at its first node (by priority) that waits on nothing outside its cycle: all its waits."""

    def cut(remaining: list, waiting: dict) -> list[tuple]:
        def reach(start):
            seen, todo = set(), [start]
            while todo:
                for nxt in waiting[todo.pop()]:
                    if nxt not in seen:
                        seen.add(nxt)
                        todo.append(nxt)
            return seen

        reachable = {n: reach(n) for n in remaining}
        chosen = min(remaining, key=priority)  # unreachable fallback: a stuck sort always holds such a cycle
        for node in sorted(remaining, key=priority):
            cycle = {u for u in reachable[node] if node in reachable[u]}
            if node in cycle and all(waiting[u] <= cycle for u in cycle):
                chosen = node
                break
        return [(chosen, w) for w in sorted(waiting[chosen], key=priority)]

    return cut
