"""The server refusing a change: the wrong account or a read-only server, not an unexpected error.

Each backend's driver says it its own way: MySQL/MariaDB by error number
(``1142`` ALTER command denied..., ``1290`` running with ``--read-only``),
PostgreSQL by SQLSTATE (``42501`` insufficient_privilege, ``25006`` a
read-only transaction: a hot standby), SQLite by its result code (a read-only
file, a refused authorization). Django keeps the driver's error as the
``__cause__`` of its own.
"""

from __future__ import annotations

#: database, table, column, global and routine privileges; a read-only server or transaction
MYSQL_DENIED = frozenset({1044, 1142, 1143, 1227, 1370, 1290, 1792})
POSTGRESQL_DENIED = frozenset({"42501", "25006"})
#: SQLITE_PERM, SQLITE_READONLY, SQLITE_AUTH (primary result codes)
SQLITE_DENIED = frozenset({3, 8, 23})


def _mysql(error) -> bool:
    return type(error).__module__.startswith("MySQLdb") and bool(error.args) and error.args[0] in MYSQL_DENIED


def _postgresql(error) -> bool:
    return getattr(error, "sqlstate", None) in POSTGRESQL_DENIED


def _sqlite(error) -> bool:
    code = getattr(error, "sqlite_errorcode", None)
    return code is not None and code & 0xFF in SQLITE_DENIED


def privilege_denied(error: BaseException) -> str | None:
    """The server's words when ``error`` (or the driver error under it) refused a privilege, else None."""
    seen = error
    while seen is not None:
        if _mysql(seen) or _postgresql(seen) or _sqlite(seen):
            text = str(seen.args[-1] if seen.args else seen).strip()
            return text.splitlines()[0] if text else type(seen).__name__
        seen = seen.__cause__
    return None
