"""The sync policy, callable without a command: survey, refuse, back up, apply, conclude.

``db_sync``, ``db_expand``, ``db_migrate`` and ``db_contract`` are thin over
:class:`SyncExecutor` (they print, it decides); the admin schema page and the
undo machinery can call it too. A refusal is a :class:`SyncRefused` carrying
the exit code nova-manage would give (1 flow control, 2 bad input), its one
line, the details a caller may show, and the differences behind it.

Each run: take the sync lock (:mod:`schema.locking`), plan from the live
schema (:mod:`schema.plan`), refuse what must not happen (a newer database,
one that is not Nova's, an uncontrolled one that differs, pending earlier
phases, data loss: :mod:`schema.destructive`), then run the phases in order
and write ``migrate_version`` only when the schema matches the models.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from . import sync_state
from .dependents import Dependent
from .dependents import find as find_dependents
from .destructive import Loss, assess, back_up
from .dialects import dialect_for
from .engine import Comparison, compare
from .exit_codes import EXIT_FLOW, EXIT_USAGE
from .models import MODELS_VERSION
from .operations import CreateTable
from .phases import PHASES
from .plan import Plan, apply_statements, build_plan, kept_tables
from .seed import FLAVOR_TABLE, seed_default_flavors
from .versioning import identify, set_version, version_or_none

#: Tables of a Django project's own database (auth, sessions, admin log, migrations).
DJANGO_TABLE_PREFIXES = ("django_", "auth_")


class SyncRefused(Exception):
    """The run must not go on: ``code`` (nova-manage's), one line, details, the differences behind it."""

    def __init__(self, code: int, message: str, *, details=(), differences=None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = list(details)
        self.differences = differences


@dataclass
class Survey:
    """The live database, as a run finds it (under the lock)."""

    comparison: Comparison
    plan: Plan
    version: int | None
    phase: str | None
    uncontrolled: bool
    #: "Nova main database managed by alembic ..." when another release made it
    release: str | None = None


@dataclass
class SyncResult:
    steps: list
    backups: list = field(default_factory=list)
    seeded: int = 0
    matched: bool = False
    left: dict = field(default_factory=dict)
    kept: list = field(default_factory=list)
    version: int | None = None


class SyncExecutor:
    def __init__(
        self,
        connection,
        *,
        phases=PHASES,
        records: str = "sync",
        allow_destructive: bool = False,
        drop_tables=(),
        database: str | None = None,
        warn=None,
    ):
        self.connection = connection
        self.phases = tuple(phases)
        self.records = records
        self.allow_destructive = allow_destructive
        self.drop_tables = list(drop_tables)
        self.database = database or connection.alias
        self.warn = warn or (lambda message: None)

    # ---- survey ----------------------------------------------------------------------------
    def survey(self) -> Survey:
        connection = self.connection
        comparison = compare(connection)
        live = comparison.live
        version = version_or_none(connection) if "migrate_version" in live else None
        release = identify(connection, live.tables)
        if release is not None and release.newer:
            raise SyncRefused(
                EXIT_FLOW,
                f"{release.summary}: this tool is older than that database; not syncing it "
                "(manage it with the Nova release that made it)",
            )
        phase = sync_state.read_phase(connection, live.tables)
        nova_tables = [t for t in comparison.expected.tables if t != "migrate_version" and t in live]
        self._refuse_foreign_database(nova_tables, live)
        self._check_drop_tables(comparison)
        uncontrolled = version is None and phase is None and bool(nova_tables)
        plan = build_plan(connection, comparison, self.drop_tables)
        return Survey(comparison, plan, version, phase, uncontrolled, release.summary if release else None)

    def _refuse_foreign_database(self, nova_tables, live) -> None:
        """A database with Django's own tables and no Nova table is not a Nova database (exit 2)."""
        django_tables = sorted(t for t in live.tables if t.startswith(DJANGO_TABLE_PREFIXES))
        if django_tables and not nova_tables:
            raise SyncRefused(
                EXIT_USAGE,
                f"database '{self.database}' holds Django's own tables ({', '.join(django_tables[:3])}"
                f"{', ...' if len(django_tables) > 3 else ''}) and no Nova table: it is not a Nova database; "
                "point --database at the Nova database",
            )

    def _check_drop_tables(self, comparison) -> None:
        extra = {d.table for d in comparison.result.differences if d.kind == "extra_table"}
        for name in self.drop_tables:
            if name in extra:
                continue
            if name in comparison.expected.tables:
                reason = "it is one of Nova's tables (the models have it)"
            elif name in comparison.live.tables:
                reason = "it is one of novaweb's own tables"
            else:
                reason = "there is no such table"
            raise SyncRefused(EXIT_USAGE, f"--drop-table {name}: {reason}")

    def kept_tables(self, comparison) -> list[str]:
        return kept_tables(comparison.result.differences, self.drop_tables)

    def uncontrolled_differences(self, survey: Survey):
        kept = set(self.kept_tables(survey.comparison))
        return [
            d
            for d in survey.comparison.result.differences
            if not (d.table == "migrate_version" and d.kind == "missing_table")
            and not (d.kind == "extra_table" and d.table in kept)
        ]

    def steps(self, survey: Survey) -> list:
        return survey.plan.in_phases(self.phases)

    def completes(self, survey: Survey) -> bool:
        """Whether these phases leave nothing for later ones."""
        return not [s for s in survey.plan.steps if s.phase not in self.phases]

    def dependents(self, survey: Survey) -> list[Dependent]:
        """What other objects read of what these phases drop or retype (views, foreign keys)."""
        return find_dependents(self.connection, [s.operation for s in self.steps(survey)], survey.comparison.live)

    def losses(self, survey: Survey) -> list[Loss]:
        steps = self.steps(survey)
        return assess(self.connection, [s.operation for s in steps if s.phase == "contract"], survey.comparison.live)

    # ---- refusals ------------------------------------------------------------------------------
    def refuse_uncontrolled(self, survey: Survey) -> None:
        differences = self.uncontrolled_differences(survey) if survey.uncontrolled else []
        if differences:
            raise SyncRefused(
                EXIT_FLOW,
                f"the database has Nova's tables but is not under version control, and its schema differs "
                f"from the models at version {MODELS_VERSION} in {len(differences)} ways: not taking it over",
                differences=differences,
            )

    def check(self, survey: Survey) -> list[Loss]:
        """Every refusal before a change; returns the losses the run accepts (with the flag)."""
        self.refuse_uncontrolled(survey)
        if self.phases == PHASES and survey.phase in ("expand", "migrate"):
            raise SyncRefused(
                EXIT_FLOW, f"a phased upgrade is in progress (db_{survey.phase} has run): run db_contract first"
            )
        earlier = PHASES[: PHASES.index(self.phases[0])]
        pending = {p: n for p, n in survey.plan.pending().items() if p in earlier}
        if pending:
            what = " and ".join(f"{p} ({n} operations)" for p, n in pending.items())
            run = " then ".join(f"db_{p}" for p in pending)
            raise SyncRefused(EXIT_FLOW, f"{what} work is pending: run {run} first")
        readers = self.dependents(survey)
        if readers:
            raise SyncRefused(
                EXIT_FLOW,
                f"{len(readers)} objects read what this sync would drop or retype (even with "
                "--allow-destructive): drop or change them first, then run again",
                details=[f"refused: {d.describe()}" for d in readers],
            )
        losses = self.losses(survey)
        blocking = [loss for loss in losses if loss.blocking]
        if blocking:
            raise SyncRefused(
                EXIT_FLOW,
                f"{len(blocking)} operations cannot keep the data that is there (even with --allow-destructive): "
                "fix those rows first",
                details=[f"refused: {loss.describe()}" for loss in blocking],
            )
        if losses and not self.allow_destructive:
            raise SyncRefused(
                EXIT_FLOW,
                f"{len(losses)} operations would destroy data: run again with --allow-destructive "
                "to copy it into backup tables and go ahead",
                details=[f"refused: {loss.describe()} would be lost" for loss in losses],
            )
        return losses

    def nothing_to_do(self, survey: Survey) -> bool:
        if self.steps(survey) or survey.version != MODELS_VERSION:
            return False
        if survey.phase is not None and self.completes(survey):
            sync_state.clear_phase(self.connection)
        return True

    # ---- applying --------------------------------------------------------------------------------
    def back_up(self, survey: Survey, losses: list[Loss]) -> list:
        """Record the phase, then copy what the accepted losses destroy: ``[(backup, rows, loss)]``."""
        steps = self.steps(survey)
        sync_state.record_phase(self.connection, self.records if steps else survey.phase or self.records)
        return back_up(self.connection, losses)

    def apply(self, survey: Survey) -> int:
        """Run the phases' statements in order; seed the default flavors when the table is new. Rows seeded."""
        steps = self.steps(survey)
        resumed = survey.phase is not None and survey.version is None
        for phase in self.phases:
            statements = [st for s in steps if s.phase == phase for st in s.statements]
            apply_statements(self.connection, statements, warn=self.warn)
        if creates_flavors(steps) or (resumed and self._flavors_missing()):
            return seed_default_flavors(self.connection)
        return 0

    def _flavors_missing(self) -> bool:
        with self.connection.cursor() as cursor:
            cursor.execute(f"SELECT COUNT(*) FROM {dialect_for(self.connection).quote(FLAVOR_TABLE)}")
            return cursor.fetchone()[0] == 0

    def conclude(self, survey: Survey, steps, backups, seeded) -> SyncResult:
        """Compare again: version and phase bookkeeping; what is left."""
        after = compare(self.connection)
        kept = self.kept_tables(after)
        matched = all(d.kind == "extra_table" and d.table in kept for d in after.result.differences)
        if matched:
            if survey.version != MODELS_VERSION:
                set_version(self.connection)
            sync_state.clear_phase(self.connection)
        else:
            sync_state.record_phase(self.connection, self.records)
        left = build_plan(self.connection, after, self.drop_tables).pending() if not matched else {}
        version = MODELS_VERSION if matched else survey.version
        return SyncResult(steps, backups, seeded, matched, left, kept, version)


def creates_flavors(steps) -> bool:
    return any(isinstance(s.operation, CreateTable) and s.operation.table == FLAVOR_TABLE for s in steps)
