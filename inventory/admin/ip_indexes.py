"""Whether the instance list's IP columns have the indexes they look rows up by.

The list's IP columns load a page's fixed IPs by ``fixed_ips.instance_id`` and
their floating IPs by ``floating_ips.fixed_ip_id`` (``instances.live_ips``).
Essex indexes neither on PostgreSQL (MySQL keeps indexes from its foreign
keys): each page then scans both tables, ~240 ms at a million instances instead
of ~1 ms. ``./manage.py db_add_indexes`` adds them (``schema.suggested_indexes``).

The answer comes from the catalog (``schema.suggested_indexes.missing_indexes``,
which ``db_add_indexes`` uses too) and is kept per process and database for
:data:`CACHE_SECONDS`, so a page costs no catalog query; an index added by
``db_add_indexes`` shows within that time (``forget()`` drops the cache).
"""

from __future__ import annotations

import threading
import time

from django.db import DatabaseError, connections
from django.utils.html import format_html

from schema.suggested_indexes import missing_indexes

#: (table, columns) the IP prefetch looks rows up by; both are among ``schema.suggested_indexes``.
PREFETCH_KEYS = (("fixed_ips", ("instance_id",)), ("floating_ips", ("fixed_ip_id",)))
CACHE_SECONDS = 60
COMMAND = "./manage.py db_add_indexes"

_cache: dict[tuple, tuple[float, tuple[str, ...]]] = {}
_lock = threading.Lock()


def _database_key(alias: str) -> tuple:
    config = connections.settings.get(alias, {})
    return (alias, *(str(config.get(key)) for key in ("ENGINE", "HOST", "PORT", "NAME")))


def _read(alias: str) -> tuple[str, ...]:
    missing = {(table, index.columns) for table, index in missing_indexes(connections[alias])}
    return tuple(f"{table}.{', '.join(columns)}" for table, columns in PREFETCH_KEYS if (table, columns) in missing)


def unindexed(alias: str) -> tuple[str, ...]:
    """``("fixed_ips.instance_id", ...)``: the prefetch's lookup columns no index serves on ``alias``."""
    key = _database_key(alias)
    now = time.monotonic()
    found = _cache.get(key)
    if found is not None and now - found[0] < CACHE_SECONDS:
        return found[1]
    with _lock:
        found = _cache.get(key)
        if found is None or now - found[0] >= CACHE_SECONDS:
            try:
                columns = _read(alias)
            except DatabaseError:  # the page says the database does not answer; no notice on top
                columns = ()
            found = _cache[key] = (time.monotonic(), columns)
    return found[1]


def notice(alias: str) -> str | None:
    """The instance list's one-line notice (HTML) when its IP lookups have no index, else None."""
    columns = unindexed(alias)
    if not columns:
        return None
    has = "has no index" if len(columns) == 1 else "have no index"
    them = "it" if len(columns) == 1 else "them"
    return format_html(
        "{} {}: the IP columns read the whole table for every page, slow on a big cloud; <code>{}</code> adds {}.",
        " and ".join(columns),
        has,
        COMMAND,
        them,
    )


def forget() -> None:
    """Read the catalog again on the next page (after ``db_add_indexes`` in this process)."""
    with _lock:
        _cache.clear()
