"""The Nova database's figures for ``/metrics``, each computed by one query (or one compare) and cached.

A scrape never waits for the database once a figure has been computed: a
figure older than its ``max_age`` is still served while a background thread
recomputes it (one at a time per figure and process). Only the very first
scrape of a process computes what it shows. The values live in Django's cache.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from django.core.cache import cache
from django.db import DatabaseError, close_old_connections, connections
from django.db.models import Count

from novaweb.router import read_alias


@dataclass
class Figure:
    name: str
    compute: Callable[[], object]
    #: Seconds after which a scrape starts a background refresh (and still gets the old value).
    max_age: float
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def key(self) -> str:
        return f"novaweb:metrics:{self.name}"

    def get(self):
        """The cached value (``None`` when the database could not answer)."""
        entry = cache.get(self.key)
        if entry is None:
            return self.refresh()
        value, computed_at = entry
        if time.time() - computed_at > self.max_age and self._lock.acquire(blocking=False):
            threading.Thread(target=self._refresh_in_background, name=f"metrics-{self.name}", daemon=True).start()
        return value

    def refresh(self):
        try:
            value = self.compute()
        except DatabaseError:
            value = None
        # Kept well past max_age: a scrape serves the old value while the refresh runs.
        cache.set(self.key, (value, time.time()), timeout=max(self.max_age * 20, 3600))
        return value

    def _refresh_in_background(self):
        try:
            self.refresh()
        finally:
            self._lock.release()
            close_old_connections()
            connections.close_all()

    def forget(self):
        cache.delete(self.key)


def _connection():
    return connections[read_alias()]


def schema_version() -> int | None:
    from schema.versioning import NotUnderVersionControl, current_version

    try:
        return current_version(_connection())
    except NotUnderVersionControl:
        return None


def drift_count() -> int:
    from schema.engine import compare

    return len(compare(_connection()).result.differences)


def live_instances() -> dict[str, Counter]:
    """Live instances by vm_state and by host, from ONE grouped query."""
    from inventory.models import Instance

    by_state, by_host = Counter(), Counter()
    rows = Instance.objects.using(read_alias()).live().values_list("vm_state", "host").annotate(n=Count("id"))
    for vm_state, host, n in rows.order_by():
        by_state[vm_state or ""] += n
        by_host[host or ""] += n
    return {"vm_state": by_state, "host": by_host}


def soft_deleted_rows() -> dict[str, int]:
    """Soft-deleted rows waiting for archive, per table (the saved report's single UNION ALL)."""
    from inventory.console.reports import soft_deleted_sql

    with _connection().cursor() as cursor:
        cursor.execute(soft_deleted_sql())
        return {table: int(n) for table, n in cursor.fetchall()}


def data_migration_backlog() -> dict[str, int | None]:
    from schema.data_migrations import pending_counts

    return pending_counts(_connection())


FIGURES = {
    figure.name: figure
    for figure in (
        Figure("schema_version", schema_version, max_age=30),
        Figure("drift", drift_count, max_age=600),
        Figure("instances", live_instances, max_age=60),
        Figure("soft_deleted", soft_deleted_rows, max_age=600),
        Figure("data_migrations", data_migration_backlog, max_age=600),
    )
}


def forget_all() -> None:
    for figure in FIGURES.values():
        figure.forget()
