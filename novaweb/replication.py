"""Where the read replica stands: its lag, whether it may serve reads, whether it has applied a write.

- **Lag** (:func:`replica_status`): read from both servers at most once per
  :data:`REFRESH_SECONDS` per process, never once per request. PostgreSQL: the
  primary's ``pg_current_wal_lsn()`` against the standby's
  ``pg_last_wal_replay_lsn()``; MariaDB: the primary's ``@@gtid_binlog_pos``
  against the replica's ``@@gtid_slave_pos`` (and ``SHOW SLAVE STATUS``).
  Every check remembers the primary's position and when it was seen; the lag
  is how long ago the oldest position the replica has not applied was seen on
  the primary, so it grows while replay is paused or stopped, whatever the
  server says. The first check of a process seeds that history with the
  server's own estimate (``now() - pg_last_xact_replay_timestamp()``,
  ``Seconds_Behind_Master``).
- **Routing**: the replica serves reads while it answers and its lag is at
  most ``NOVA_REPLICA_MAX_LAG`` seconds (default 5); otherwise reads go to
  the primary until it recovers.
- **Causal reads** (:func:`primary_position`, :func:`replica_has_applied`):
  after a write, the primary's position (PostgreSQL: the WAL LSN after the
  commit; MariaDB: the GTID position) is what the replica must have applied
  before that writer's reads go back to it: ``MASTER_GTID_WAIT`` on MariaDB, a
  short poll of ``pg_last_wal_replay_lsn()`` on PostgreSQL, at most
  ``NOVA_REPLICA_CAUSAL_WAIT`` seconds (default 0.5).

A replica whose replication cannot be read (SQLite, MySQL, an account
without the privilege, a copy that is not a standby) still serves reads;
its lag is "not measured".
"""

from __future__ import annotations

import re
import threading
import time
from collections import deque
from dataclasses import dataclass

from django.conf import settings
from django.db import DatabaseError, connections

from novaweb.database_errors import first_line

#: How long one reading of the replica's lag is reused (per process).
REFRESH_SECONDS = 1.0
DEFAULT_MAX_LAG = 5.0
DEFAULT_CAUSAL_WAIT = 0.5
#: How often PostgreSQL's replay position is polled while a causal read waits.
POLL_SECONDS = 0.01
#: The primary positions remembered (one per check at most); when full, the oldest are kept (they set the lag).
HISTORY = 600


def max_lag() -> float:
    return float(getattr(settings, "NOVA_REPLICA_MAX_LAG", DEFAULT_MAX_LAG))


def causal_wait() -> float:
    return float(getattr(settings, "NOVA_REPLICA_CAUSAL_WAIT", DEFAULT_CAUSAL_WAIT))


# --- positions -------------------------------------------------------------------------


_LSN = re.compile(r"^[0-9A-Fa-f]{1,8}/[0-9A-Fa-f]{1,8}$")


@dataclass(frozen=True)
class Lsn:
    """A PostgreSQL WAL position."""

    value: int

    @classmethod
    def parse(cls, text: str) -> Lsn:
        if not _LSN.fullmatch(text):
            raise ValueError(f"not a WAL position: {text!r}")
        high, low = text.split("/")
        return cls((int(high, 16) << 32) | int(low, 16))

    def covers(self, other: Lsn) -> bool:
        return self.value >= other.value

    def __str__(self) -> str:
        return f"{self.value >> 32:X}/{self.value & 0xFFFFFFFF:X}"


_GTID = re.compile(r"^[0-9]+-[0-9]+-[0-9]+$")


@dataclass(frozen=True)
class Gtid:
    """A MariaDB GTID position: the last sequence number per replication domain."""

    seqno: tuple[tuple[int, int, int], ...]  # (domain, server, seqno), sorted by domain

    @classmethod
    def parse(cls, text: str) -> Gtid:
        parts = [p.strip() for p in text.split(",") if p.strip()]
        if not all(_GTID.fullmatch(p) for p in parts):
            raise ValueError(f"not a GTID position: {text!r}")
        return cls(tuple(sorted(tuple(int(n) for n in p.split("-")) for p in parts)))

    def covers(self, other: Gtid) -> bool:
        mine = {domain: seq for domain, _, seq in self.seqno}
        return all(mine.get(domain, -1) >= seq for domain, _, seq in other.seqno)

    def __str__(self) -> str:
        return ",".join(f"{d}-{s}-{n}" for d, s, n in self.seqno)


# --- what each server says ------------------------------------------------------------


@dataclass(frozen=True)
class ReplicaReading:
    replicating: bool
    position: Lsn | Gtid | None = None
    replaying: bool = True
    #: The server's own estimate of the lag (seconds), when it has one.
    server_lag: float | None = None


