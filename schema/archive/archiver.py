"""Move soft-deleted rows into the shadow tables, batch by batch.

What moves, and when (Nova's rules, with Essex's unconstrained relations):

- A row moves when its ``deleted`` flag is true (and, with ``before``, its
  ``deleted_at`` is earlier). Rows of :data:`~.relations.FOLLOW_PARENT_TABLES`
  (instance actions and faults, which Nova never soft-deletes) also move when
  the instance they belong to qualifies.
- Tables are visited children first (:func:`~.relations.archive_order`), so
  an instance's soft-deleted fixed IPs, metadata, security-group rows and
  info cache have moved before the instance is considered.
- A row still referred to by a row that stays (through a foreign key or one
  of Nova's unconstrained relations: a live fixed IP still pointing at a
  deleted instance, a live instance of a deleted flavor) is *kept*: moving it
  would break a foreign key, or leave the live row pointing at nothing. Kept
  rows are counted per table and per referring table, and move on a later
  run once the referring row has gone. So the archive never leaves a
  dangling reference behind, on any backend, whether or not the database
  enforces the relation.
- Each batch (up to ``batch_size`` rows of one table, by primary key) is one
  transaction: ``INSERT INTO shadow_t SELECT ... WHERE pk IN (...)`` then
  ``DELETE ... WHERE pk IN (...)``, both re-checking that the rows still
  qualify; if the two counts differ (a row changed meanwhile) the batch is
  rolled back and its rows are left for the next run. A foreign key that
  refuses the DELETE (a row inserted meanwhile) rolls the batch back and the
  rows are retried one by one, the refused ones kept. A shadow table that
  refuses the INSERT (a CHECK, a UNIQUE of the operator's) rolls the batch
  back and stops the run (:class:`~.shadow.ShadowMismatch`); a shadow table
  whose columns cannot take the rows is refused before any row moves.

Whether a row is referred to is asked per batch where the referring columns
are indexed, and once per table for the whole referring table where they are
not (Essex has no index on ``instance_faults.instance_uuid`` and several
others): a scan per table instead of one per batch.

The sweep is resumable: :meth:`Archiver.run` moves up to ``max_rows`` rows
and returns; the next call continues where it stopped (``--until-complete``).
"""

from __future__ import annotations

from collections import Counter, defaultdict

from django.db import DataError, IntegrityError, transaction

from ..dialects import dialect_for
from ..engine import own_tables
from ..introspect import introspect
from .relations import FOLLOW_PARENT_TABLES, Relation, archivable_tables, archive_order, live_relations
from .shadow import ShadowMismatch, check_shadow_holds, ensure_shadow_table, not_tables, refused_rows, shadow_name

#: Why a row was kept when no referring table is to blame.
KEPT_BY_FOREIGN_KEY = "(a foreign key refused the delete)"


class _Changed(Exception):
    """A batch's rows changed between its INSERT and its DELETE."""


class _Refused(Exception):
    """A foreign key refused a batch's DELETE."""


