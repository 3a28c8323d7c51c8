"""Table documentation: the neutral schema, the models behind it, and live facts.

Two sources, kept apart so that the expensive part is computed once:

- *model side* (:func:`model_facts`, cached per backend): which model and
  area a table belongs to, and every relation the models declare, each marked
  as backed by a foreign-key constraint on that backend or not (Nova's
  ``db_constraint=False`` relations, and the late foreign keys SQLite never got);
- *live side* (:func:`snapshot`, once per call): the introspected schema and
  drift from :func:`schema.engine.compare`, estimated row counts from the
  catalog's statistics (the dialect's ``estimated_row_counts``, never
  ``COUNT(*)``) and the ``migrate_version`` row.

:func:`build` joins them into a :class:`SchemaDoc`. Structure (columns,
indexes, constraints) is what the live database has when there is one, the
models' schema otherwise.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

from django.db import models
from django.urls import NoReverseMatch, reverse

from ..dialects import dialect_for
from ..engine import Comparison, compare
from ..model_schema import model_schema, nova_models
from ..models import REPOSITORY_ID, MigrateVersion
from ..names import html_id
from ..relations import Relation, declared_relations
from ..schema import Column, Index, Schema, Table, UniqueConstraint, serving_key

#: Areas, in display order: the module of ``inventory.models`` a model lives in.
AREAS = {
    "compute": "Compute",
    "network": "Network",
    "identity": "Identity",
    "volume": "Volume",
    "hosts": "Hosts & scheduling",
    "schema": "Schema version",
    "other": "Not in the models",
}


@dataclass(frozen=True)
class TableFacts:
    """What the models say about one table (cached)."""

    model: type[models.Model] | None
    area: str
    relations: tuple[Relation, ...]


@dataclass
class TableDoc:
    name: str
    area: str
    columns: list[Column]
    primary_key: tuple[str, ...]
    uniques: list[UniqueConstraint]
    indexes: list[Index]
    relations_out: list[Relation] = field(default_factory=list)
    relations_in: list[Relation] = field(default_factory=list)
    model: type[models.Model] | None = None
    admin_url: str | None = None
    estimated_rows: int | None = None
    #: "ok", "missing" (in the models, not in the database), "extra" (not in the models)
    status: str = "ok"

    @property
    def anchor(self) -> str:
        """The HTML id of the table's section (and its URL fragment): safe whatever the name holds."""
        return f"table-{html_id(self.name)}"

    @property
    def html_id(self) -> str:
        """The table's id in URLs (``/admin/schema/table/<id>/``) and in the diagram."""
        return html_id(self.name)

    @property
    def area_title(self) -> str:
        return AREAS.get(self.area, self.area)

    @property
    def model_label(self) -> str | None:
        return f"{self.model._meta.app_label}.{self.model.__name__}" if self.model else None

    def column(self, name: str) -> Column | None:
        return next((c for c in self.columns if c.name == name), None)

    def all_keys(self) -> list[tuple[str, tuple[str, ...], bool]]:
        """``(name, columns, unique)`` of the primary key, unique constraints and indexes."""
        found = [("PRIMARY KEY", self.primary_key, True)] if self.primary_key else []
        found += [(u.name or "UNIQUE", u.columns, True) for u in self.uniques]
        found += [(i.name, i.columns, i.unique) for i in self.indexes]
        return found

    def index_serving(self, columns: tuple[str, ...]) -> str | None:
        """The name of a key whose leftmost columns are ``columns``, if any."""
        return serving_key(self.all_keys(), columns)

    def as_dict(self) -> dict:
        return {
            "name": self.name,
            "area": self.area,
            "model": self.model_label,
            "admin_url": self.admin_url,
            "estimated_rows": self.estimated_rows,
            "status": self.status,
            "columns": [
                {
                    "name": c.name,
                    "type": c.ddl_type or c.type,
                    "nullable": c.nullable,
                    "default": c.default,
                    "autoincrement": c.autoincrement,
                }
                for c in self.columns
            ],
            "primary_key": list(self.primary_key),
            "unique_constraints": [{"name": u.name, "columns": list(u.columns)} for u in self.uniques],
            "indexes": [{"name": i.name, "columns": list(i.columns), "unique": i.unique} for i in self.indexes],
            "relations_out": [r.as_dict() for r in self.relations_out],
            "relations_in": [r.as_dict() for r in self.relations_in],
        }


