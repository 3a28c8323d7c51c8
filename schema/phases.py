"""Every difference becomes an operation, in one of Nova's three phases.

- *expand* (safe while old code runs): create a table (with its
  constraints), add a nullable column (or NOT NULL with a default), add a
  non-unique index, relax NOT NULL, widen a varchar or an integer;
- *migrate* (changes semantics, not data): add or drop a unique
  index/constraint or a foreign key, other column changes that keep every
  value (default, autoincrement);
- *contract* (can break old code or lose data): drop a table, a column or a
  non-unique index; tighten to NOT NULL; narrow or change a type.

A NOT NULL column without a default is added nullable in *expand* and
tightened in *contract*, so old code that does not know the column keeps
inserting. Operations are ordered by dependency (tables before their foreign
keys, foreign keys dropped before what they use, a drop before the re-add of
the same name); an operation that depends on one in a later phase moves to
that phase. Each kind of operation is a class of :mod:`schema.operations` that
knows its phase, what it must follow and its rank; this module only orders
them. Pure functions: no database is touched here.
"""

from __future__ import annotations

from .diff import Difference
from .operations import FOR_DIFFERENCE, PHASE_RANK, PHASES, Operation, type_change
from .relations import topological
from .schema import Schema

__all__ = ["PHASES", "PHASE_RANK", "Operation", "operations", "order", "plan_operations", "type_change"]


def operations(differences: list[Difference], expected: Schema, live: Schema) -> list[Operation]:
    """The operations that bring ``live`` to ``expected``, each in its own phase (not yet ordered)."""
    ops: list[Operation] = []
    for d in differences:
        try:
            planner = FOR_DIFFERENCE[d.kind]
        except KeyError:
            raise ValueError(f"no operation for a difference of kind {d.kind!r}") from None
        ops += planner.from_difference(d, expected, live)
    return ops


def order(ops: list[Operation]) -> list[Operation]:
    """Ops in the order they run: by phase, dependencies first; a dependency in a later phase moves the op."""
    for op in ops:
        op.after = [j for j, other in enumerate(ops) if other is not op and op.must_follow(other)]
    changed = True
    while changed:
        changed = False
        for op in ops:
            for j in op.after:
                if PHASE_RANK[ops[j].phase] > PHASE_RANK[op.phase]:
                    op.phase = ops[j].phase
                    changed = True
    return _topological(ops)


def _topological(ops: list[Operation]) -> list[Operation]:
    """The one topological sort (:func:`schema.relations.topological`), by phase then kind within it."""
    order, _cut = topological(
        range(len(ops)),
        lambda i: ops[i].after,
        priority=lambda i: (PHASE_RANK[ops[i].phase], ops[i].rank, ops[i].table, i),
    )
    return [ops[i] for i in order]


def plan_operations(differences, expected: Schema, live: Schema) -> list[Operation]:
    """Classified and ordered: what :mod:`schema.plan` turns into DDL."""
    return order(operations(differences, expected, live))
