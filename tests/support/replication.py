"""The real primary/replica pairs of ``scripts/replication.sh``, for tests and benchmarks.

- :func:`ensure_pair` starts both pairs unless they stream already and says
  whether it did (the caller stops them again at the end).
- :class:`PairDatabase`: one database on a pair (created on the primary, so
  on the replica too by replication), with raw connections to either side,
  replay paused and resumed, waits for the replica to catch up.

Everything here talks to the servers through their drivers, never through
novaweb's replication module: it is the yardstick that module is measured
against.
"""

from __future__ import annotations

import contextlib
import fcntl
import itertools
import os
import subprocess
import time

from tests.support.backends import DUMP_FILES, REPO_ROOT, TestDatabase, psql_command

SCRIPT = REPO_ROOT / "scripts" / "replication.sh"
PORTS = {"postgresql": (5441, 5442), "mysql": (3341, 3342)}
USERS = {"postgresql": "postgres", "mysql": "root"}
_names = itertools.count(1)


def script(*args, timeout=180) -> subprocess.CompletedProcess:
    return subprocess.run([str(SCRIPT), *map(str, args)], capture_output=True, text=True, timeout=timeout)


def ensure_pair() -> bool:
    """Start the pairs unless both replicas stream; True when this call started them."""
    lock_path = REPO_ROOT / "var" / "replication.lock"
    lock_path.parent.mkdir(exist_ok=True)
    with lock_path.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # xdist workers: one start at a time
        if script("status").returncode == 0:
            return False
        proc = script("start")
        if proc.returncode != 0:
            raise RuntimeError(f"scripts/replication.sh start failed:\n{proc.stdout}\n{proc.stderr}")
        return True


def url(backend: str, side: str, name: str) -> str:
    port = PORTS[backend][0 if side == "primary" else 1]
    scheme = "postgres" if backend == "postgresql" else "mysql"
    return f"{scheme}://{USERS[backend]}@127.0.0.1:{port}/{name}"


def connect(backend: str, side: str, database: str | None = None):
    """A raw autocommit connection to one side of a pair."""
    port = PORTS[backend][0 if side == "primary" else 1]
    if backend == "postgresql":
        import psycopg

        return psycopg.connect(
            host="127.0.0.1",
            port=port,
            user="postgres",
            dbname=database or "postgres",
            autocommit=True,
            connect_timeout=5,
        )
    import MySQLdb

    conn = MySQLdb.connect(
        host="127.0.0.1", port=port, user="root", database=database or "", charset="utf8", connect_timeout=5
    )
    conn.autocommit(True)
    return conn


def query(backend: str, side: str, sql: str, params=None, database: str | None = None) -> list[tuple]:
    conn = connect(backend, side, database)
    try:
        cur = conn.cursor()
        cur.execute(sql, params)
        rows = [tuple(r) for r in cur.fetchall()] if cur.description else []
        cur.close()
        return rows
    finally:
        conn.close()


def wait_until(predicate, timeout=30.0, what="the condition"):
    """Poll ``predicate`` until it is true; fail after ``timeout`` seconds (a bound, not a measurement)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not reached within {timeout} s")
        time.sleep(0.1)


def caught_up(backend: str) -> bool:
    if backend == "postgresql":
        (primary,) = query(backend, "primary", "SELECT pg_current_wal_lsn()::text")[0]
        return query(backend, "replica", "SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", [primary])[0][0]
    (primary,) = query(backend, "primary", "SELECT @@gtid_binlog_pos")[0]
    return query(backend, "replica", "SELECT MASTER_GTID_WAIT(%s, 0)", [primary])[0][0] == 0


def pause_replay(backend: str) -> None:
    if backend == "postgresql":
        query(backend, "replica", "SELECT pg_wal_replay_pause()")
    else:
        query(backend, "replica", "STOP SLAVE SQL_THREAD")


def resume_replay(backend: str) -> None:
    if backend == "postgresql":
        query(backend, "replica", "SELECT pg_wal_replay_resume()")
    else:
        query(backend, "replica", "START SLAVE SQL_THREAD")


class PairDatabase:
    """A Nova reference dump on a pair: written on the primary, read on either side."""

    def __init__(self, backend: str):
        self.backend = backend
        self.name = f"novatest_repl_{os.getpid()}_{next(_names)}"
        if backend == "postgresql":
            query(backend, "primary", f'CREATE DATABASE "{self.name}"')
            cmd = psql_command("127.0.0.1", PORTS[backend][0], "postgres", self.name)
        else:
            query(backend, "primary", f"CREATE DATABASE `{self.name}` CHARACTER SET utf8")
            cmd = ["mariadb", "--no-defaults", "-uroot", "-h127.0.0.1", f"-P{PORTS[backend][0]}", self.name]
        with DUMP_FILES[backend].open("rb") as stdin:
            proc = subprocess.run(cmd, stdin=stdin, capture_output=True, timeout=120)
        if proc.returncode != 0:
            self.drop()
            raise RuntimeError(f"loading the dump into {self.name} failed: {proc.stderr.decode(errors='replace')}")
        self.wait_caught_up()

    def side(self, side: str) -> TestDatabase:
        """The TestDatabase (for ``nova_db_alias``) of one side."""
        return TestDatabase(self.backend, self.name, url(self.backend, side, self.name))

    def fetchall(self, side: str, sql: str, params=None) -> list[tuple]:
        return query(self.backend, side, sql, params, database=self.name)

    def execute(self, sql: str, params=None) -> None:
        """Run ``sql`` on the primary."""
        query(self.backend, "primary", sql, params, database=self.name)

    def wait_caught_up(self, timeout=30.0) -> None:
        wait_until(lambda: caught_up(self.backend), timeout, f"the {self.backend} replica caught up")

    @contextlib.contextmanager
    def replay_paused(self):
        """Replay stopped on the replica inside the block (receiving goes on), resumed after."""
        pause_replay(self.backend)
        try:
            yield
        finally:
            resume_replay(self.backend)

    def drop(self) -> None:
        with contextlib.suppress(Exception):
            resume_replay(self.backend)
        if self.backend == "postgresql":
            query(self.backend, "primary", f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
        else:
            query(self.backend, "primary", f"DROP DATABASE IF EXISTS `{self.name}`")
