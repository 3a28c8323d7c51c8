"""One sync at a time per database: an advisory lock held for the whole run.

MySQL/MariaDB ``GET_LOCK('novaweb_sync.<database>')``, PostgreSQL
``pg_try_advisory_lock`` (a per-database advisory lock), SQLite a
``BEGIN IMMEDIATE`` write transaction on a small file beside the database
(SQLite's own file locking). All three are released by the server or the OS
when the process dies, so a killed run never leaves a stale lock. The lock is
polled rather than waited for inside the server, and the second run says that
it waited and for how long. The SQL per backend is the dialect's; on a Galera cluster, where GET_LOCK is
node-local, the MySQL dialect hands out a cluster-wide lock (:mod:`schema.dialects.galera`).
"""

from __future__ import annotations

import time

from .dialects import dialect_for


class LockTimeout(Exception):
    pass


class SyncLock:
    poll_interval = 0.2

    def __init__(self, connection, *, notify=None, timeout: float = 3600.0):
        self.dialect = dialect_for(connection).sync_lock()  # Galera: a cluster-wide lock
        self.notify = notify or (lambda message: None)
        self.timeout = timeout
        self.waited: float | None = None

    def __enter__(self):
        if self.dialect.try_sync_lock():
            return self
        start = time.monotonic()
        holder = self.dialect.describe_holder()
        self.notify(
            "Another schema sync holds this database's lock"
            + (f" ({holder})" if holder else "")
            + ": waiting for it to finish..."
        )
        while not self.dialect.try_sync_lock():
            if time.monotonic() - start > self.timeout:
                raise LockTimeout(f"gave up waiting for the other schema sync after {self.timeout:.0f}s")
            time.sleep(self.poll_interval)
        self.waited = time.monotonic() - start
        self.notify(f"Waited {self.waited:.1f}s for the other schema sync; planning from what it left.")
        return self

    def __exit__(self, *exc):
        self.dialect.release_sync_lock()
        return False
