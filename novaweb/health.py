"""``/healthz``: may a load balancer send traffic here?

200 with the Nova schema version when the Nova database (and its replica,
when one is configured) answers and is at the models' version; 503 with the
reason otherwise. JSON either way, never cached, no login, no cookies.
"""

from __future__ import annotations

from django.conf import settings
from django.db import DatabaseError, connections
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from schema.models import MODELS_VERSION
from schema.versioning import NotUnderVersionControl, current_version


class Unhealthy(Exception):
    pass


def _first_line(exc) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def schema_version(alias: str) -> int:
    """The schema version of the database behind ``alias``; :class:`Unhealthy` says why not."""
    connection = connections[alias]
    try:
        connection.ensure_connection()
        version = current_version(connection)
    except NotUnderVersionControl as exc:
        raise Unhealthy(f"{exc}: run `manage.py db_sync`") from None
    except DatabaseError as exc:
        raise Unhealthy(f"database '{alias}' is unreachable: {_first_line(exc)}") from None
    if version != MODELS_VERSION:
        action = "run `manage.py db_sync`" if version < MODELS_VERSION else "deploy a matching novaweb"
        raise Unhealthy(
            f"database '{alias}' is at schema version {version}, novaweb expects {MODELS_VERSION}: {action}"
        )
    return version


@never_cache
@require_safe
def healthz(request):
    aliases = [settings.NOVA_DB_ALIAS]
    if settings.NOVA_REPLICA_ALIAS in connections.settings:
        aliases.append(settings.NOVA_REPLICA_ALIAS)
    body = {"status": "ok", "schema_version": None, "databases": {}}
    for alias in aliases:
        try:
            version = schema_version(alias)
        except Unhealthy as exc:
            body["status"] = "unavailable"
            body["reason"] = str(exc)
            body["databases"][alias] = "unavailable"
            return JsonResponse(body, status=503)
        body["databases"][alias] = "ok"
        body["schema_version"] = body["schema_version"] or version
    return JsonResponse(body)
