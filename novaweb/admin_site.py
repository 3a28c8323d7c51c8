"""novaweb's admin site: Django's admin named after the product and the Nova database it shows.

- ``site_header`` / ``site_title`` / ``index_title`` say "novaweb" and, to
  signed-in staff, which Nova database the pages read: alias, vendor, host and
  schema version ("novaweb · nova: MariaDB 10.11 at db1:3306, schema 82").
  Anonymous visitors (the login page) see the product name only: nothing
  about the infrastructure. With a read replica, the header adds where reads
  go and why, in one line (``reads from the replica (0.2 s behind)``,
  ``reads from the primary: the replica is 7.0 s behind (limit 5 s)``,
  ``reads from the primary: the replica does not answer``): see
  :mod:`novaweb.replication`, whose reading is cached, not one per page.
  The vendor and version take one query, cached for :data:`CACHE_SECONDS`
  per alias (:data:`FAILURE_CACHE_SECONDS` when the database does not
  answer), so a page costs no extra query.
- The index lists the Nova inventory first (instances, hosts, networks,
  flavors, then the rest), the schema next and Django's own users and groups
  last.

Installed through :class:`novaweb.apps.NovaAdminConfig` (``default_site``), so
``django.contrib.admin.site`` is this site and every ``@admin.register`` uses it.
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.contrib import admin
from django.core.cache import cache
from django.db import DatabaseError, connections

from novaweb import replication, router
from schema.versioning import NotUnderVersionControl, current_version

PRODUCT = "novaweb"
CACHE_SECONDS = 60
FAILURE_CACHE_SECONDS = 10

#: Apps on the index, in this order; any other app comes after them, then the login lockouts, Django's ``auth`` last.
APP_ORDER = ("inventory", "schema")
LAST_APPS = ("axes", "auth")
#: Models first within their app, in this order; the rest alphabetically after them.
MODEL_ORDER = {
    "inventory": ("Instance", "ComputeNode", "Service", "Network", "FixedIp", "FloatingIp", "Flavor"),
}


def _where(alias: str) -> str:
    """Host (and port) of an alias, or the SQLite file: from the settings, no query, no password."""
    config = connections.settings.get(alias, {})
    if config.get("ENGINE", "").endswith("sqlite3"):
        name = Path(str(config.get("NAME")))
        return str(name.relative_to(settings.BASE_DIR)) if name.is_relative_to(settings.BASE_DIR) else str(name)
    host = config.get("HOST") or "localhost"
    return f"{host}:{config['PORT']}" if config.get("PORT") else host


def _server(alias: str) -> dict:
    """Vendor, server version and schema version of ``alias``: one round trip, then cached."""
    key = f"novaweb:admin-header:{alias}"
    found = cache.get(key)
    if found is not None:
        return found
    connection = connections[alias]
    try:
        connection.ensure_connection()
        server = connection.display_name
        if connection.vendor != "sqlite":
            server += " " + ".".join(map(str, connection.get_database_version()))
        try:
            schema = f"schema {current_version(connection)}"
        except NotUnderVersionControl:
            schema = "not under version control"
        found, timeout = {"server": server, "schema": schema}, CACHE_SECONDS
    except DatabaseError:
        found, timeout = {"server": connection.vendor, "schema": "not answering"}, FAILURE_CACHE_SECONDS
    cache.set(key, found, timeout)
    return found


def database_label(alias: str | None = None) -> str:
    """``nova: MariaDB 10.11 at 127.0.0.1:3306, schema 82``: what the header says about the Nova database."""
    alias = alias or settings.NOVA_DB_ALIAS
    server = _server(alias)
    return f"{alias}: {server['server']} at {_where(alias)}, {server['schema']}"


class NovaAdminSite(admin.AdminSite):
    site_header = PRODUCT
    site_title = PRODUCT
    index_title = "Nova inventory and schema"

    def each_context(self, request):
        context = super().each_context(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_active and user.is_staff:
            label = database_label()
            context["site_header"] = f"{PRODUCT} · {label}"
            if router.replica_configured():
                context["replica_reads"] = replication.replica_status().describe()
                context["site_header"] += f" · {context['replica_reads']}"
            context["site_title"] = f"{PRODUCT} · {label.split(':', 1)[0]}"
            context["nova_database"] = label
        return context

    def index(self, request, extra_context=None):
        title = {"title": f"{self.index_title}: {database_label()}"} if request.user.is_staff else {}
        return super().index(request, {**title, **(extra_context or {})})

    def get_app_list(self, request, app_label=None):
        apps = self._build_app_dict(request, app_label).values()

        def app_rank(app):
            label = app["app_label"]
            if label in APP_ORDER:
                return (0, APP_ORDER.index(label), "")
            if label in LAST_APPS:
                return (2, LAST_APPS.index(label), "")
            return (1, 0, app["name"].lower())

        ordered = sorted(apps, key=app_rank)
        for app in ordered:
            first = MODEL_ORDER.get(app["app_label"], ())
            app["models"].sort(
                key=lambda model, first=first: (
                    first.index(model["object_name"]) if model["object_name"] in first else len(first),
                    model["name"].lower(),
                )
            )
        return ordered
