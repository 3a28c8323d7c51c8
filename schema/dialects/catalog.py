"""Catalog reading: the live side of a backend, as the engine's neutral schema.

Django's introspection (``connection.introspection``) where it serves; the
dialects read the catalog in bulk where it is slow or lacks something (raw
column types, multi-column foreign keys). Also the *benign differences*: what
a real Nova database has that the models deliberately do not, recognized by
shape and reported as "ignored".
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..schema import Check, Column, ForeignKey, Index, Table, UniqueConstraint


@dataclass
class ViewReads:
    """``(reader, table, column)``: ``"view v_hosts"`` reads ``instances.hostname``; ``column`` None
    where a reader uses the table without a column of it (``COUNT(*)``)."""

    reads: list = field(default_factory=list)

    def readers(self, table: str, column: str | None = None) -> list[str]:
        """The readers of ``table`` (any of it), or of its ``column``."""
        return sorted({r for r, t, c in self.reads if t == table and (column is None or c == column)})


class CatalogReader:
    #: Tables the backend keeps for itself (statistics...): never part of a schema.
    INTERNAL_TABLE_PREFIXES: tuple[str, ...] = ()

    def live_table_names(self, cursor) -> list[str]:
        """The base tables novaweb works on, sorted; Django's list where it is that set."""
        internal = self.INTERNAL_TABLE_PREFIXES
        tables = self.connection.introspection.get_table_list(cursor)
        return sorted(t.name for t in tables if t.type == "t" and not (internal and t.name.startswith(internal)))

    def no_work_schema(self, cursor, setting: str) -> str | None:
        """Why the session has no schema to read and write tables in, or None (the usual case).

        ``setting`` names what configures the connection (``NOVA_DATABASE_URL``), for the advice.
        """
        return None

    def read_tables(self, cursor, names) -> list[Table]:
        """Each named table as it is live; a dialect may read the catalog in bulk instead."""
        tables = []
        for name in names:
            table = Table(name)
            for column in self.live_columns(cursor, name):
                table.add_column(column)
            self.live_keys(cursor, name, table)
            table.foreign_keys = self.live_foreign_keys(cursor, name)
            table.sequences = self.live_sequences(cursor, name)
            tables.append(table)
        return tables

    def live_columns(self, cursor, table: str) -> list[Column]:
        raise NotImplementedError

    def live_foreign_keys(self, cursor, table: str) -> list[ForeignKey]:
        raise NotImplementedError

    def live_sequences(self, cursor, table: str) -> dict[str, str]:
        return {}

    def live_keys(self, cursor, table: str, into: Table) -> None:
        """Primary key, unique constraints, indexes and checks, from Django's introspection."""
        constraints = self.connection.introspection.get_constraints(cursor, table)
        for name, info in constraints.items():
            columns = tuple(info["columns"])
            if info["primary_key"]:
                into.primary_key = columns
                into.primary_key_name = name
            elif info.get("check"):
                into.checks.append(Check(columns, name))
            elif info.get("foreign_key"):
                continue
            elif info["unique"] and not info["index"]:
                into.uniques.append(UniqueConstraint(columns, name))
            elif info["index"]:
                into.indexes[name] = Index(name, columns, bool(info["unique"]))

    def estimated_row_counts(self, cursor) -> dict[str, int | None]:
        """``{table: estimated rows}`` from the catalog's statistics (never ``COUNT(*)``).

        ``None`` where the backend has no estimate (never analyzed).
        """
        return {}

    # ---- what else reads a table ---------------------------------------------------
    #: Whether the server refuses to change the type of a column a view reads (PostgreSQL).
    RETYPE_REFUSED_UNDER_VIEWS = False

    def view_reads(self, cursor) -> ViewReads:
        """What the views (and rules) of the database read, from one look at the catalog."""
        return ViewReads()

    # ---- benign differences ---------------------------------------------------
    def ignored_extra_index(self, expected: Table, live: Table, index: Index) -> str | None:
        """Why an index the models lack is harmless here, or None when it is drift."""
        return None

    def ignored_check(self, live: Table, check: Check) -> str | None:
        column = live.columns.get(check.columns[0]) if len(check.columns) == 1 else None
        if column is not None and column.type == "bool":
            return f"SQLAlchemy's boolean CHECK ({check.columns[0]} IN (0, 1))"
        return None
