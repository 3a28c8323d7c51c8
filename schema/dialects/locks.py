"""The database-wide sync lock a backend offers (used by :mod:`schema.locking`)."""

from __future__ import annotations


class SyncLocking:
    def sync_lock(self):
        """What takes this database's sync lock: the dialect itself (MySQL on Galera: a cluster lock)."""
        return self

    def describe_holder(self) -> str | None:
        """Who holds the lock, for the wait message, where the backend can tell."""
        return None

    def try_sync_lock(self) -> bool:
        """Take the database-wide sync lock without waiting; True when taken."""
        raise NotImplementedError

    def release_sync_lock(self) -> None:
        raise NotImplementedError
