"""Request metrics: a counter by view, method and status, and a latency histogram by view.

Every label has a bounded set of values, so no client can grow the registry:
the view is a URL pattern's name (``unresolved`` for none), the status a number,
and the method one of HTTP's own (``other`` for any other word a client sends:
each would otherwise be a new series, kept for the life of the process).
"""

from __future__ import annotations

import time

from prometheus_client import CollectorRegistry, Counter, Histogram

#: novaweb's own registry (not prometheus_client's global one): the view serves exactly this.
REGISTRY = CollectorRegistry(auto_describe=True)

REQUESTS = Counter("novaweb_http_requests", "HTTP requests handled", ["view", "method", "status"], registry=REGISTRY)
LATENCY = Histogram(
    "novaweb_http_request_duration_seconds",
    "time to handle a request (until the response starts)",
    ["view"],
    registry=REGISTRY,
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)


#: The methods counted under their own name (RFC 9110 and PATCH); the rest count as ``other``.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT"})


def _method(request) -> str:
    return request.method if request.method in METHODS else "other"


def _view(request) -> str:
    match = getattr(request, "resolver_match", None)
    return match.view_name if match is not None and match.view_name else "unresolved"


class RequestMetricsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        view = _view(request)
        LATENCY.labels(view).observe(time.perf_counter() - started)
        REQUESTS.labels(view, _method(request), str(response.status_code)).inc()
        return response
