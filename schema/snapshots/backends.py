"""The snapshot class for a connection's backend."""

from __future__ import annotations

from .base import MissingTool, SnapshotBackend, SnapshotError
from .mysql import MySQLSnapshots
from .postgresql import PostgreSQLSnapshots
from .sqlite import SQLiteSnapshots

BACKENDS = {cls.vendor: cls for cls in (MySQLSnapshots, PostgreSQLSnapshots, SQLiteSnapshots)}

__all__ = ["BACKENDS", "MissingTool", "SnapshotBackend", "SnapshotError", "snapshot_backend"]


def snapshot_backend(connection) -> SnapshotBackend:
    try:
        return BACKENDS[connection.vendor](connection)
    except KeyError:
        raise SnapshotError(f"novaweb cannot snapshot a {connection.vendor} database") from None
