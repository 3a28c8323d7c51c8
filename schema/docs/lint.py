"""Schema anomalies, the way SchemaSpy and SchemaCrawler report them.

- relations without a constraint (Nova's implied foreign keys);
- foreign-key or relation columns no index starts with;
- tables with no index beyond the primary key;
- unique constraints or indexes over a nullable column;
- for each ``list_filter``, ``search_fields`` and ``ordering`` entry of the
  registered admin classes of Nova's models: whether an index serves it on
  this backend, with the DDL of one that would (a suggestion, never run here);
- the order in which tables can be loaded without breaking a relation, and
  the reverse order to delete them.

Everything is computed from a :class:`~schema.docs.document.SchemaDoc`; the
backend's answers (which lookups a plain index serves, the DDL) come from its
dialect.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from django.core.exceptions import FieldDoesNotExist

from ..dialects import DIALECTS
from ..relations import Relation, topological
from .document import SchemaDoc


@dataclass(frozen=True)
class Finding:
    check: str
    table: str
    object: str
    message: str

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class AdminIndexUse:
    """Whether an index serves one filter, search or sort of an admin list."""

    admin: str
    feature: str  # list_filter | search_fields | ordering
    entry: str
    table: str
    columns: tuple[str, ...]
    lookup: str
    index: str | None
    suggestion: str | None
    note: str = ""

    @property
    def served(self) -> bool:
        return self.index is not None

    def as_dict(self) -> dict:
        return {**asdict(self), "columns": list(self.columns), "served": self.served}


@dataclass
class LintReport:
    findings: list[Finding] = field(default_factory=list)
    admin: list[AdminIndexUse] = field(default_factory=list)
    load_order: list[str] = field(default_factory=list)
    delete_order: list[str] = field(default_factory=list)
    #: relations set aside to break a cycle when ordering
    cycle_breaks: list[Relation] = field(default_factory=list)

    def by_check(self, check: str) -> list[Finding]:
        return [f for f in self.findings if f.check == check]

    def as_dict(self) -> dict:
        return {
            "findings": [f.as_dict() for f in self.findings],
            "admin_index_use": [a.as_dict() for a in self.admin],
            "load_order": self.load_order,
            "delete_order": self.delete_order,
            "cycle_breaks": [r.as_dict() for r in self.cycle_breaks],
        }


CHECK_TITLES = {
    "unconstrained_relation": "Relations without a constraint",
    "unindexed_relation": "Foreign-key or relation columns without an index",
    "no_index": "Tables without an index beyond the primary key",
    "nullable_unique": "Unique over a nullable column",
}


def lint(doc: SchemaDoc, admin_site=None) -> LintReport:
    """Every anomaly of ``doc``; admin lists from ``admin_site`` (Django's default site if None)."""
    report = LintReport()
    report.findings = [*_relation_findings(doc), *_table_findings(doc)]
    report.admin = admin_index_use(doc, admin_site)
    report.load_order, report.cycle_breaks = load_order(doc)
    report.delete_order = list(reversed(report.load_order))
    return report


def _relation_findings(doc: SchemaDoc):
    for r in doc.relations:
        target = f"{r.table}.{', '.join(r.columns)} -> {r.ref_table}.{', '.join(r.ref_columns)}"
        if not r.constrained:
            yield Finding(
                "unconstrained_relation",
                r.table,
                ", ".join(r.columns),
                f"{target}: the models relate these tables but no foreign key enforces it here",
            )
        table = doc.tables[r.table]
        if table.status != "missing" and table.index_serving(r.columns) is None:
            yield Finding(
                "unindexed_relation",
                r.table,
                ", ".join(r.columns),
                f"{target}: no index starts with {', '.join(r.columns)}; joins and deletes scan {r.table}",
            )


def _table_findings(doc: SchemaDoc):
    for table in doc.tables.values():
        if table.status == "missing":
            continue
        if not table.uniques and not table.indexes:
            yield Finding("no_index", table.name, table.name, "no index or unique constraint beyond the primary key")
        uniques = [(u.name or "UNIQUE", u.columns) for u in table.uniques]
        uniques += [(i.name, i.columns) for i in table.indexes if i.unique]
        for name, columns in uniques:
            nullable = [c for c in columns if (col := table.column(c)) is not None and col.nullable]
            if nullable:
                yield Finding(
                    "nullable_unique",
                    table.name,
                    name,
                    f"unique ({', '.join(columns)}) allows NULL in {', '.join(nullable)}: "
                    "any number of rows may have no value",
                )


# ---- admin lists -------------------------------------------------------------------------

#: Django admin search_fields prefixes -> the lookup the admin uses.
SEARCH_PREFIXES = {"^": "istartswith", "=": "iexact", "@": "search"}


def admin_index_use(doc: SchemaDoc, admin_site=None) -> list[AdminIndexUse]:
    if admin_site is None:
        from django.contrib import admin

        admin_site = admin.site
    dialect = DIALECTS[doc.vendor](connection=None)
    by_model = {t.model: t for t in doc.tables.values() if t.model is not None}
    found = []
    for model, model_admin in sorted(admin_site._registry.items(), key=lambda kv: kv[0]._meta.db_table):
        if model not in by_model:
            continue
        label = f"{model._meta.app_label}.{model.__name__}"
        for feature, entry, path, lookup in _admin_entries(model_admin):
            found.append(_index_use(doc, dialect, model, label, feature, entry, path, lookup))
    return found


def _admin_entries(model_admin):
    for item in model_admin.list_filter or ():
        if isinstance(item, (list, tuple)):
            item = item[0]
        if isinstance(item, str):
            yield "list_filter", item, item, "exact"
        else:  # a SimpleListFilter: its queryset() is code, not a field
            path = getattr(item, "parameter_name", None) or getattr(item, "__name__", str(item))
            yield "list_filter", getattr(item, "__name__", str(item)), path, "custom"
    for item in model_admin.search_fields or ():
        lookup = SEARCH_PREFIXES.get(item[:1], "icontains")
        yield "search_fields", item, item.lstrip("^=@"), lookup
    for item in model_admin.ordering or ():
        if isinstance(item, str):
            yield "ordering", item, item.lstrip("-"), "order"


def _resolve(model, path: str):
    """``(model, field)`` a ``__``-separated field path ends at, or None."""
    field = None
    for part in path.split("__"):
        if field is not None:
            if not field.is_relation:
                break  # a lookup such as ``__exact``
            model = field.related_model
        try:
            field = model._meta.get_field(part)
        except FieldDoesNotExist:
            if field is None:
                return None
            break
    if field is None or not field.concrete or not getattr(field, "column", None):
        return None
    return model, field


def _index_use(doc, dialect, model, label, feature, entry, path, lookup) -> AdminIndexUse:
    resolved = _resolve(model, path)
    if resolved is None or resolved[0]._meta.db_table not in doc.tables:
        why = "a custom filter: its query is code" if lookup == "custom" else "not a column of a Nova table"
        return AdminIndexUse(label, feature, entry, model._meta.db_table, (), lookup, None, None, why)
    target_model, field = resolved
    table = doc.tables[target_model._meta.db_table]
    columns = (field.column,)
    if lookup == "custom":
        lookup = "exact"
    index = table.index_serving(columns) if lookup in dialect.PLAIN_INDEX_LOOKUPS | {"order"} else None
    note = ""
    if index is None and table.index_serving(columns) is not None:
        note = f"an index exists on {field.column}, but {doc.vendor} cannot use it for {lookup}"
    suggestion = None if index else dialect.suggested_index_sql(table.name, columns, lookup)
    if index is None and suggestion is None:
        note = note or f"no B-tree index can serve {lookup}: prefer ^{path} (starts with) or ={path} (exact)"
    return AdminIndexUse(label, feature, entry, table.name, columns, lookup, index, suggestion, note)


# ---- FK-safe order -------------------------------------------------------------------------


def load_order(doc: SchemaDoc) -> tuple[list[str], list[Relation]]:
    """Tables in an order that loads every referenced table first, and the relations set aside.

    The one topological sort (:func:`schema.relations.topological`), taking the
    alphabetically first ready table each time (a stable order). A cycle is
    broken by setting aside its unconstrained relations first (nothing enforces
    them), then, only if needed, a constraint.
    """
    edges = {(r.table, r.ref_table): r for r in doc.relations if r.table != r.ref_table and r.ref_table in doc.tables}
    refers_to: dict[str, set[str]] = {t: set() for t in doc.tables}
    for table, ref_table in edges:
        refers_to[table].add(ref_table)

    def cut_one_relation(remaining, waiting):
        pending = [(a, b) for a in remaining for b in waiting[a]]
        return [min(pending, key=lambda e: (edges[e].constrained, e))]

    order, cut = topological(sorted(doc.tables), lambda t: refers_to[t], cut=cut_one_relation)
    return order, [edges[pair] for pair in cut]
