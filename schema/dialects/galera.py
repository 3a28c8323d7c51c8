"""MariaDB Galera Cluster: what the schema engine does differently there.

Detection: ``SHOW VARIABLES LIKE 'wsrep_on'`` is ``ON`` on a Galera node
(plain MariaDB has the variable, ``OFF``; MySQL and the other backends have
none).

The sync lock: ``GET_LOCK`` is local to one node, so two ``db_sync`` runs
through two nodes would both get it. On Galera the lock is a row of
``novaweb_sync_lock`` (a novaweb table: ``db_drift`` reports it as ignored)
taken with an ``UPDATE ... WHERE holder IS NULL``, a write that the cluster
certifies: of two nodes taking it at once, one commit wins and the other
fails certification (a deadlock error) or finds the row taken; both mean
"held, wait". Reads are made causal (``wsrep_sync_wait``) so a node sees
every lock taken elsewhere. Unlike ``GET_LOCK``, a row outlives a killed
run: a holder on the same node whose connection is gone is recognized at
once; one on another node after :data:`STALE_AFTER` seconds (the wait message
says how to clear it by hand sooner).

DDL under the lock runs in Total Order Isolation (``wsrep_OSU_method=TOI``,
set for the session whatever the server default): every node applies it at
the same point, so the schema is the same on all nodes. Rolling schema
upgrade (RSU) would change only the local node, which is never what
``db_sync`` wants. Galera's other rules hold for the Nova schema already:
every table has a primary key and InnoDB, and novaweb never uses
``LOCK TABLES``.
"""

from __future__ import annotations

import os
import socket

from django.db import DatabaseError

LOCK_TABLE = "novaweb_sync_lock"
LOCK_NAME = "db_sync"
#: A lock taken longer ago than this by a node we cannot ask is considered abandoned.
STALE_AFTER = 3600
#: ER_LOCK_DEADLOCK: what a transaction that lost Galera's certification gets.
ER_LOCK_DEADLOCK = 1213


def is_galera(connection) -> bool:
    """True when ``connection`` talks to a Galera cluster node (wsrep on)."""
    if connection.vendor != "mysql":
        return False
    cached = getattr(connection, "_novaweb_galera", None)
    if cached is None:
        with connection.cursor() as cursor:
            cursor.execute("SHOW VARIABLES LIKE 'wsrep_on'")
            row = cursor.fetchone()
        cached = connection._novaweb_galera = bool(row and str(row[1]).upper() == "ON")
    return cached


def _error_code(exc) -> int | None:
    args = getattr(exc.__cause__, "args", None) or exc.args
    return args[0] if args and isinstance(args[0], int) else None


class ClusterSyncLock:
    """The sync lock as a certified row: same interface as a dialect's ``try_sync_lock``."""

    def __init__(self, connection):
        self.connection = connection
        self.holder = None

    def _prepare(self, cursor) -> str:
        cursor.execute("SET SESSION wsrep_OSU_method = 'TOI'")
        cursor.execute("SET SESSION wsrep_sync_wait = 1")
        cursor.execute(
            f"CREATE TABLE IF NOT EXISTS {LOCK_TABLE} ("
            " name VARCHAR(64) NOT NULL PRIMARY KEY,"
            " holder VARCHAR(255) NULL,"
            " node VARCHAR(64) NULL,"
            " connection_id BIGINT NULL,"
            " acquired_at DATETIME NULL"
            ") ENGINE=InnoDB"
        )
        cursor.execute(f"INSERT IGNORE INTO {LOCK_TABLE} (name) VALUES (%s)", [LOCK_NAME])
        cursor.execute("SELECT @@wsrep_node_name, CONNECTION_ID()")
        return cursor.fetchone()

    def _clear_abandoned(self, cursor, node) -> None:
        """Free the lock when its holder's connection on this node is gone."""
        cursor.execute(
            f"UPDATE {LOCK_TABLE} SET holder = NULL WHERE name = %s AND holder IS NOT NULL AND node = %s"
            " AND connection_id NOT IN (SELECT ID FROM information_schema.PROCESSLIST)",
            [LOCK_NAME, node],
        )

    def try_sync_lock(self) -> bool:
        holder = f"{socket.gethostname()}:{os.getpid()}"
        try:
            with self.connection.cursor() as cursor:
                node, connection_id = self._prepare(cursor)
                self._clear_abandoned(cursor, node)
                cursor.execute(
                    f"UPDATE {LOCK_TABLE} SET holder = %s, node = %s, connection_id = %s,"
                    " acquired_at = UTC_TIMESTAMP()"
                    " WHERE name = %s AND (holder IS NULL OR acquired_at < UTC_TIMESTAMP() - INTERVAL %s SECOND)",
                    [holder, node, connection_id, LOCK_NAME, STALE_AFTER],
                )
                taken = cursor.rowcount == 1
        except DatabaseError as exc:
            if _error_code(exc) == ER_LOCK_DEADLOCK:
                return False  # another node's commit won the certification
            raise
        if taken:
            self.holder = holder
        return taken

    def release_sync_lock(self) -> None:
        if self.holder is None:
            return
        with self.connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {LOCK_TABLE} SET holder = NULL, node = NULL, connection_id = NULL, acquired_at = NULL"
                " WHERE name = %s AND holder = %s",
                [LOCK_NAME, self.holder],
            )
        self.holder = None

    def describe_holder(self) -> str | None:
        """Who holds the lock, for a message; None when nobody does."""
        with self.connection.cursor() as cursor:
            cursor.execute(f"SELECT holder, node, acquired_at FROM {LOCK_TABLE} WHERE name = %s", [LOCK_NAME])
            row = cursor.fetchone()
        if not row or row[0] is None:
            return None
        return (
            f"{row[0]} through node {row[1]} since {row[2]} UTC "
            f"(if that run is gone: UPDATE {LOCK_TABLE} SET holder = NULL WHERE name = '{LOCK_NAME}')"
        )
