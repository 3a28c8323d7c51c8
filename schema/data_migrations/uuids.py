"""A generated uuid for ``instances``, ``networks`` and ``virtual_interfaces`` rows without one.

Essex declared these ``uuid`` columns nullable; later Nova looks everything up
by uuid (and Kilo made ``instances.uuid`` NOT NULL). Rows written before the
uuid columns existed have NULL there. An instance without a uuid can also be
removed instead: see ``db_null_instance_uuid_scan``.
"""

from __future__ import annotations

import functools
import uuid

from ..model_schema import model_for_table
from .batches import NullColumn, count_nulls_across, fill_nulls_across
from .registry import data_migration


@functools.cache
def uuid_columns() -> tuple[NullColumn, ...]:
    tables = ("instances", "networks", "virtual_interfaces")
    return tuple(NullColumn.of(model_for_table(t), "uuid") for t in tables)


def new_uuid() -> str:
    return str(uuid.uuid4())


def count_null_uuids(connection) -> int:
    return count_nulls_across(connection, uuid_columns())


@data_migration("populate_missing_uuids", pending=count_null_uuids)
def fill_uuids(connection, batch_size):
    """Give instances, networks and virtual interfaces without a uuid a new random one."""
    return fill_nulls_across(connection, uuid_columns(), new_uuid, batch_size)
