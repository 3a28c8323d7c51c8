"""One flavor write at a time per Nova database: a named lock around check-then-write.

Essex's ``instance_types`` has no unique key on ``name`` or ``flavorid`` (and
``instance_type_extra_specs`` none on ``key``), and novaweb keeps Nova's
schema as it is; so "no live flavor with this name yet, insert it" is only
safe when no other writer runs between the check and the insert. Every
flavor write in the admin (add, edit with its extra specs, clone, delete)
runs inside :func:`flavor_write_lock`, which opens the transaction and holds:

- MySQL/MariaDB: ``GET_LOCK('novaweb_flavors.<database>')``, taken before
  the transaction and released after its commit, so the next writer reads
  what this one committed (Django's MySQL sessions are READ COMMITTED);
- PostgreSQL: ``pg_advisory_xact_lock`` (a per-database advisory lock that
  the commit or rollback releases);
- SQLite: the database's write lock, taken by the transaction's first
  statement (a write that changes nothing), as ``BEGIN IMMEDIATE`` would.

All three are released by the server or the OS when a process dies. A writer
waits up to :data:`WAIT_SECONDS` (SQLite: the connection's busy timeout, 5 s
by default) and then gets :class:`FlavorWriteBusy`.
On a Galera cluster ``GET_LOCK`` is local to one node: point every novaweb
instance at the same node for flavor writes.
"""

from __future__ import annotations

import contextlib

from django.db import DatabaseError, connections, router, transaction

from inventory.models import Flavor

#: How long a flavor write waits for another one to finish.
WAIT_SECONDS = 10
#: ``pg_advisory_xact_lock(int, int)`` key: "nova", "flav" in ASCII (the two-int key
#: space never overlaps the one-bigint key of the schema sync lock).
PG_LOCK_KEY = (0x6E6F7661, 0x666C6176)
MYSQL_LOCK_NAME = "LEFT(CONCAT('novaweb_flavors.', DATABASE()), 64)"


class FlavorWriteBusy(Exception):
    """Another flavor write held the lock for longer than :data:`WAIT_SECONDS`."""

    def __init__(self):
        super().__init__("Another flavor change is taking long to finish: nothing was saved. Try again.")


@contextlib.contextmanager
def flavor_write_lock(using: str | None = None):
    """A transaction on the Nova database holding the flavor write lock; yields the alias."""
    using = using or router.db_for_write(Flavor)
    vendor = connections[using].vendor
    if vendor == "mysql":
        with _mysql_named_lock(using), transaction.atomic(using=using):
            yield using
        return
    with transaction.atomic(using=using):
        try:
            with connections[using].cursor() as cursor:
                if vendor == "postgresql":
                    cursor.execute(f"SET LOCAL lock_timeout = '{WAIT_SECONDS}s'")
                    cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", PG_LOCK_KEY)
                    cursor.execute("SET LOCAL lock_timeout TO DEFAULT")
                else:  # SQLite: the first write of the transaction takes the database's write lock
                    cursor.execute(f"UPDATE {Flavor._meta.db_table} SET id = id WHERE 0 = 1")
        except DatabaseError as exc:
            raise FlavorWriteBusy() from exc
        yield using


@contextlib.contextmanager
def _mysql_named_lock(using):
    connection = connections[using]
    if connection.in_atomic_block:
        # GET_LOCK is the session's: released before an outer commit, it would let the next writer in early.
        raise RuntimeError("flavor_write_lock must be the outermost transaction on MySQL")
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT GET_LOCK({MYSQL_LOCK_NAME}, %s)", [WAIT_SECONDS])
        if cursor.fetchone()[0] != 1:
            raise FlavorWriteBusy()
    try:
        yield
    finally:
        with contextlib.suppress(DatabaseError), connection.cursor() as cursor:  # a dead session has let it go
            cursor.execute(f"SELECT RELEASE_LOCK({MYSQL_LOCK_NAME})")
