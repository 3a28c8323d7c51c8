"""``deleted`` NULL -> false on every soft-delete table.

Essex rows written by old code can carry ``deleted = NULL``; later Nova filters
live rows with ``deleted = false`` (and, from Icehouse, ``deleted = 0`` on an
integer column), which misses them: the rows vanish from every listing.
"""

from __future__ import annotations

import functools

from schema.declarations import SoftDeleteModel
from schema.model_schema import nova_models

from .batches import NullColumn, count_nulls_across, fill_nulls_across
from .registry import data_migration


@functools.cache
def soft_delete_columns() -> tuple[NullColumn, ...]:
    return tuple(NullColumn.of(m, "deleted") for m in nova_models() if issubclass(m, SoftDeleteModel))


def count_null_deleted(connection) -> int:
    return count_nulls_across(connection, soft_delete_columns())


@data_migration("deleted_null_to_false", pending=count_null_deleted)
def fill_deleted_flags(connection, batch_size):
    """Set ``deleted`` to false where it is NULL, on every soft-delete table."""
    return fill_nulls_across(connection, soft_delete_columns(), False, batch_size)
