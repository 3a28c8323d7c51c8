"""Move soft-deleted rows into shadow tables: ``nova-manage db archive_deleted_rows``.

Exit codes (nova-manage's): 0 nothing was archived, 1 rows were archived
(automation runs it again while it returns 1), 2 bad ``--max_rows`` or a
shadow table that cannot take the rows, 4 bad ``--before``, 255 an
unexpected error. ``--max-replica-lag SECONDS`` waits
between batches while the read replica is further behind than that.
"""

import threading
import time

from django.core.management.base import CommandError

from schema.archive import Archiver, purge_shadow_tables
from schema.archive.shadow import ShadowMismatch
from schema.dates import InvalidDate, parse_date
from schema.management import replica_lag
from schema.management.base import EXIT_FLOW, EXIT_USAGE, NovaCommand
from schema.progress import Progress
from schema.reporting import format_rows

EXIT_BAD_BEFORE = 4
#: nova-manage's ceiling (a signed 32-bit integer).
MAX_INT = 2**31 - 1


class Command(NovaCommand):
    help = (
        "Move soft-deleted rows (deleted true) into shadow_<table> tables, rows that refer to a row before "
        "the row, one transaction per batch. Exit 0 when nothing was archived, 1 when rows were archived "
        "(run it again while it returns 1), 2 for a bad --max_rows, 4 for a bad --before."
    )
    json_output = True

    def add_arguments(self, parser):
        parser.add_argument(
            "--max_rows",
            "--max-rows",
            dest="max_rows",
            default="1000",
            metavar="N",
            help="Maximum number of rows to archive (per iteration with --until-complete). Default 1000.",
        )
        parser.add_argument(
            "--before", metavar="DATE", help="Archive only rows deleted before DATE (2026-01-31, 'Jan 31 2026'...)."
        )
        parser.add_argument(
            "--until-complete",
            action="store_true",
            dest="until_complete",
            help="Run batches of --max_rows until nothing is left to archive.",
        )
        parser.add_argument(
            "--purge",
            action="store_true",
            help="After a complete archive, purge the shadow tables (rows before --before if given, else all).",
        )
        parser.add_argument("--verbose", action="store_true", help="Print how many rows were archived per table.")
        parser.add_argument(
            "--sleep",
            type=float,
            default=0.0,
            metavar="S",
            help="Seconds to sleep between batches with --until-complete.",
        )
        replica_lag.add_argument(parser)

    def handle(self, *args, **options):
        max_rows = self._max_rows(options["max_rows"])
        before = self._before(options["before"])
        if not 0 <= options["sleep"] <= threading.TIMEOUT_MAX:  # NaN too: it compares false
            raise CommandError(
                f"--sleep must be a number of seconds from 0 to {threading.TIMEOUT_MAX:.0f} (got {options['sleep']})",
                returncode=EXIT_USAGE,
            )
        connection = self.connect(options["database"])
        self.require_nova_schema(connection)
        progress = Progress(1, "Archiving")
        gate = replica_lag.ReplicaLagGate(
            options["max_replica_lag"], connection.alias, stderr=self.stderr, usage_exit=EXIT_USAGE, progress=progress
        )

        def batch_done(rows):
            progress.advance(rows)
            gate()

        try:
            archiver = Archiver(connection, before=before, on_progress=batch_done)
        except ShadowMismatch as exc:
            raise CommandError(str(exc), returncode=EXIT_USAGE) from None
        if progress.enabled:
            candidates = archiver.count_candidates()
            progress.total = max(candidates if options["until_complete"] else min(candidates, max_rows), 1)
        try:
            with progress:
                archiver.run(max_rows)
                while options["until_complete"] and not archiver.complete:
                    time.sleep(options["sleep"])
                    archiver.run(max_rows)
        except ShadowMismatch as exc:
            moved = sum(archiver.archived.values())
            before_it = f" ({moved} row(s) archived before it)" if moved else ""
            raise CommandError(f"{exc}{before_it}", returncode=EXIT_USAGE) from None
        purged = None
        if options["purge"] and archiver.complete and archiver.archived:
            purged = purge_shadow_tables(connection, before)
        self._report(archiver, purged, options)
        if archiver.archived:
            raise CommandError(returncode=EXIT_FLOW)

    @staticmethod
    def _max_rows(text):
        try:
            value = int(str(text).strip())
        except ValueError:
            raise CommandError(
                f"Invalid value for --max_rows: '{text}' is not a number", returncode=EXIT_USAGE
            ) from None
        if value < 1:
            raise CommandError("Must supply a positive value for max_rows", returncode=EXIT_USAGE)
        if value > MAX_INT:
            raise CommandError(f"max rows must be <= {MAX_INT}", returncode=EXIT_USAGE)
        return value

    @staticmethod
    def _before(text):
        if text is None:
            return None
        try:
            return parse_date(text)
        except InvalidDate as exc:
            raise CommandError(f"Invalid value for --before: {exc}", returncode=EXIT_BAD_BEFORE) from None

    def _report(self, archiver, purged, options):
        archived = {table: archiver.archived[table] for table in sorted(archiver.archived)}
        kept = {table: dict(sorted(by.items())) for table, by in sorted(archiver.kept.items())}
        notes = [
            f"foreign key {r.compact()} has no index on {r.child}: the database scans {r.child} "
            f"for every {r.parent} row archived (an index on {r.child} ({', '.join(r.columns)}) makes it a lookup)"
            for r in archiver.unindexed_foreign_keys()
            if archiver.archived[r.parent]
        ]
        if options["format"] == "json":
            self.emit_json(
                {
                    "archived": archived,
                    "total": sum(archived.values()),
                    "complete": archiver.complete,
                    "kept": kept,
                    "purged": None if purged is None else {p.table: p.rows for p in purged if p.rows},
                    "notes": notes,
                }
            )
            return
        if not options["verbose"]:
            return
        if archived:
            self.stdout.write(format_rows(("Table", "Number of Rows Archived"), archived.items()))
        else:
            self.stdout.write("Nothing was archived.")
        for table, by in kept.items():
            reasons = ", ".join(f"{child} ({n})" for child, n in by.items())
            self.stdout.write(
                f"Kept {sum(by.values())} deleted rows of {table}: still referred to by rows left in {reasons}."
            )
        for note in notes:
            self.stdout.write(f"Note: {note}.")
        if purged is not None:
            self.stdout.write("Rows were archived, running purge...")
            for result in purged:
                if result.rows or result.skipped:
                    self.stdout.write(result.describe())