class PostgresProbe:
    vendor = "postgresql"
    parse = staticmethod(Lsn.parse)

    def primary_position(self, cursor) -> Lsn:
        cursor.execute("SELECT pg_current_wal_lsn()::text")
        return Lsn.parse(cursor.fetchone()[0])

    def replica(self, cursor) -> ReplicaReading:
        cursor.execute("SELECT pg_is_in_recovery()")
        if not cursor.fetchone()[0]:
            return ReplicaReading(replicating=False)
        cursor.execute(
            "SELECT pg_last_wal_replay_lsn()::text, pg_is_wal_replay_paused(),"
            " extract(epoch FROM clock_timestamp() - pg_last_xact_replay_timestamp())::float8"
        )
        lsn, paused, since_replay = cursor.fetchone()
        return ReplicaReading(
            replicating=lsn is not None,
            position=Lsn.parse(lsn) if lsn else None,
            replaying=not paused,
            server_lag=since_replay,
        )

    def has_applied(self, cursor, position: Lsn, wait: float) -> bool:
        deadline = time.monotonic() + wait
        while True:
            cursor.execute("SELECT coalesce(pg_last_wal_replay_lsn() >= %s::pg_lsn, false)", [str(position)])
            if cursor.fetchone()[0]:
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(POLL_SECONDS)


#: MariaDB's "access denied; you need the ... privilege" errors.
NO_PRIVILEGE = frozenset({1142, 1227})


def _error_code(exc: BaseException) -> int | None:
    cause = exc.__cause__
    return cause.args[0] if cause is not None and cause.args and isinstance(cause.args[0], int) else None


class MariaDBProbe:
    vendor = "mysql"
    parse = staticmethod(Gtid.parse)

    def primary_position(self, cursor) -> Gtid:
        cursor.execute("SELECT @@gtid_binlog_pos")
        return Gtid.parse(cursor.fetchone()[0] or "")

    def replica(self, cursor) -> ReplicaReading:
        try:
            cursor.execute("SHOW SLAVE STATUS")
        except DatabaseError as exc:
            if _error_code(exc) in NO_PRIVILEGE:
                return ReplicaReading(replicating=False)  # the account may read, not watch replication
            raise
        row = cursor.fetchone()
        if row is None:
            return ReplicaReading(replicating=False)
        status = dict(zip((c[0] for c in cursor.description), row, strict=False))
        cursor.execute("SELECT @@gtid_slave_pos")
        behind = status.get("Seconds_Behind_Master")
        return ReplicaReading(
            replicating=True,
            position=Gtid.parse(cursor.fetchone()[0] or ""),
            replaying=status.get("Slave_SQL_Running") == "Yes",
            server_lag=None if behind is None else float(behind),
        )

    def has_applied(self, cursor, position: Gtid, wait: float) -> bool:
        cursor.execute("SELECT MASTER_GTID_WAIT(%s, %s)", [str(position), wait])
        return cursor.fetchone()[0] == 0


def probe_for(alias: str):
    """The probe for the server behind ``alias``; None when its replication cannot be read."""
    connection = connections[alias]
    if connection.vendor == "postgresql":
        return PostgresProbe()
    if connection.vendor == "mysql":
        connection.ensure_connection()
        if connection.mysql_is_mariadb:
            return MariaDBProbe()
    return None


# --- the replica's status ---------------------------------------------------------------


@dataclass(frozen=True)
class ReplicaStatus:
    #: streaming, lagging, replay stopped, unreachable, not measured
    state: str
    serves_reads: bool
    lag: float | None = None
    limit: float = DEFAULT_MAX_LAG
    #: Replay is paused (PostgreSQL) or the SQL thread stopped (MariaDB).
    replay_stopped: bool = False
    #: The replica had not applied the primary's position when it was read.
    behind: bool = False
    #: The driver's first line when a server did not answer: for staff and the log only.
    detail: str = ""

    def describe(self) -> str:
        """One line: where reads go and why."""
        if self.state == "unreachable":
            return "reads from the primary: the replica does not answer"
        if self.lag is None:
            return "reads from the replica (lag not measured)"
        stopped = ", replay stopped" if self.replay_stopped else ""
        if not self.serves_reads:
            return f"reads from the primary: the replica is {self.lag:.1f} s behind (limit {self.limit:g} s{stopped})"
        return f"reads from the replica ({self.lag:.1f} s behind{stopped})"

    def as_json(self) -> dict:
        return {
            "state": self.state,
            "lag_seconds": None if self.lag is None else round(self.lag, 3),
            "max_lag_seconds": self.limit,
            "reads": "replica" if self.serves_reads else "primary",
            "reason": self.describe(),
        }


def _alias_key(alias: str) -> tuple:
    config = connections.settings.get(alias, {})
    return tuple(str(config.get(k)) for k in ("ENGINE", "HOST", "PORT", "NAME"))


