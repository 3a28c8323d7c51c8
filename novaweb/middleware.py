"""Read-your-writes with a read replica: see :mod:`novaweb.router`.

Each request gets its own routing state. A request that may write
(``POST``/``PUT``/``PATCH``/``DELETE``) reads from the primary throughout;
when it did write to the Nova database, a cookie records the time, and the
same browser's requests in the next :data:`~novaweb.router.PIN_SECONDS`
read from the primary too, so the page after a flavor save shows the saved
flavor even while the replica lags. The cookie holds only a timestamp: a
forged one can do no more than send its sender's reads to the primary.
"""

from __future__ import annotations

from django.conf import settings

from novaweb import router

COOKIE_NAME = "novaweb_last_write"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


def _cookie_time(request) -> float | None:
    try:
        return float(request.COOKIES[COOKIE_NAME])
    except (KeyError, ValueError):
        return None


def _in_state(state, content):
    iterator = iter(content)
    while True:
        token = router.begin(state)
        try:
            chunk = next(iterator)
        except StopIteration:
            return
        finally:
            router.end(token)
        yield chunk


class ReplicaPinningMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        may_write = request.method not in SAFE_METHODS
        state = router.RoutingState(pinned=may_write, last_write=_cookie_time(request))
        token = router.begin(state)
        try:
            response = self.get_response(request)
        finally:
            router.end(token)
        if response.streaming:
            # A streamed body (the CSV export) is read after this returns: in the same state.
            response.streaming_content = _in_state(state, response.streaming_content)
        # GET requests may open a write transaction (the admin's change form
        # does) without writing: only requests that may write start a window.
        if may_write and state.wrote:
            response.set_cookie(
                COOKIE_NAME,
                f"{state.last_write:.3f}",
                max_age=int(router.PIN_SECONDS) + 1,
                secure=settings.SESSION_COOKIE_SECURE,
                httponly=True,
                samesite="Lax",
            )
        return response
