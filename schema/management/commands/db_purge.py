"""Delete rows from the shadow tables: ``nova-manage db purge``.

Exit codes (nova-manage's): 0 rows were deleted, 1 neither ``--before`` nor
``--all`` was given, 2 bad ``--before``, 3 nothing was purged, 255 an
unexpected error (an unreachable database). A database without Nova's schema
is bad input (2), not "nothing purged".
"""

from django.core.management.base import CommandError

from schema.archive import purge_shadow_tables
from schema.dates import InvalidDate, parse_date
from schema.management.base import EXIT_USAGE, NovaCommand

#: nova-manage db purge: 1 required arguments missing, 3 nothing was purged
EXIT_MISSING_ARGUMENTS = 1
EXIT_NOTHING_PURGED = 3


class Command(NovaCommand):
    help = (
        "Delete archived rows from the shadow tables: those deleted before --before DATE "
        "(by deleted_at, else updated_at, else created_at), or --all of them. Exit 0 when rows were "
        "deleted, 1 without --before or --all, 2 for a bad --before, 3 when nothing was purged."
    )
    json_output = True

    def add_arguments(self, parser):
        parser.add_argument("--before", metavar="DATE", help="Purge rows deleted before DATE (2026-01-31, ...).")
        parser.add_argument(
            "--all", action="store_true", dest="purge_all", help="Purge every row of the shadow tables."
        )
        parser.add_argument("--verbose", action="store_true", help="Print how many rows were deleted per table.")

    def handle(self, *args, **options):
        if options["before"] is None and not options["purge_all"]:
            raise CommandError("Must supply either --before or --all", returncode=EXIT_MISSING_ARGUMENTS)
        if options["before"] is not None and options["purge_all"]:
            raise CommandError("Supply either --before or --all, not both", returncode=EXIT_MISSING_ARGUMENTS)
        before = None
        if options["before"] is not None:
            try:
                before = parse_date(options["before"])
            except InvalidDate as exc:
                raise CommandError(f"Invalid value for --before: {exc}", returncode=EXIT_USAGE) from None
        connection = self.connect(options["database"])
        self.require_nova_schema(connection)
        results = purge_shadow_tables(connection, before)
        total = sum(r.rows for r in results)
        if options["format"] == "json":
            self.emit_json({"purged": {r.table: r.rows for r in results if r.rows}, "total": total})
        elif options["verbose"]:
            for result in results:
                if result.rows or result.skipped:
                    self.stdout.write(result.describe())
            if not total:
                self.stdout.write("No rows were purged.")
        if not total:
            raise CommandError(returncode=EXIT_NOTHING_PURGED)
