"""Which phase a phased upgrade is in, recorded beside ``migrate_version``.

Nova kept a ``locked`` flag next to its version for the same purpose. After
``db_expand`` (or ``db_migrate``) leaves work for later phases, the
``novaweb_sync_state`` row says so, and a plain ``db_sync`` refuses ("run
db_contract first") rather than contract while old code may still run. The
final ``db_contract`` clears it. The table is novaweb's own
(``schema.engine.own_tables``): never reported as drift.
"""

from __future__ import annotations

import datetime

from .dialects import dialect_for

TABLE = "novaweb_sync_state"
KEY = "nova"


def read_phase(connection, live_tables) -> str | None:
    """The recorded phase (``expand``/``migrate`` completed), or None."""
    if TABLE not in live_tables:
        return None
    q = dialect_for(connection).quote_for_params
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {q('phase')} FROM {q(TABLE)} WHERE {q('name')} = %s", [KEY])
        row = cursor.fetchone()
    return row[0] if row else None


def record_phase(connection, phase: str) -> None:
    dialect = dialect_for(connection)
    q, ddl_q = dialect.quote_for_params, dialect.quote
    now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M:%S")
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TABLE IF NOT EXISTS {ddl_q(TABLE)} ({ddl_q('name')} varchar(32) NOT NULL PRIMARY KEY, "
            f"{ddl_q('phase')} varchar(16), {ddl_q('updated_at')} varchar(19))"
        )
        cursor.execute(f"DELETE FROM {q(TABLE)} WHERE {q('name')} = %s", [KEY])
        cursor.execute(
            f"INSERT INTO {q(TABLE)} ({q('name')}, {q('phase')}, {q('updated_at')}) VALUES (%s, %s, %s)",
            [KEY, phase, now],
        )


def clear_phase(connection) -> None:
    """No upgrade in progress: the table goes (a synced database holds only Nova's tables)."""
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {dialect_for(connection).quote(TABLE)}")