class Archiver:
    BATCH_SIZE = 5000

    def __init__(self, connection, *, before=None, batch_size: int | None = None, on_progress=None):
        self.connection = connection
        # every statement of an archive run has parameters: "%" in a name is doubled
        self.quote = dialect_for(connection).quote_for_params
        self.before = connection.ops.adapt_datetimefield_value(before) if before is not None else None
        self.batch_size = batch_size or self.BATCH_SIZE
        self.on_progress = on_progress or (lambda n: None)
        self.live = introspect(connection)
        own = own_tables(self.live)
        tables = [
            t
            for t in archivable_tables(self.live, own)
            if self.live[t].primary_key and (before is None or "deleted_at" in self.live[t].columns)
        ]
        self.relations = live_relations(self.live, own)
        self.order, self.back_edges = archive_order(tables, self.relations)
        self._check_shadow_tables()
        self.archived: Counter = Counter()
        #: table -> {referring table (or reason): rows kept}
        self.kept: dict[str, Counter] = defaultdict(Counter)
        self._position = 0
        self._after: dict[str, tuple] = {}
        self._referenced_cache: dict[tuple, set] = {}

    def _check_shadow_tables(self) -> None:
        """Before any row moves: every existing shadow table can hold its live table's rows."""
        dialect = dialect_for(self.connection)
        views = not_tables(self.connection)
        for table in self.order:
            if shadow_name(table) in views:
                raise ShadowMismatch(
                    f"{shadow_name(table)} is a view, not a table the rows of {table} can move to: "
                    "rename or drop it, then archive again"
                )
            shadow = self.live.tables.get(shadow_name(table))
            if shadow is not None:
                check_shadow_holds(self.live[table], shadow, dialect)

    # ---- the sweep ------------------------------------------------------------------
    @property
    def complete(self) -> bool:
        """Every table has been swept: nothing that can move is left."""
        return self._position >= len(self.order)

    def run(self, max_rows: int) -> Counter:
        """Move up to ``max_rows`` rows, continuing the sweep; ``{table: rows moved}``."""
        moved: Counter = Counter()
        budget = max_rows
        while budget > 0 and not self.complete:
            table = self.order[self._position]
            count, exhausted = self._batch(table, min(budget, self.batch_size))
            if count:
                moved[table] += count
                self.archived[table] += count  # counted as it moves: a refused later batch leaves it moved
                budget -= count
            if exhausted:
                self._position += 1
        return moved

    def unindexed_foreign_keys(self) -> list[Relation]:
        """Foreign-key constraints into archived tables with no index on the referring columns.

        Every archived parent row makes the database look for referring rows;
        without an index that is a scan of the referring table per row (Essex
        on PostgreSQL and SQLite: ``instance_metadata.instance_id``,
        ``security_group_instance_association.instance_id``...). MySQL always
        indexes a foreign key.
        """
        return [
            r
            for r in self.relations
            if r.constrained and r.parent in self.order and self.live[r.child].index_serving(r.columns) is None
        ]

    def count_candidates(self) -> int:
        """How many rows qualify now (for a progress bar; kept ones included)."""
        total = 0
        with self.connection.cursor() as cursor:
            for table in self.order:
                condition, params = self._qualifies(table)
                cursor.execute(f"SELECT COUNT(*) FROM {self.quote(table)} WHERE {condition}", params)
                total += cursor.fetchone()[0]
        return total

    # ---- one batch --------------------------------------------------------------------
    def _batch(self, table: str, limit: int) -> tuple[int, bool]:
        primary_key = self.live[table].primary_key
        incoming = [r for r in self.relations if r.parent == table]
        columns = list(primary_key) + sorted({c for r in incoming for c in r.ref_columns} - set(primary_key))
        rows = self._candidates(table, columns, limit)
        exhausted = len(rows) < limit
        if not rows:
            return 0, exhausted
        self._after[table] = rows[-1][: len(primary_key)]
        blocked = self._blocked(rows, columns, incoming)
        for child in blocked.values():
            self.kept[table][child] += 1
        width = len(primary_key)
        keys = [row[:width] for i, row in enumerate(rows) if i not in blocked]
        excluded = [row[:width] for i, row in enumerate(rows) if i in blocked]
        moved = self._move(table, keys, excluded) if keys else 0
        self.on_progress(len(rows))
        return moved, exhausted

    def _candidates(self, table, columns, limit):
        q = self.quote
        primary_key = self.live[table].primary_key
        condition, params = self._qualifies(table)
        after = self._after.get(table)
        if after is not None:
            condition += f" AND {self._row(table, primary_key)} > {self._row_params(len(primary_key))}"
            params = [*params, *after]
        order = ", ".join(f"{q(table)}.{q(c)}" for c in primary_key)
        selected = ", ".join(f"{q(table)}.{q(c)}" for c in columns)
        sql = f"SELECT {selected} FROM {q(table)} WHERE {condition} ORDER BY {order} LIMIT {int(limit)}"
        with self.connection.cursor() as cursor:
            cursor.execute(sql, params)
            return [tuple(row) for row in cursor.fetchall()]

    def _qualifies(self, table: str) -> tuple[str, list]:
        """SQL (and params) for "this row of ``table`` is to be archived", columns qualified."""
        condition, params = self._soft_deleted(table)
        if table in FOLLOW_PARENT_TABLES:
            q = self.quote
            for r in self.relations:
                if r.child != table or r.parent not in self.order:
                    continue
                parent_deleted, parent_params = self._soft_deleted(r.parent)
                joined = " AND ".join(
                    f"{q(r.parent)}.{q(p)} = {q(table)}.{q(c)}" for c, p in zip(r.columns, r.ref_columns, strict=True)
                )
                condition += f" OR EXISTS (SELECT 1 FROM {q(r.parent)} WHERE {joined} AND {parent_deleted})"
                params += parent_params
            condition = f"({condition})"
        return condition, params

    def _soft_deleted(self, table: str) -> tuple[str, list]:
        q = self.quote
        sql, params = f"{q(table)}.{q('deleted')} = %s", [True]
        if self.before is not None:
            sql += f" AND {q(table)}.{q('deleted_at')} < %s"
            params.append(self.before)
        return sql, params

    # ---- what refers to the candidates ---------------------------------------------------
    def _blocked(self, rows, columns, incoming: list[Relation]) -> dict[int, str]:
        """``{row index: referring table}`` for the candidate rows something still refers to."""
        blocked: dict[int, str] = {}
        for relation in incoming:
            positions = [columns.index(c) for c in relation.ref_columns]
            keys = {i: tuple(row[p] for p in positions) for i, row in enumerate(rows) if i not in blocked}
            keys = {i: k for i, k in keys.items() if None not in k}
            if not keys:
                continue
            referenced = self._referenced(relation, set(keys.values()))
            blocked.update({i: relation.child for i, k in keys.items() if k in referenced})
        return blocked

    def _referenced(self, relation: Relation, keys: set) -> set:
        """Which of ``keys`` rows of the referring table that stay still point at."""
        q = self.quote
        child = self.live[relation.child]
        columns = ", ".join(f"{q(relation.child)}.{q(c)}" for c in relation.columns)
        conditions, params = [], []
        if (relation.key in self.back_edges or relation.child == relation.parent) and "deleted" in child.columns:
            conditions.append(
                f"({q(relation.child)}.{q('deleted')} IS NULL OR {q(relation.child)}.{q('deleted')} = %s)"
            )
            params.append(False)
        if child.index_serving(relation.columns) is None:
            if relation.key not in self._referenced_cache:
                conditions += [f"{q(relation.child)}.{q(c)} IS NOT NULL" for c in relation.columns]
                self._referenced_cache[relation.key] = self._distinct(relation, columns, conditions, params)
            return self._referenced_cache[relation.key] & keys
        keys = sorted(keys)
        width = len(relation.columns)
        placeholders = ", ".join([self._row_params(width)] * len(keys))
        conditions.append(f"{self._row(relation.child, relation.columns)} IN ({placeholders})")
        return self._distinct(relation, columns, conditions, params + [v for k in keys for v in k])

    def _distinct(self, relation, columns, conditions, params) -> set:
        where = " AND ".join(conditions) or "1 = 1"
        with self.connection.cursor() as cursor:
            cursor.execute(f"SELECT DISTINCT {columns} FROM {self.quote(relation.child)} WHERE {where}", params)
            return {tuple(row) for row in cursor.fetchall()}

    # ---- moving rows --------------------------------------------------------------------
    def _move(self, table: str, keys: list[tuple], excluded: list[tuple]) -> int:
        """Move the rows with primary keys ``keys`` (sorted) in one transaction; how many moved.

        First as a primary-key range (the candidates are every qualifying row
        between the first and the last key, less ``excluded``): one index range
        scan, several times faster than an ``IN`` list on every backend. If the
        range does not hold exactly ``keys`` any more (a row changed meanwhile),
        or a foreign key refuses, the batch is rolled back and retried by key.
        """
        live_table = self.live[table]
        if shadow_name(table) not in self.live or set(live_table.columns) - set(self.live[shadow_name(table)].columns):
            ensure_shadow_table(self.connection, live_table, self.live)
        try:
            return self._move_where(table, *self._key_range(table, keys[0], keys[-1], excluded), expected=len(keys))
        except (_Refused, _Changed):
            pass
        try:
            return self._move_where(table, *self._key_in(table, keys))
        except _Refused:
            pass
        except _Changed:
            return 0
        moved = 0
        for key in keys:  # one by one: the foreign key refuses only some of them
            try:
                moved += self._move_where(table, *self._key_in(table, [key]))
            except _Refused:
                self.kept[table][KEPT_BY_FOREIGN_KEY] += 1
            except _Changed:
                pass
        return moved

    def _move_where(self, table: str, where: str, params: list, expected: int | None = None) -> int:
        """``INSERT INTO shadow SELECT ... WHERE`` and ``DELETE ... WHERE`` (rows still qualifying), one transaction."""
        q = self.quote
        qualifies, qualifies_params = self._qualifies(table)
        where = f"{where} AND {qualifies}"
        params = params + qualifies_params
        columns = list(self.live[table].columns)
        target = ", ".join(map(q, columns))
        source = ", ".join(f"{q(table)}.{q(c)}" for c in columns)
        with transaction.atomic(using=self.connection.alias), self.connection.cursor() as cursor:
            try:
                cursor.execute(
                    f"INSERT INTO {q(shadow_name(table))} ({target}) SELECT {source} FROM {q(table)} WHERE {where}",
                    params,
                )
            except (IntegrityError, DataError) as exc:  # the shadow table's own CHECK, UNIQUE...: none moves
                raise refused_rows(table, exc) from exc
            inserted = cursor.rowcount
            if expected is not None and inserted != expected:
                raise _Changed(table)
            try:
                cursor.execute(f"DELETE FROM {q(table)} WHERE {where}", params)
            except IntegrityError as exc:
                raise _Refused(table) from exc
            if cursor.rowcount != inserted:
                raise _Changed(table)
            return inserted

    def _key_range(self, table, first: tuple, last: tuple, excluded: list[tuple]) -> tuple[str, list]:
        primary_key = self.live[table].primary_key
        row, marks = self._row(table, primary_key), self._row_params(len(primary_key))
        sql, params = f"{row} >= {marks} AND {row} <= {marks}", [*first, *last]
        if excluded:
            sql += f" AND {row} NOT IN ({', '.join([marks] * len(excluded))})"
            params += [v for key in excluded for v in key]
        return sql, params

    def _key_in(self, table, keys: list[tuple]) -> tuple[str, list]:
        primary_key = self.live[table].primary_key
        marks = ", ".join([self._row_params(len(primary_key))] * len(keys))
        return f"{self._row(table, primary_key)} IN ({marks})", [v for key in keys for v in key]

    # ---- SQL pieces -------------------------------------------------------------------------
    def _row(self, table: str, columns) -> str:
        """``t.a`` or the row value ``(t.a, t.b)``."""
        parts = [f"{self.quote(table)}.{self.quote(c)}" for c in columns]
        return parts[0] if len(parts) == 1 else f"({', '.join(parts)})"

    @staticmethod
    def _row_params(width: int) -> str:
        return "%s" if width == 1 else f"({', '.join(['%s'] * width)})"
