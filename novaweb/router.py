"""Send Nova's tables to the ``nova`` alias (or its replica) and Django's own tables elsewhere.

Every model of the ``inventory`` and ``schema`` apps lives in the Nova
database; nothing else does. Django's ``migrate`` never creates a table
there: ``db_sync`` owns that schema.

With a ``nova_replica`` alias configured (``NOVA_REPLICA_DATABASE_URL``),
reads of those models go to the replica and writes to the primary, except:

- while the replica lags more than ``NOVA_REPLICA_MAX_LAG`` seconds or does
  not answer (:func:`novaweb.replication.replica_status`, read at most once a
  second per process): everyone reads the primary until it recovers;
- for a whole request that may write (``POST``, ``PUT``, ``PATCH``,
  ``DELETE``): the forms it validates read what they are about to change;
- after the context wrote (causal reads): its reads go to the replica only
  once the replica has applied the write (the primary's position after the
  commit, :func:`novaweb.replication.replica_has_applied`, waiting at most
  ``NOVA_REPLICA_CAUSAL_WAIT``), else to the primary.
  :class:`novaweb.middleware.ReplicaPinningMiddleware` carries the position
  of a user's last write from one request to the next in a cookie, so the
  page shown after a flavor save shows the saved flavor, while other users
  keep reading the replica;
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

from novaweb import replication

#: The apps whose models are Nova's tables (``settings.NOVA_APPS``; the schema engine reads the same setting).
NOVA_APPS = frozenset(getattr(settings, "NOVA_APPS", ("inventory", "schema")))

#: How long a negative causal check stands before the replica is asked again (outside a request: a command).
RECHECK_SECONDS = replication.REFRESH_SECONDS


@dataclass
class RoutingState:
    """Where this context's Nova reads may go."""

    #: Reads go to the primary whatever the replica says (a request that may write).
    pinned: bool = False
    #: ``vendor:position`` of this context's last write (or the previous request's, carried
    #: over by the middleware) that the replica has not been seen to apply yet.
    awaiting: str | None = None
    #: Set when this context wrote: the middleware then records the primary's position.
    wrote: bool = False
    #: False in a request that may not write (a GET opens the admin's change-form
    #: transaction through ``db_for_write`` without writing): no causal wait then.
    tracks_writes: bool = True
    #: How long a read may wait for the replica to apply ``awaiting`` (the middleware sets
    #: ``NOVA_REPLICA_CAUSAL_WAIT``; a command or a shell does not wait: it reads the primary).
    causal_wait: float = 0.0
    #: This context wrote and has not read the primary's position since.
    _position_pending: bool = False
    #: ``time.monotonic()`` of the last check that found ``awaiting`` not yet applied.
    _not_applied_at: float | None = None

    def reads_primary(self) -> bool:
        if self.pinned:
            return True
        if not replication.replica_status().serves_reads:
            return True
        if self._position_pending:
            if connections[settings.NOVA_DB_ALIAS].in_atomic_block:
                return True  # the write is not committed yet: nothing to wait for on the replica
            self.awaiting = replication.primary_position()
            self._position_pending = False
            if self.awaiting is None:
                self.pinned = True  # no position to wait for: the rest of this context reads the primary
                return True
        if self.awaiting is None:
            return False
        if self._not_applied_at is not None and time.monotonic() - self._not_applied_at < RECHECK_SECONDS:
            return True
        if replication.replica_has_applied(self.awaiting, wait=self.causal_wait):
            self.awaiting = None
            self._not_applied_at = None
            return False
        self._not_applied_at = time.monotonic()
        return True

    def mark_write(self) -> None:
        if not self.tracks_writes:
            return
        self.wrote = True
        self._position_pending = True
        self._not_applied_at = None

    def position_after_writes(self) -> str | None:
        """The primary's position once this context's writes are committed (for the next request)."""
        if self._position_pending:
            self.awaiting = replication.primary_position()
            self._position_pending = False
        return self.awaiting


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


#: A command's ``--database``: every Nova model goes there inside :func:`nova_alias`.
_alias_override: ContextVar[str | None] = ContextVar("novaweb_nova_alias", default=None)


@contextlib.contextmanager
def nova_alias(alias: str):
    """Route Nova's models (reads and writes) to ``alias`` inside the block: a command's ``--database``."""
    token = _alias_override.set(alias)
    try:
        yield
    finally:
        _alias_override.reset(token)


def read_alias() -> str:
    """The alias reads of the Nova database go to now: the replica unless pinned or absent."""
    override = _alias_override.get()
    if override is not None:
        return override
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
        override = _alias_override.get()
        if override is not None:
            return override
        routing_state().mark_write()
        return settings.NOVA_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints):
        return self._is_nova(obj1.__class__) == self._is_nova(obj2.__class__)

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        if app_label in NOVA_APPS:
            return False
        return db == "default"
