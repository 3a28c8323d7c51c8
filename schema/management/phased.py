"""What ``db_sync``, ``db_expand``, ``db_migrate`` and ``db_contract`` share: the output.

The policy is :class:`schema.executor.SyncExecutor`'s (survey, refusals,
backups, apply, version bookkeeping); this module takes the lock, prints what
the executor decided (text or ``--format json``) and turns its refusals into
exit codes. ``--dry-run`` prints the plan and changes nothing (no lock either:
it only reads).
"""

from __future__ import annotations

from schema.executor import Survey, SyncExecutor, SyncRefused, creates_flavors
from schema.locking import LockTimeout, SyncLock
from schema.management.base import EXIT_FLOW, EXIT_USAGE, CommandExit, NovaCommand
from schema.models import MODELS_VERSION
from schema.names import printable, shell_word, sql_comment
from schema.operations import CreateTable
from schema.phases import PHASES
from schema.plan import PlanError, StalePlan, verify_plan_file
from schema.plan_file import load_plan_file
from schema.reporting import format_rows
from schema.seed import DEFAULT_FLAVORS, default_flavor_statements

__all__ = ["PhasedCommand", "Survey"]


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

    def executor(self, connection) -> SyncExecutor:
        return SyncExecutor(
            connection,
            phases=self.phases,
            records=self.records,
            allow_destructive=self.options["allow_destructive"],
            drop_tables=self.options["drop_table"],
            database=self.options["database"],
            warn=self.stderr.write,
        )

    def refused(self, exc: SyncRefused) -> CommandExit:
        """A refusal as the command answers it: details on stderr, the differences as a table or JSON."""
        if exc.differences is not None:
            if self.options["format"] == "json":
                self.emit_json(
                    {
                        "database": self.options["database"],
                        "error": exc.message,
                        "exit_code": exc.code,
                        "differences": [d.as_dict() for d in exc.differences],
                    }
                )
            else:
                self.stdout.write(
                    format_rows(
                        ("TABLE", "DIFFERENCE", "OBJECT", "EXPECTED", "FOUND"),
                        [(d.table, d.kind, d.object, d.expected or "-", d.found or "-") for d in exc.differences],
                    )
                )
        for line in exc.details:
            self.stderr.write(line)
        return CommandExit(exc.code, exc.message)

    def survey(self, connection) -> Survey:
        self.sync = self.executor(connection)
        try:
            survey = self.sync.survey()
        except SyncRefused as exc:
            raise self.refused(exc) from None
        if survey.release is not None:
            self.say(survey.release)
        return survey

    def kept_tables(self, comparison) -> list[str]:
        return self.sync.kept_tables(comparison)

    def report_kept(self, kept) -> None:
        for name in kept:
            self.say(
                f"Left table {printable(name)} alone: it is not in Nova's models "
                f"(db_drift lists it; drop it with --drop-table {shell_word(name)})"
            )

    def refuse_unsafe(self, connection, survey: Survey) -> list:
        """Every refusal before a change; returns the losses the run accepts (with the flag)."""
        try:
            return self.sync.check(survey)
        except SyncRefused as exc:
            raise self.refused(exc) from None

    # ---- dry run ------------------------------------------------------------------------------
    def dry_run(self, connection, survey: Survey) -> None:
        try:
            self.sync.refuse_uncontrolled(survey)
        except SyncRefused as exc:
            raise self.refused(exc) from None
        steps = self.sync.steps(survey)
        losses = self.sync.losses(survey)
        readers = self.sync.dependents(survey)
        if self.options["format"] == "json":
            data = survey.plan.as_dict(self.phases, database=self.options["database"])
            data["losses"] = [loss.as_dict() for loss in losses]
            data["dependents"] = [reader.as_dict() for reader in readers]
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
        for reader in readers:
            self.stdout.write(sql_comment(f"refused even with --allow-destructive: {reader.describe()}"))
        for loss in losses:
            rule = "refused even with --allow-destructive" if loss.blocking else "needs --allow-destructive"
            self.stdout.write(sql_comment(f"{rule}: {loss.describe()}"))
        if creates_flavors(steps):
            self.stdout.write(f"-- then the {len(DEFAULT_FLAVORS)} default flavors")
            for sql in default_flavor_statements(connection):
                self.stdout.write(sql.rstrip(";") + ";")
        if survey.version != MODELS_VERSION and self.sync.completes(survey):
            self.stdout.write(f"-- then set migrate_version to {MODELS_VERSION}")

    # ---- applying --------------------------------------------------------------------------------
    def run(self, connection, survey: Survey) -> None:
        steps = self.sync.steps(survey)
        if self.options["plan"]:
            try:
                verify_plan_file(load_plan_file(self.options["plan"]), survey.plan, self.phases)
            except PlanError as exc:
                raise CommandExit(EXIT_USAGE, str(exc)) from None
            except StalePlan as exc:
                raise CommandExit(EXIT_FLOW, f"refusing the plan: {exc}") from None
        losses = self.refuse_unsafe(connection, survey)
        if self.sync.nothing_to_do(survey):
            return self.report_nothing(survey)
        backups = self.sync.back_up(survey, losses)
        for name, count, loss in backups:
            self.say(f"Backed up {count} rows for '{loss.operation.description}' into {name}")
        seeded = self.sync.apply(survey)
        self.finish(connection, survey, steps, backups, seeded)

    def finish(self, connection, survey, steps, backups, seeded) -> None:
        result = self.sync.conclude(survey, steps, backups, seeded)
        statements = sum(len(s.statements) for s in steps)
        if self.options["format"] == "json":
            self.emit_json(
                {
                    "database": self.options["database"],
                    "vendor": connection.vendor,
                    "applied": [s.as_dict() for s in steps],
                    "backups": [{"table": name, "rows": count, **loss.as_dict()} for name, count, loss in backups],
                    "flavors_seeded": seeded,
                    "version": result.version,
                    "pending": result.left,
                    "kept_tables": result.kept,
                }
            )
        else:
            self.report_kept(result.kept)
            self.report_done(survey, steps, statements, seeded, result.matched, result.left)
        if not result.matched and self.sync.completes(survey):
            raise CommandExit(
                EXIT_FLOW, f"the schema still differs from the models ({result.left}); the version was not recorded"
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
