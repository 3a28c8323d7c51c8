"""The benchmarks' database servers and throwaway databases on them.

MariaDB root@127.0.0.1:3306 and PostgreSQL postgres@127.0.0.1:5432, as on the
development machine; ``NOVABENCH_MYSQL_URL`` / ``NOVABENCH_PG_URL`` point a
benchmark at other servers (the server part of a URL, without a database).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from urllib.parse import urlsplit

SERVERS = {
    "mysql": os.environ.get("NOVABENCH_MYSQL_URL", "mysql://root@127.0.0.1:3306"),
    "postgresql": os.environ.get("NOVABENCH_PG_URL", "postgres://postgres@127.0.0.1:5432"),
}


def _server(backend: str):
    url = urlsplit(SERVERS[backend])
    return url.hostname or "127.0.0.1", url.port, url.username, url.password


def _run(backend: str, *statements: str) -> None:
    """Run ``statements`` on the server; one line and exit 2 when it is not there (not a driver's traceback)."""
    try:
        _execute(backend, statements)
    except Exception as exc:  # the drivers' own OperationalError classes, imported lazily
        if type(exc).__name__ != "OperationalError":
            raise
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        print(
            f"bench: cannot reach {backend} at {SERVERS[backend]} ({reason}); start it with "
            "`bash scripts/services.sh`, or point NOVABENCH_MYSQL_URL / NOVABENCH_PG_URL at another server",
            file=sys.stderr,
        )
        raise SystemExit(2) from None


def _execute(backend: str, statements) -> None:
    host, port, user, password = _server(backend)
    if backend == "mysql":
        import MySQLdb

        conn = MySQLdb.connect(host=host, port=port or 3306, user=user or "root", password=password or "")
        try:
            cursor = conn.cursor()
            for sql in statements:
                cursor.execute(sql)
        finally:
            conn.close()
    else:
        import psycopg

        with psycopg.connect(
            host=host, port=port or 5432, user=user or "postgres", password=password, dbname="postgres", autocommit=True
        ) as conn:
            for sql in statements:
                conn.execute(sql)


def drop_database(backend: str, name: str) -> None:
    """Drop ``name`` if it exists (PostgreSQL: its sessions too); SQLite's files go with their folder."""
    if backend == "sqlite":
        return
    _run(backend, f"DROP DATABASE IF EXISTS {name}" + (" WITH (FORCE)" if backend == "postgresql" else ""))


def recreate_database(backend: str, name: str) -> str:
    """An empty database ``name`` (dropped first if it exists); returns its URL."""
    drop_database(backend, name)
    _run(backend, f"CREATE DATABASE {name}" + (" CHARACTER SET utf8" if backend == "mysql" else ""))
    return f"{SERVERS[backend]}/{name}"


def empty_database(backend: str, name: str, folder) -> str:
    """The URL of an empty database ``name``: on SQLite a new file in ``folder``, else :func:`recreate_database`."""
    if backend == "sqlite":
        path = Path(folder) / f"{name}.sqlite3"
        path.unlink(missing_ok=True)
        return f"sqlite:///{path}"
    return recreate_database(backend, name)
