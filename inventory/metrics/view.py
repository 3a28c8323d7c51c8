"""``GET /metrics``: Prometheus' text format, for a scraper holding ``METRICS_TOKEN``.

``Authorization: Bearer <METRICS_TOKEN>``; anything else, and any request at
all while ``METRICS_TOKEN`` is unset, gets 403.
"""

from __future__ import annotations

import hmac

from django.conf import settings
from django.http import HttpResponse, HttpResponseForbidden
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from .collector import NovaCollector
from .requests import REGISTRY

NOVA_REGISTRY = CollectorRegistry(auto_describe=False)
NOVA_REGISTRY.register(NovaCollector())


def authorized(request) -> bool:
    token = settings.METRICS_TOKEN
    if not token:
        return False
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode())


@never_cache
@require_safe
def metrics_view(request):
    if not authorized(request):
        reason = "METRICS_TOKEN is not set" if not settings.METRICS_TOKEN else "a valid bearer token is required"
        return HttpResponseForbidden(f"/metrics: {reason}\n", content_type="text/plain")
    body = generate_latest(NOVA_REGISTRY) + generate_latest(REGISTRY)
    return HttpResponse(body, content_type=CONTENT_TYPE_LATEST)
