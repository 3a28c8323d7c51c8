"""``instance_types.flavorid`` NULL -> a generated id.

The API addresses flavors by ``flavorid``; a flavor without one cannot be
shown, resized to or deleted. Nova generates a uuid string when a flavor is
created without an id, so that is what a missing one gets here.
"""

from __future__ import annotations

import functools

from ..model_schema import model_for_table
from .batches import NullColumn, count_nulls_across, fill_nulls_across
from .registry import data_migration
from .uuids import new_uuid


@functools.cache
def flavorid_columns() -> tuple[NullColumn, ...]:
    return (NullColumn.of(model_for_table("instance_types"), "flavorid"),)


def count_null_flavorids(connection) -> int:
    return count_nulls_across(connection, flavorid_columns())


@data_migration("populate_missing_flavorids", pending=count_null_flavorids)
def fill_flavorids(connection, batch_size):
    """Give flavors (instance_types) without a flavorid a generated one (a uuid, as Nova does)."""
    return fill_nulls_across(connection, flavorid_columns(), new_uuid, batch_size)