@dataclass
class SchemaDoc:
    vendor: str
    tables: dict[str, TableDoc]
    relations: list[Relation]

    def areas(self) -> list[tuple[str, str, list[TableDoc]]]:
        """``(area, title, tables)`` in display order, empty areas left out."""
        grouped: dict[str, list[TableDoc]] = {}
        for table in self.tables.values():
            grouped.setdefault(table.area, []).append(table)
        order = list(AREAS) + sorted(set(grouped) - set(AREAS))
        return [(a, AREAS.get(a, a), grouped[a]) for a in order if a in grouped]

    def neighbours(self, name: str) -> set[str]:
        """``name`` and every table one relation away from it."""
        found = {name}
        for r in self.relations:
            if name in (r.table, r.ref_table):
                found.update((r.table, r.ref_table))
        return found

    def as_dict(self) -> dict:
        return {
            "vendor": self.vendor,
            "tables": [t.as_dict() for t in self.tables.values()],
            "relations": [r.as_dict() for r in self.relations],
        }


# ---- model side ------------------------------------------------------------------------


def model_facts(vendor: str) -> dict[str, TableFacts]:
    """``{table: TableFacts}`` for every model, for ``vendor`` (cached)."""
    return _model_facts(vendor)


@functools.cache
def _model_facts(vendor: str) -> dict[str, TableFacts]:
    expected = model_schema(vendor)
    facts = {}
    for model in nova_models():
        table = model._meta.db_table
        constrained = {(fk.columns, fk.ref_table, fk.ref_columns): fk.name for fk in expected[table].foreign_keys}
        facts[table] = TableFacts(model, _area(model), tuple(declared_relations(model, constrained)))
    return facts


def _area(model) -> str:
    if model._meta.app_label == "inventory":
        return model.__module__.rsplit(".", 1)[-1]
    return model._meta.app_label


def admin_url(model) -> str | None:
    """The model's admin changelist, when the admin registers it (looked up at run time)."""
    from django.contrib import admin

    if model is None or model not in admin.site._registry:
        return None
    try:
        return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    except NoReverseMatch:
        return None


# ---- live side -------------------------------------------------------------------------


@dataclass
class Snapshot:
    """One read of a live database: drift, row estimates, version."""

    vendor: str
    alias: str
    comparison: Comparison
    row_counts: dict[str, int | None]
    version: int | None

    @property
    def live(self) -> Schema:
        return self.comparison.live


def snapshot(connection) -> Snapshot:
    comparison = compare(connection)
    with connection.cursor() as cursor:
        counts = dialect_for(connection).estimated_row_counts(cursor)
    version = None
    if "migrate_version" in comparison.live:
        version = (
            MigrateVersion.objects.using(connection.alias)
            .filter(repository_id=REPOSITORY_ID)
            .values_list("version", flat=True)
            .first()
        )
    return Snapshot(connection.vendor, connection.alias, comparison, counts, version)


# ---- joining them ----------------------------------------------------------------------


def build(vendor: str, live: Schema | None = None, row_counts: dict | None = None) -> SchemaDoc:
    """The documentation of ``live`` (or of the models' schema when there is no database)."""
    facts = model_facts(vendor)
    expected = model_schema(vendor)
    source = live if live is not None else expected
    names = sorted(set(source.tables) | set(expected.tables))
    tables: dict[str, TableDoc] = {}
    relations: list[Relation] = []
    for name in names:
        table = source.tables.get(name)
        status = "ok" if name in expected.tables else "extra"
        if table is None:
            table, status = expected.tables[name], "missing"
        fact = facts.get(name)
        doc = _table_doc(table, fact, status)
        doc.estimated_rows = (row_counts or {}).get(name)
        doc.relations_out = _relations_out(table, fact, status)
        relations += doc.relations_out
        tables[name] = doc
    for r in relations:
        if r.ref_table in tables:
            tables[r.ref_table].relations_in.append(r)
    return SchemaDoc(vendor, tables, relations)


def document(connection) -> tuple[SchemaDoc, Snapshot]:
    """Docs of the database behind ``connection``, with the snapshot they were built from."""
    snap = snapshot(connection)
    return build(connection.vendor, snap.live, snap.row_counts), snap


def _table_doc(table: Table, fact: TableFacts | None, status: str) -> TableDoc:
    model = fact.model if fact else None
    return TableDoc(
        name=table.name,
        area=fact.area if fact else "other",
        columns=list(table.columns.values()),
        primary_key=tuple(table.primary_key),
        uniques=list(table.uniques),
        indexes=sorted(table.indexes.values(), key=lambda i: i.name),
        model=model,
        admin_url=admin_url(model),
        status=status,
    )


def _relations_out(table: Table, fact: TableFacts | None, status: str) -> list[Relation]:
    """The table's foreign keys, then the models' relations no constraint backs here."""
    declared = {r.key[1:]: r for r in (fact.relations if fact else ())}
    out = []
    for fk in table.foreign_keys:
        key = (fk.columns, fk.ref_table, fk.ref_columns)
        field_name = declared[key].field if key in declared else None
        out.append(Relation(table.name, *key, constrained=True, name=fk.name, field=field_name))
    have = {r.key[1:] for r in out}
    for key, r in declared.items():
        if key not in have:
            out.append(Relation(table.name, *key, constrained=False, field=r.field))
    return out
