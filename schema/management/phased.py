"""What ``db_sync``, ``db_expand``, ``db_migrate`` and ``db_contract`` share.

Each run: take the sync lock (:mod:`schema.locking`), plan from the live
schema (:mod:`schema.plan`), refuse what must not happen (a newer database,
an uncontrolled one that differs, pending earlier phases, data loss), then
run the command's phases in order and write ``migrate_version`` only when the
schema matches the models. ``--dry-run`` prints the plan and changes nothing
(no lock either: it only reads).
"""

from __future__ import annotations

from dataclasses import dataclass

from schema import sync_state
from schema.destructive import assess, back_up
from schema.dialects import dialect_for
from schema.engine import compare
from schema.locking import LockTimeout, SyncLock
from schema.management.base import EXIT_FLOW, EXIT_USAGE, CommandExit, NovaCommand
from schema.models import MODELS_VERSION
from schema.names import printable, shell_word, sql_comment
from schema.operations import CreateTable
from schema.phases import PHASES
from schema.plan import (
    PlanError,
    StalePlan,
    apply_statements,
    build_plan,
    kept_tables,
    verify_plan_file,
)
from schema.plan_file import load_plan_file
from schema.reporting import format_rows
from schema.seed import DEFAULT_FLAVORS, seed_default_flavors
from schema.versioning import identify, set_version, version_or_none

FLAVOR_TABLE = "instance_types"
#: Tables of a Django project's own database (auth, sessions, admin log, migrations).
DJANGO_TABLE_PREFIXES = ("django_", "auth_")


@dataclass
class Survey:
    """The live database, as a run finds it (under the lock)."""

    comparison: object
    plan: object
    version: int | None
    phase: str | None
    uncontrolled: bool


