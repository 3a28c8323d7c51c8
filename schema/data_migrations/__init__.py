"""Online data migrations: see :mod:`schema.data_migrations.registry`.

One module per migration (``deleted_flags``, ``uuids``, ``flavorids``);
``batches`` holds the batched NULL-fixing they share; ``runner`` runs them the
way ``nova-manage db online_data_migrations`` does.
"""

from .registry import (
    DataMigration,
    data_migration,
    discover,
    get,
    names,
    pending_counts,
    pending_summary,
    registered,
    registered_temporarily,
)

__all__ = [
    "DataMigration",
    "data_migration",
    "discover",
    "get",
    "names",
    "pending_counts",
    "pending_summary",
    "registered",
    "registered_temporarily",
]
