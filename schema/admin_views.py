"""The schema page in the admin (staff only): version, drift, diagram, lint and table docs.

Mounted under ``admin/schema/`` by ``novaweb/urls.py``, each view wrapped in
``admin.site.admin_view`` (login and staff checks, the admin's chrome).
What comes from the models is cached (:func:`schema.docs.document.model_facts`,
the rendered SVG per DOT source); the live catalog is read once per view
(:func:`schema.docs.document.snapshot`).
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.decorators import permission_required
from django.db import connections, router
from django.http import Http404
from django.template.response import TemplateResponse
from django.urls import path, reverse

from . import sync_history
from .data_migrations import pending_summary
from .docs.document import document
from .docs.drift import drift_status
from .docs.erd import dot_source, render_svg
from .docs.lint import lint
from .docs.render import context, table_items
from .management.base import describe_database
from .models import SCHEMA_PAGE_PERMISSION, MigrateVersion


def _table_url(table) -> str:
    # by html_id: a name may hold "/", "?", "#", "%", newlines... that no URL pattern takes as is
    return reverse("schema-admin-table", args=[table.html_id])


def schema_page(request):
    alias = router.db_for_read(MigrateVersion)  # the replica when there is one
    doc, snap = document(connections[alias])
    ctx = context(
        doc,
        lint(doc),
        drift_status(snap),
        render_svg(dot_source(doc)),
        url=_table_url,
        database=describe_database(alias),
    )
    ctx["data_migrations"] = pending_summary(connections[alias])  # schema/_data_migrations.html
    ctx["sync_history"] = sync_history.records(connections[alias], limit=20)  # schema/_sync_history.html
    return TemplateResponse(request, "schema/admin_page.html", {**admin.site.each_context(request), **ctx})


def table_page(request, table_id: str):
    doc, _snap = document(connections[router.db_for_read(MigrateVersion)])
    table = next((name for name, t in doc.tables.items() if t.html_id == table_id), None)
    if table is None:
        raise Http404("no such table in the Nova database")
    diagram = render_svg(dot_source(doc, table, url=_table_url))
    items = [item for group in table_items(doc, lint(doc)) for item in group["tables"] if item["doc"].name == table]
    ctx = {
        "doc": doc,
        "item": items[0],
        "diagram": diagram,
        "node_count": len(doc.neighbours(table)),
        "schema_url": reverse("schema-admin"),
    }
    return TemplateResponse(request, "schema/admin_table.html", {**admin.site.each_context(request), **ctx})


def _schema_view(view):
    """Signed-in staff with the schema page's permission (the roles of ``inventory.roles``); 403 for others."""
    return admin.site.admin_view(permission_required(SCHEMA_PAGE_PERMISSION, raise_exception=True)(view))


urlpatterns = [
    path("", _schema_view(schema_page), name="schema-admin"),
    path("table/<slug:table_id>/", _schema_view(table_page), name="schema-admin-table"),
]