class LagTracker:
    """The replica's lag for one primary/replica pair, shared by the threads of a process."""

    def __init__(self):
        self._lock = threading.Lock()
        self._history: deque = deque()  # (monotonic time, primary position), oldest first, at most HISTORY
        self._seeded = False
        self.status: ReplicaStatus | None = None
        self.checked_at = float("-inf")
        self.replica_position = None

    def current(self, primary: str, replica: str, max_age: float = REFRESH_SECONDS) -> ReplicaStatus:
        if self.status is not None and time.monotonic() - self.checked_at < max_age:
            return self.status
        # One thread reads the servers; the others keep the previous reading meanwhile.
        if not self._lock.acquire(blocking=self.status is None or max_age <= 0):
            return self.status
        try:
            if self.status is None or time.monotonic() - self.checked_at >= max_age:
                self.status = self._check(primary, replica)
                self.checked_at = time.monotonic()
            return self.status
        finally:
            self._lock.release()

    def _check(self, primary: str, replica: str) -> ReplicaStatus:
        limit = max_lag()
        try:
            probe = probe_for(replica)
            if probe is None:
                return ReplicaStatus("not measured", True, limit=limit)
            with connections[replica].cursor() as cursor:
                reading = probe.replica(cursor)
        except DatabaseError as exc:
            connections[replica].close()
            return ReplicaStatus("unreachable", False, limit=limit, detail=first_line(exc))
        if not reading.replicating or reading.position is None:
            return ReplicaStatus("not measured", True, limit=limit)
        self.replica_position = reading.position
        now = time.monotonic()
        try:
            with connections[primary].cursor() as cursor:
                position = probe.primary_position(cursor)
        except (DatabaseError, ValueError):
            position = None  # the primary's own trouble shows elsewhere: judge by the server's estimate
        behind = position is not None and not reading.position.covers(position)
        fresh = not self._history or (self._history[-1][1] != position and len(self._history) < HISTORY)
        if behind and fresh:
            seed = reading.server_lag if not self._seeded and reading.server_lag else 0.0
            self._history.append((now - max(seed, 0.0), position))
        self._seeded = True
        while self._history and reading.position.covers(self._history[0][1]):
            self._history.popleft()
        if position is None:
            lag = reading.server_lag or 0.0
        else:
            lag = now - self._history[0][0] if self._history else 0.0
            if isinstance(probe, MariaDBProbe) and reading.server_lag is not None and self._history:
                lag = max(lag, reading.server_lag)
        serves = lag <= limit
        state = "streaming" if serves else "lagging"
        if not reading.replaying:
            state = "replay stopped"
        return ReplicaStatus(
            state, serves, lag=lag, limit=limit, replay_stopped=not reading.replaying, behind=bool(self._history)
        )


_trackers: dict[tuple, LagTracker] = {}
_trackers_lock = threading.Lock()


def tracker(primary: str | None = None, replica: str | None = None) -> LagTracker:
    primary = primary or settings.NOVA_DB_ALIAS
    replica = replica or settings.NOVA_REPLICA_ALIAS
    key = (_alias_key(primary), _alias_key(replica))
    with _trackers_lock:
        return _trackers.setdefault(key, LagTracker())


def replica_status(
    primary: str | None = None, replica: str | None = None, *, max_age: float = REFRESH_SECONDS
) -> ReplicaStatus:
    """The replica's status, read at most once per ``max_age`` seconds in this process (0: now)."""
    primary = primary or settings.NOVA_DB_ALIAS
    replica = replica or settings.NOVA_REPLICA_ALIAS
    return tracker(primary, replica).current(primary, replica, max_age)


def check_again() -> None:
    """A read on the replica just failed: the next status asked for in this process reads the servers again."""
    tracker().checked_at = float("-inf")


def forget() -> None:
    """Drop every remembered reading (tests that repoint the aliases)."""
    with _trackers_lock:
        _trackers.clear()


# --- causal reads -------------------------------------------------------------------------


def primary_position(alias: str | None = None) -> str | None:
    """``vendor:position`` of the primary now (after a commit); None when it cannot be read."""
    alias = alias or settings.NOVA_DB_ALIAS
    try:
        probe = probe_for(alias)
        if probe is None:
            return None
        with connections[alias].cursor() as cursor:
            return f"{probe.vendor}:{probe.primary_position(cursor)}"
    except (DatabaseError, ValueError):
        return None


def parse_token(token: str, alias: str | None = None):
    """The position in a ``vendor:position`` token, for the server behind ``alias``; None if it is not one."""
    vendor, _, text = (token or "").partition(":")
    alias = alias or settings.NOVA_DB_ALIAS
    try:
        probe = probe_for(alias)
    except DatabaseError:
        return None
    if probe is None or probe.vendor != vendor:
        return None
    try:
        return probe.parse(text)
    except (ValueError, IndexError):
        return None


def replica_has_applied(token: str, *, wait: float | None = None, replica: str | None = None) -> bool:
    """True once the replica has applied the write at ``token``, waiting at most ``wait`` seconds."""
    replica = replica or settings.NOVA_REPLICA_ALIAS
    position = parse_token(token)
    if position is None:
        return True  # not a position of this primary (forged, or another server's): nothing to wait for
    follow = tracker(replica=replica)
    if follow.status is not None and follow.status.state == "not measured":
        return False  # no position to compare with: the writer keeps reading the primary
    known = follow.replica_position
    if known is not None and type(known) is type(position) and known.covers(position):
        return True
    try:
        probe = probe_for(replica)
        if probe is None:
            return False
        with connections[replica].cursor() as cursor:
            return probe.has_applied(cursor, position, causal_wait() if wait is None else wait)
    except DatabaseError:
        connections[replica].close()
        return False
