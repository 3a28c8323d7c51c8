"""``--max-replica-lag SECONDS``: long writes that let the read replica keep up.

As pt-archiver's ``--check-slave-lag`` does, a command that writes in
batches (``db_archive_deleted_rows``, ``db_online_data_migrations``) calls
:class:`ReplicaLagGate` between batches; while the replica
(``NOVA_REPLICA_DATABASE_URL``) is further behind than SECONDS, does not
answer, or has stopped applying changes that wait for it, the gate waits,
saying so on stderr ("waiting for the replica: 3.2 s behind, replay
stopped, limit 1 s"), below the progress bar on a terminal. The lag is
:mod:`novaweb.replication`'s (positions compared, read at most once a
second).
"""

from __future__ import annotations

import time

from django.conf import settings
from django.core.management.base import CommandError
from django.db import connections

from novaweb import replication

#: How often the gate looks again while it waits.
POLL_SECONDS = 0.25
#: How often a wait that goes on is reported again.
REPORT_SECONDS = 5.0


def add_argument(parser) -> None:
    parser.add_argument(
        "--max-replica-lag",
        dest="max_replica_lag",
        type=float,
        metavar="SECONDS",
        help="Between batches, wait while the read replica (NOVA_REPLICA_DATABASE_URL) is more than SECONDS behind "
        "the primary or does not answer.",
    )


class ReplicaLagGate:
    """``gate()`` between batches: returns once the replica is at most ``seconds`` behind."""

    def __init__(self, seconds: float | None, primary: str, *, stderr, usage_exit: int, progress=None):
        self.seconds = seconds
        self.primary = primary
        self.replica = settings.NOVA_REPLICA_ALIAS
        self.stderr = stderr
        self.progress = progress
        self.waited = 0.0
        self.waits = 0
        self.calls = 0
        if seconds is None:
            return
        if seconds < 0 or seconds != seconds:  # NaN
            raise CommandError("--max-replica-lag must be a number of seconds, 0 or more", returncode=usage_exit)
        if self.replica not in connections.settings:
            raise CommandError(
                "--max-replica-lag needs a replica to watch: set NOVA_REPLICA_DATABASE_URL", returncode=usage_exit
            )
        status = self._status()
        if status.state == "not measured":
            raise CommandError(
                "--max-replica-lag: the replica's lag cannot be read (not a PostgreSQL standby or a MariaDB replica, "
                "or the account may not read its replication status)",
                returncode=usage_exit,
            )

    def _status(self, max_age: float = replication.REFRESH_SECONDS):
        return replication.replica_status(self.primary, self.replica, max_age=max_age)

    def _behind(self, status) -> bool:
        if status.state == "unreachable" or status.lag is None or status.lag > self.seconds:
            return True
        # A replica that has stopped applying with changes waiting: its lag can only grow (pt-archiver
        # waits on a NULL Seconds_Behind_Master the same way).
        return status.replay_stopped and status.behind

    def __call__(self) -> None:
        if self.seconds is None:
            return
        self.calls += 1
        # After the first batch the replica is read at once; after that at most once a second.
        status = self._status(max_age=0 if self.calls == 1 else replication.REFRESH_SECONDS)
        if not self._behind(status):
            return
        started = time.monotonic()
        reported = float("-inf")
        self.waits += 1
        while self._behind(status):
            now = time.monotonic()
            if now - reported >= REPORT_SECONDS:
                reported = now
                self._say(f"waiting for the replica: {self._how_far(status)}, limit {self.seconds:g} s")
            time.sleep(POLL_SECONDS)
            status = self._status()
        waited = time.monotonic() - started
        self.waited += waited
        self._say(f"replica caught up ({status.lag or 0:.1f} s behind) after waiting {waited:.1f} s")

    @staticmethod
    def _how_far(status) -> str:
        if status.state == "unreachable":
            return "it does not answer"
        stopped = ", replay stopped" if status.replay_stopped else ""
        return f"{status.lag:.1f} s behind{stopped}"

    def _say(self, line: str) -> None:
        if self.progress is not None and self.progress.enabled:
            self.stderr.write("\n")  # below the bar's line, which the next batch redraws
        self.stderr.write(line)
        self.stderr.flush()
