"""Causal reads with a read replica: see :mod:`novaweb.router`.

Each request gets its own routing state. A request that may write
(``POST``/``PUT``/``PATCH``/``DELETE``) reads from the primary throughout;
when it did write to the Nova database, a cookie records the primary's
position after the commit (``postgresql:0/3000D8``, ``mysql:0-1-42``). The
same browser's next requests read from the replica once the replica has
applied that position (waiting at most ``NOVA_REPLICA_CAUSAL_WAIT``), from
the primary until then; the cookie is dropped once it has. So the page after
a flavor save shows the saved flavor however far the replica lags, and as
soon as the replica has it, that user reads the replica again. The cookie
holds only a position: a forged one can do no more than send its sender's
reads to the primary, after at most one short wait per second.

A read request whose replica stopped answering since the last lag check (a
503 naming the replica) is answered again from the primary, and the replica
is checked again at once, so the whole process finds it unreachable.
"""

from __future__ import annotations

from django.conf import settings

from novaweb import replication, router

COOKIE_NAME = "novaweb_last_write"
#: How long the browser keeps a position the replica has not been seen to apply.
COOKIE_MAX_AGE = 24 * 3600
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


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
        carried = request.COOKIES.get(COOKIE_NAME) or None
        state = router.RoutingState(
            pinned=may_write, awaiting=carried, tracks_writes=may_write, causal_wait=replication.causal_wait()
        )
        token = router.begin(state)
        try:
            response = self.get_response(request)
            if self._replica_failed(request, response, may_write):
                # The replica died since its last check: check it again now (for everyone: it will say
                # "unreachable"), and answer this request from the primary.
                replication.check_again()
                router.end(token)
                state = router.RoutingState(pinned=True, awaiting=carried, tracks_writes=False)
                token = router.begin(state)
                response = self.get_response(request)
            if may_write and state.wrote and router.replica_configured():
                position = state.position_after_writes()
                if position:
                    response.set_cookie(
                        COOKIE_NAME,
                        position,
                        max_age=COOKIE_MAX_AGE,
                        secure=settings.SESSION_COOKIE_SECURE,
                        httponly=True,
                        samesite="Lax",
                    )
            elif carried and state.awaiting is None:
                response.delete_cookie(COOKIE_NAME, samesite="Lax")  # the replica has the write
        finally:
            router.end(token)
        if response.streaming:
            # A streamed body (the CSV export) is read after this returns: in the same state.
            response.streaming_content = _in_state(state, response.streaming_content)
        return response

    @staticmethod
    def _replica_failed(request, response, may_write) -> bool:
        return (
            not may_write
            and response.status_code == 503
            and getattr(request, "novaweb_failed_alias", None) == settings.NOVA_REPLICA_ALIAS
        )
