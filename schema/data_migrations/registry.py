"""The registry of online data migrations, as ``nova-manage db online_data_migrations`` runs them.

A data migration is a function ``(connection, batch_size) -> (found, done)``:
it looks for at most ``batch_size`` rows that still need it, fixes them, and
returns how many it found and how many it fixed. It must be idempotent (a
row it has fixed no longer matches) so that running it again, or from two
places at once, is safe, and it runs after the schema (``db_sync``) and the
services are upgraded, while they serve.

Each migration lives in its own module of this package and registers
itself by name::

    @data_migration("deleted_null_to_false", pending=count_null_deleted)
    def fill_deleted(connection, batch_size): ...

``pending`` (optional) counts the rows still to do, for the schema page.
:func:`discover` imports every module of the package; :func:`registered`
lists the migrations in the order they run; :func:`get` finds one by name.
Tests add a migration for a while with :func:`registered_temporarily`.
"""

from __future__ import annotations

import contextlib
import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass

from django.core.cache import cache

Migrate = Callable[[object, int], tuple[int, int]]
Count = Callable[[object], int]


@dataclass(frozen=True)
class DataMigration:
    name: str
    migrate: Migrate
    pending: Count | None = None

    def __call__(self, connection, batch_size: int) -> tuple[int, int]:
        return self.migrate(connection, batch_size)

    @property
    def description(self) -> str:
        doc = (self.migrate.__doc__ or "").strip()
        return doc.splitlines()[0] if doc else ""


_REGISTRY: dict[str, DataMigration] = {}
_discovered = False


class DuplicateMigration(ValueError):
    pass


def register(migration: DataMigration) -> DataMigration:
    if migration.name in _REGISTRY:
        raise DuplicateMigration(f"a data migration named '{migration.name}' is already registered")
    _REGISTRY[migration.name] = migration
    return migration


def data_migration(name: str, *, pending: Count | None = None):
    """Register the decorated ``(connection, batch_size) -> (found, done)`` function as ``name``."""

    def decorate(func: Migrate) -> DataMigration:
        return register(DataMigration(name, func, pending))

    return decorate


def discover() -> None:
    """Import every module of this package, so that each registers its migration."""
    global _discovered
    if _discovered:
        return
    package = importlib.import_module(__package__)
    for module in pkgutil.iter_modules(package.__path__):
        importlib.import_module(f"{__package__}.{module.name}")
    _discovered = True


def registered() -> list[DataMigration]:
    """Every migration, in the order they run: by name, whatever order their modules were imported in."""
    discover()
    return sorted(_REGISTRY.values(), key=lambda m: m.name)


def names() -> list[str]:
    return [m.name for m in registered()]


def get(name: str) -> DataMigration:
    discover()
    try:
        return _REGISTRY[name]
    except KeyError:
        raise KeyError(f"no data migration named '{name}' (known: {', '.join(names())})") from None


@contextlib.contextmanager
def registered_temporarily(name: str, migrate: Migrate, *, pending: Count | None = None):
    """Register ``migrate`` as ``name`` for the ``with`` block (for tests); yields the DataMigration."""
    discover()
    migration = register(DataMigration(name, migrate, pending))
    try:
        yield migration
    finally:
        _REGISTRY.pop(name, None)


def pending_counts(connection) -> dict[str, int | None]:
    """``{name: rows still to migrate}`` for every migration (None when it cannot count)."""
    return {m.name: (m.pending(connection) if m.pending else None) for m in registered()}


#: Counting NULLs scans every soft-delete table (seconds at a million rows): the schema
#: page shows counts at most this old; a run of the migrations in this process clears them.
PENDING_CACHE_SECONDS = 60


def _pending_cache_key(connection) -> str:
    return f"novaweb:data-migrations:pending:{connection.vendor}:{connection.settings_dict.get('NAME')}"


def forget_pending_counts(connection) -> None:
    cache.delete(_pending_cache_key(connection))


def pending_summary(connection) -> list[dict]:
    """``[{name, description, pending}]`` per migration, for the admin schema page (cached)."""
    pending = cache.get_or_set(
        _pending_cache_key(connection), lambda: pending_counts(connection), PENDING_CACHE_SECONDS
    )
    return [{"name": m.name, "description": m.description, "pending": pending.get(m.name)} for m in registered()]
