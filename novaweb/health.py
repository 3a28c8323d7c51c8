"""``/healthz``: may a load balancer send traffic here?

200 with the Nova schema version when the Nova database answers and is at
the models' version; 503 with the reason otherwise. JSON either way, never
cached, no login, no cookies.

With a read replica, ``replica`` says its state (streaming, lagging, replay
stopped, unreachable, unavailable, not measured), its lag in seconds, the
limit (``NOVA_REPLICA_MAX_LAG``), where reads go and why in one line. A
lagging or dead replica never turns the answer into 503: the primary serves
the reads meanwhile.

An unreachable database is "unreachable" and a reference id: the driver's
message (user names, host names) goes to the log under that reference, and
to logged-in staff (``detail``), never to an anonymous caller.
"""

from __future__ import annotations

from django.conf import settings
from django.db import DatabaseError, connections
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from novaweb import replication
from novaweb.database_errors import first_line, is_staff, log_database_error, new_reference
from schema.models import MODELS_VERSION
from schema.versioning import NotUnderVersionControl, current_version


class Unhealthy(Exception):
    def __init__(self, reason: str, detail: str = "", reference: str = ""):
        super().__init__(reason)
        self.detail = detail
        self.reference = reference


def schema_version(alias: str) -> int:
    """The schema version of the database behind ``alias``; :class:`Unhealthy` says why not."""
    connection = connections[alias]
    try:
        connection.ensure_connection()
        version = current_version(connection)
    except NotUnderVersionControl as exc:
        raise Unhealthy(f"{exc}: run `manage.py db_sync`") from None
    except DatabaseError as exc:
        reference = new_reference()
        log_database_error(exc, alias, reference, "unavailable", "/healthz")
        raise Unhealthy(f"database '{alias}' is unreachable", first_line(exc), reference) from None
    if version != MODELS_VERSION:
        action = "run `manage.py db_sync`" if version < MODELS_VERSION else "deploy a matching novaweb"
        raise Unhealthy(
            f"database '{alias}' is at schema version {version}, novaweb expects {MODELS_VERSION}: {action}"
        )
    return version


def replica_health(request) -> dict:
    """The replica's part of the body: its state, lag and where reads go; never a reason for 503."""
    status = replication.replica_status()
    body = status.as_json()
    if status.state == "unreachable":
        if status.detail and is_staff(request):
            body["detail"] = status.detail
        return body
    try:
        schema_version(settings.NOVA_REPLICA_ALIAS)
    except Unhealthy as exc:
        state = "unreachable" if exc.reference else "unavailable"
        body.update(state=state, reads="primary", reason=f"{exc}: reads go to the primary")
        if exc.reference:
            body["reference"] = exc.reference
        if exc.detail and is_staff(request):
            body["detail"] = exc.detail
    return body


@never_cache
@require_safe
def healthz(request):
    alias = settings.NOVA_DB_ALIAS
    body = {"status": "ok", "schema_version": None, "databases": {}}
    try:
        body["schema_version"] = schema_version(alias)
    except Unhealthy as exc:
        body["status"] = "unavailable"
        body["reason"] = str(exc)
        body["databases"][alias] = "unavailable"
        if exc.reference:
            body["reference"] = exc.reference
        if exc.detail and is_staff(request):
            body["detail"] = exc.detail
        return JsonResponse(body, status=503)
    body["databases"][alias] = "ok"
    if settings.NOVA_REPLICA_ALIAS in connections.settings:
        body["replica"] = replica_health(request)
        body["databases"][settings.NOVA_REPLICA_ALIAS] = "ok" if body["replica"]["reads"] == "replica" else "lagging"
        if body["replica"]["state"] in ("unreachable", "unavailable"):
            body["databases"][settings.NOVA_REPLICA_ALIAS] = "unavailable"
    return JsonResponse(body)
