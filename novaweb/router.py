"""Send Nova's tables to the ``nova`` alias (or its replica) and Django's own tables elsewhere.

Every model of the ``inventory`` and ``schema`` apps lives in the Nova
database; nothing else does. Django's ``migrate`` never creates a table
there: ``db_sync`` owns that schema.

With a ``nova_replica`` alias configured (``NOVA_REPLICA_DATABASE_URL``),
reads of those models go to the replica and writes to the primary, except
while the current context is *pinned* to the primary:

- for a whole request that may write (``POST``, ``PUT``, ``PATCH``,
  ``DELETE``): the forms it validates read what they are about to change;
- for :data:`PIN_SECONDS` after the context last wrote (read-your-writes):
  :class:`novaweb.middleware.ReplicaPinningMiddleware` carries the time of a
  user's last write from one request to the next in a cookie, so the page
  shown after a flavor save is read from the primary, whatever the
  replica's lag;
- inside :func:`use_primary`.

The routing state lives in a :mod:`contextvars` variable, so each request
(one per thread or gunicorn worker) has its own; outside a request (a
management command, a shell) the same rules apply to the whole context.
Without a replica everything uses the primary.
"""

from __future__ import annotations

import contextlib
import time
from contextvars import ContextVar
from dataclasses import dataclass

from django.conf import settings
from django.db import connections

#: The apps whose models are Nova's tables (``settings.NOVA_APPS``; the schema engine reads the same setting).
NOVA_APPS = frozenset(getattr(settings, "NOVA_APPS", ("inventory", "schema")))

#: How long after a write the writer's reads stay on the primary.
PIN_SECONDS = 10.0


@dataclass
class RoutingState:
    """Where this context's Nova reads may go."""

    #: Reads go to the primary whatever the clock says (a request that may write).
    pinned: bool = False
    #: ``time.time()`` of this context's last write to the Nova database (or of the
    #: previous request's, carried over by the middleware).
    last_write: float | None = None
    #: Set when this context wrote: the middleware then renews the cookie.
    wrote: bool = False

    def reads_primary(self, now: float | None = None) -> bool:
        if self.pinned:
            return True
        if self.last_write is None:
            return False
        return (now if now is not None else time.time()) - self.last_write < PIN_SECONDS

    def mark_write(self) -> None:
        self.last_write = time.time()
        self.wrote = True


_state: ContextVar[RoutingState | None] = ContextVar("novaweb_routing_state", default=None)


def routing_state() -> RoutingState:
    """This context's routing state, created on first use."""
    state = _state.get()
    if state is None:
        state = RoutingState()
        _state.set(state)
    return state


def begin(state: RoutingState):
    """Install ``state`` for the current context; returns the token for :func:`end`."""
    return _state.set(state)


def end(token) -> None:
    _state.reset(token)


@contextlib.contextmanager
def use_primary():
    """Read Nova's tables from the primary inside this block."""
    state = routing_state()
    before, state.pinned = state.pinned, True
    try:
        yield
    finally:
        state.pinned = before


def replica_configured() -> bool:
    """True when a ``nova_replica`` alias exists (settings or a test's registration)."""
    return settings.NOVA_REPLICA_ALIAS in connections.settings


def read_alias() -> str:
    """The alias reads of the Nova database go to now: the replica unless pinned or absent."""
    if replica_configured() and not routing_state().reads_primary():
        return settings.NOVA_REPLICA_ALIAS
    return settings.NOVA_DB_ALIAS


class NovaRouter:
    def _is_nova(self, model):
        return model._meta.app_label in NOVA_APPS

    def db_for_read(self, model, **hints):
        if not self._is_nova(model):
            return "default"
        return read_alias()

    def db_for_write(self, model, **hints):
        if not self._is_nova(model):
            return "default"
        routing_state().mark_write()
        return settings.NOVA_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints):
        return self._is_nova(obj1.__class__) == self._is_nova(obj2.__class__)

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        if app_label in NOVA_APPS:
            return False
        return db == "default"
