"""Run the registered data migrations in passes, as ``nova-manage db online_data_migrations`` does.

A pass gives each migration in turn what is left of a budget of ``max_count``
rows, until the budget is spent. Each migration's batch runs in its own
transaction: a migration that fails is rolled back, reported, and the others
still run. Without a limit, passes of 50 repeat until one migrates nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import transaction

from .batches import forget_marks
from .registry import DataMigration, forget_pending_counts, registered

DEFAULT_BATCH = 50


@dataclass
class Tally:
    found: int = 0
    done: int = 0
    errors: list[str] = field(default_factory=list)


@dataclass
class Run:
    """What the passes did: per migration, rows found and migrated, and errors."""

    tallies: dict[str, Tally] = field(default_factory=dict)
    #: rows migrated by the last pass, and whether a migration failed in it
    last_pass_done: int = 0
    last_pass_failed: bool = False
    passes: int = 0
    limited: bool = False

    @property
    def failed(self) -> dict[str, list[str]]:
        return {name: t.errors for name, t in self.tallies.items() if t.errors}

    @property
    def exit_code(self) -> int:
        """Nova's: 2 failures (fatal with a limit only when nothing else was done), 1 rows done, 0 nothing left."""
        if self.last_pass_failed and (not self.limited or not self.last_pass_done):
            return 2
        return 1 if self.last_pass_done else 0


#: called after each migration's batch: (name, found, done, error or None)
Report = Callable[[str, int, int, str | None], None]


def describe_error(exc: BaseException) -> str:
    text = str(exc).strip()
    first = text.splitlines()[0] if text else ""
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__


def run_pass(connection, max_count: int, run: Run, migrations: list[DataMigration], report: Report) -> int:
    """One pass over ``migrations`` sharing ``max_count`` rows; returns the rows migrated."""
    ran = 0
    run.last_pass_failed = False
    for migration in migrations:
        error = None
        try:
            with transaction.atomic(using=connection.alias):
                found, done = migration(connection, max_count - ran)
        except Exception as exc:  # noqa: BLE001 -- one failing migration must not stop the others
            found = done = 0
            error = describe_error(exc)
        tally = run.tallies.setdefault(migration.name, Tally())
        tally.found += found
        tally.done += done
        if error:
            tally.errors.append(error)
            run.last_pass_failed = True
        report(migration.name, found, done, error)
        ran += done
        if ran >= max_count:
            break
    run.passes += 1
    run.last_pass_done = ran
    return ran


def run_migrations(
    connection,
    max_count: int | None = None,
    *,
    migrations: list[DataMigration] | None = None,
    report: Report,
    batch: int = DEFAULT_BATCH,
) -> Run:
    """One pass of ``max_count`` rows, or (``None``) passes of ``batch`` until a pass migrates nothing."""
    migrations = registered() if migrations is None else migrations
    forget_marks()  # every run starts from the first row of every table
    forget_pending_counts(connection)
    run = Run({m.name: Tally() for m in migrations}, limited=max_count is not None)
    if max_count is not None:
        run_pass(connection, max_count, run, migrations, report)
        forget_pending_counts(connection)
        return run
    while run_pass(connection, batch, run, migrations, report):
        pass
    forget_pending_counts(connection)
    return run