class PhasedCommand(NovaCommand):
    json_output = True
    #: the phases this command runs, in order
    phases: tuple = PHASES
    #: the phase recorded when this command leaves work for later phases
    records: str = "sync"

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Print the ordered DDL and change nothing.")
        parser.add_argument(
            "--plan", metavar="FILE", help="Apply this plan (from --dry-run --format json) if the schema is unchanged."
        )
        parser.add_argument(
            "--allow-destructive",
            action="store_true",
            help="Let contract operations drop data, after copying it into backup tables.",
        )
        parser.add_argument(
            "--drop-table",
            action="append",
            default=[],
            metavar="NAME",
            help="Drop this table that the models do not have (repeatable; backed up first, needs "
            "--allow-destructive when it holds rows). Without it such tables are left alone.",
        )

    # ---- output -------------------------------------------------------------------------
    def say(self, message: str) -> None:
        """Progress for humans: stdout, or stderr when stdout is JSON."""
        (self.stderr if self.options["format"] == "json" else self.stdout).write(message)

    # ---- the run ----------------------------------------------------------------------------
    def handle(self, *args, **options):
        self.options = options
        self.check_options(options)
        connection = self.connect(options["database"])
        if options["dry_run"]:
            return self.dry_run(connection, self.survey(connection))
        try:
            with SyncLock(connection, notify=self.say):
                self.run(connection, self.survey(connection))
        except LockTimeout as exc:
            raise CommandExit(EXIT_FLOW, str(exc)) from None

    def check_options(self, options) -> None:
        if options["plan"] and options["dry_run"]:
            raise CommandExit(EXIT_USAGE, "--plan applies a plan; it does not go with --dry-run")

    def survey(self, connection) -> Survey:
        comparison = compare(connection)
        live = comparison.live
        version = version_or_none(connection) if "migrate_version" in live else None
        release = identify(connection, live.tables)
        if release is not None and release.newer:
            raise CommandExit(
                EXIT_FLOW,
                f"{release.summary}: this tool is older than that database; not syncing it "
                "(manage it with the Nova release that made it)",
            )
        if release is not None:
            self.say(release.summary)
        phase = sync_state.read_phase(connection, live.tables)
        nova_tables = [t for t in comparison.expected.tables if t != "migrate_version" and t in live]
        self.refuse_foreign_database(nova_tables, live)
        self.check_drop_tables(comparison)
        uncontrolled = version is None and phase is None and bool(nova_tables)
        plan = build_plan(connection, comparison, self.options["drop_table"])
        return Survey(comparison, plan, version, phase, uncontrolled)

    def refuse_foreign_database(self, nova_tables, live) -> None:
        """A database with Django's own tables and no Nova table is not a Nova database (exit 2)."""
        django_tables = sorted(t for t in live.tables if t.startswith(DJANGO_TABLE_PREFIXES))
        if django_tables and not nova_tables:
            raise CommandExit(
                EXIT_USAGE,
                f"database '{self.options['database']}' holds Django's own tables ({', '.join(django_tables[:3])}"
                f"{', ...' if len(django_tables) > 3 else ''}) and no Nova table: it is not a Nova database; "
                "point --database at the Nova database",
            )

    def check_drop_tables(self, comparison) -> None:
        extra = {d.table for d in comparison.result.differences if d.kind == "extra_table"}
        for name in self.options["drop_table"]:
            if name in extra:
                continue
            if name in comparison.expected.tables:
                reason = "it is one of Nova's tables (the models have it)"
            elif name in comparison.live.tables:
                reason = "it is one of novaweb's own tables"
            else:
                reason = "there is no such table"
            raise CommandExit(EXIT_USAGE, f"--drop-table {name}: {reason}")

    def kept_tables(self, comparison) -> list[str]:
        return kept_tables(comparison.result.differences, self.options["drop_table"])

    def report_kept(self, kept) -> None:
        for name in kept:
            self.say(
                f"Left table {printable(name)} alone: it is not in Nova's models "
                f"(db_drift lists it; drop it with --drop-table {shell_word(name)})"
            )

    def refuse_unsafe(self, connection, survey: Survey) -> list:
        """Every refusal before a change; returns the losses the run accepts (with the flag)."""
        if survey.uncontrolled:
            self.refuse_uncontrolled(survey)
        if self.phases == PHASES and survey.phase in ("expand", "migrate"):
            raise CommandExit(
                EXIT_FLOW,
                f"a phased upgrade is in progress (db_{survey.phase} has run): run db_contract first",
            )
        earlier = PHASES[: PHASES.index(self.phases[0])]
        pending = {p: n for p, n in survey.plan.pending().items() if p in earlier}
        if pending:
            what = " and ".join(f"{p} ({n} operations)" for p, n in pending.items())
            run = " then ".join(f"db_{p}" for p in pending)
            raise CommandExit(EXIT_FLOW, f"{what} work is pending: run {run} first")
        steps = survey.plan.in_phases(self.phases)
        losses = assess(connection, [s.operation for s in steps if s.phase == "contract"], survey.comparison.live)
        blocking = [loss for loss in losses if loss.blocking]
        if blocking:
            for loss in blocking:
                self.stderr.write(f"refused: {loss.describe()}")
            raise CommandExit(
                EXIT_FLOW,
                f"{len(blocking)} operations cannot keep the data that is there (even with --allow-destructive): "
                "fix those rows first",
            )
        if losses and not self.options["allow_destructive"]:
            for loss in losses:
                self.stderr.write(f"refused: {loss.describe()} would be lost")
            raise CommandExit(
                EXIT_FLOW,
                f"{len(losses)} operations would destroy data: run again with --allow-destructive "
                "to copy it into backup tables and go ahead",
            )
        return losses

    def refuse_uncontrolled(self, survey: Survey) -> None:
        differences = self.uncontrolled_differences(survey)
        if differences:
            refusal = (
                f"the database has Nova's tables but is not under version control, and its schema differs "
                f"from the models at version {MODELS_VERSION} in {len(differences)} ways: not taking it over"
            )
            if self.options["format"] == "json":
                self.emit_json(
                    {
                        "database": self.options["database"],
                        "error": refusal,
                        "exit_code": EXIT_FLOW,
                        "differences": [d.as_dict() for d in differences],
                    }
                )
            else:
                self.stdout.write(
                    format_rows(
                        ("TABLE", "DIFFERENCE", "OBJECT", "EXPECTED", "FOUND"),
                        [(d.table, d.kind, d.object, d.expected or "-", d.found or "-") for d in differences],
                    )
                )
            raise CommandExit(EXIT_FLOW, refusal)

    def uncontrolled_differences(self, survey: Survey):
        kept = set(self.kept_tables(survey.comparison))
        return [
            d
            for d in survey.comparison.result.differences
            if not (d.table == "migrate_version" and d.kind == "missing_table")
            and not (d.kind == "extra_table" and d.table in kept)
        ]

    # ---- dry run ------------------------------------------------------------------------------
    def dry_run(self, connection, survey: Survey) -> None:
        if survey.uncontrolled:
            self.refuse_uncontrolled(survey)
        steps = survey.plan.in_phases(self.phases)
        live = survey.comparison.live
        losses = assess(connection, [s.operation for s in steps if s.phase == "contract"], live)
        if self.options["format"] == "json":
            data = survey.plan.as_dict(self.phases, database=self.options["database"])
            data["losses"] = [loss.as_dict() for loss in losses]
            self.emit_json(data)
            return
        for phase in self.phases:
            in_phase = [s for s in steps if s.phase == phase]
            if in_phase:
                self.stdout.write(f"-- {phase}: {len(in_phase)} operations")
            for step in in_phase:
                self.stdout.write(sql_comment(step.operation.description))  # a name cannot end the comment
                for statement in step.statements:
                    self.stdout.write(statement.sql.rstrip(";") + ";")
                    if statement.fallback:
                        self.stdout.write(sql_comment(f"if refused online (with a warning): {statement.fallback};"))
        for loss in losses:
            rule = "refused even with --allow-destructive" if loss.blocking else "needs --allow-destructive"
            self.stdout.write(sql_comment(f"{rule}: {loss.describe()}"))
        if self.creates_flavors(steps):
            self.stdout.write(f"-- then insert the {len(DEFAULT_FLAVORS)} default flavors into {FLAVOR_TABLE}")
        if survey.version != MODELS_VERSION and self.completes(survey):
            self.stdout.write(f"-- then set migrate_version to {MODELS_VERSION}")

    def completes(self, survey: Survey) -> bool:
        """Whether this command's phases leave nothing for later ones."""
        return not [s for s in survey.plan.steps if s.phase not in self.phases]

    @staticmethod
    def creates_flavors(steps) -> bool:
        return any(isinstance(s.operation, CreateTable) and s.operation.table == FLAVOR_TABLE for s in steps)

    # ---- applying --------------------------------------------------------------------------------
    def run(self, connection, survey: Survey) -> None:
        steps = survey.plan.in_phases(self.phases)
        if self.options["plan"]:
            try:
                verify_plan_file(load_plan_file(self.options["plan"]), survey.plan, self.phases)
            except PlanError as exc:
                raise CommandExit(EXIT_USAGE, str(exc)) from None
            except StalePlan as exc:
                raise CommandExit(EXIT_FLOW, f"refusing the plan: {exc}") from None
        losses = self.refuse_unsafe(connection, survey)
        if not steps and survey.version == MODELS_VERSION:
            if survey.phase is not None and self.completes(survey):
                sync_state.clear_phase(connection)
            return self.report_nothing(survey)

        resumed = survey.phase is not None and survey.version is None
        sync_state.record_phase(connection, self.records if steps else survey.phase or self.records)
        backups = back_up(connection, losses)
        for name, count, loss in backups:
            self.say(f"Backed up {count} rows for '{loss.operation.description}' into {name}")
        for phase in self.phases:
            statements = [st for s in steps if s.phase == phase for st in s.statements]
            apply_statements(connection, statements, warn=self.stderr.write)
        seeded = 0
        if self.creates_flavors(steps) or (resumed and self.flavors_missing(connection)):
            seeded = seed_default_flavors(connection)
        self.finish(connection, survey, steps, backups, seeded)

    @staticmethod
    def flavors_missing(connection) -> bool:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT COUNT(*) FROM {dialect_for(connection).quote(FLAVOR_TABLE)}")
            return cursor.fetchone()[0] == 0

    def finish(self, connection, survey, steps, backups, seeded) -> None:
        after = compare(connection)
        statements = sum(len(s.statements) for s in steps)
        kept = self.kept_tables(after)
        matched = all(d.kind == "extra_table" and d.table in kept for d in after.result.differences)
        if matched:
            if survey.version != MODELS_VERSION:
                set_version(connection)
            sync_state.clear_phase(connection)
        else:
            sync_state.record_phase(connection, self.records)
        left = build_plan(connection, after, self.options["drop_table"]).pending() if not matched else {}
        if self.options["format"] == "json":
            self.emit_json(
                {
                    "database": self.options["database"],
                    "vendor": connection.vendor,
                    "applied": [s.as_dict() for s in steps],
                    "backups": [{"table": name, "rows": count, **loss.as_dict()} for name, count, loss in backups],
                    "flavors_seeded": seeded,
                    "version": MODELS_VERSION if matched else survey.version,
                    "pending": left,
                    "kept_tables": kept,
                }
            )
        else:
            self.report_kept(kept)
            self.report_done(survey, steps, statements, seeded, matched, left)
        if not matched and self.completes(survey):
            raise CommandExit(
                EXIT_FLOW, f"the schema still differs from the models ({left}); the version was not recorded"
            )

    def report_done(self, survey, steps, statements, seeded, matched, left) -> None:
        created = sum(1 for s in steps if isinstance(s.operation, CreateTable))
        detail = f"{statements} statements" + (f", {created} tables created" if created else "")
        detail += f", {len(DEFAULT_FLAVORS)} default flavors" if seeded else ""
        if matched and survey.uncontrolled:
            self.stdout.write(
                f"The database was not under version control and its schema matches the models: "
                f"now under version control at version {MODELS_VERSION} ({detail})."
            )
            return
        if matched:
            self.stdout.write(f"Schema synced to version {MODELS_VERSION}: {detail}.")
            return
        names = " and ".join(left)
        nxt = PHASES[PHASES.index(self.phases[-1]) + 1]
        self.stdout.write(f"{self.phases[-1].capitalize()} done: {detail}; {names} work left: run db_{nxt} next.")

    def report_nothing(self, survey: Survey) -> None:
        left = {p: n for p, n in survey.plan.pending().items() if p not in self.phases}
        kept = self.kept_tables(survey.comparison)
        if self.options["format"] == "json":
            self.emit_json(
                {
                    "database": self.options["database"],
                    "applied": [],
                    "version": survey.version,
                    "pending": left,
                    "kept_tables": kept,
                }
            )
            return
        self.report_kept(kept)
        if left:
            self.stdout.write(f"Nothing to do for {'/'.join(self.phases)}; pending: {left}.")
        else:
            self.stdout.write(f"Nothing to do: the schema is at version {MODELS_VERSION}.")
