"""Run the online data migrations, as ``nova-manage db online_data_migrations`` does.

Call it after upgrading the database schema (``db_sync``) and the services.
Exit codes are nova-manage's: 0 no further updates are possible, 1 some
updates were completed (``--max-count``: run it again while it returns 1),
2 some migrations failed (the others still ran), 127 invalid input.
``--max-replica-lag SECONDS`` waits between batches while the read replica
is further behind than that.
"""

from django.core.management.base import CommandError

from schema.data_migrations import registered
from schema.data_migrations.runner import DEFAULT_BATCH, run_migrations
from schema.management import replica_lag
from schema.management.base import NovaCommand
from schema.reporting import format_rows

EXIT_INVALID_INPUT = 127
EXIT_MIGRATION_FAILED = 2
#: The largest LIMIT every backend takes (a signed 64-bit integer): no table has more rows,
#: so a larger --max-count is no limit, as in Nova, which accepts any positive integer.
ROW_LIMIT = 2**63 - 1


def parse_max_count(value: str | None) -> int | None:
    """``--max-count`` as nova-manage reads it: a positive integer (capped at :data:`ROW_LIMIT`), else exit 127."""
    if value is None:
        return None
    try:
        count = int(value)
    except ValueError:
        count = 0
    if count < 1:
        raise CommandError(
            f"Must supply a positive value for --max-count (got '{value}')", returncode=EXIT_INVALID_INPUT
        )
    return min(count, ROW_LIMIT)


class Command(NovaCommand):
    help = (
        "Run the online data migrations in batches; call it after upgrading the database schema and the "
        "services. Exit 0 no further updates possible, 1 some updates completed (run again), "
        "2 some migrations failed, 127 invalid input."
    )
    json_output = True
    usage_exit = EXIT_INVALID_INPUT

    def add_arguments(self, parser):
        # A string on purpose: argparse's type=int would exit 2, nova-manage's contract says 127.
        parser.add_argument(
            "--max-count",
            dest="max_count",
            metavar="N",
            help=f"Migrate at most N rows in one pass (default: batches of {DEFAULT_BATCH} until complete).",
        )
        replica_lag.add_argument(parser)

    def handle(self, *args, **options):
        max_count = parse_max_count(options["max_count"])
        connection = self.connect(options["database"])
        self.require_nova_schema(connection)
        text = options["format"] == "text"
        gate = replica_lag.ReplicaLagGate(
            options["max_replica_lag"], connection.alias, stderr=self.stderr, usage_exit=EXIT_INVALID_INPUT
        )
        if max_count is None and text:
            self.stdout.write(f"Running batches of {DEFAULT_BATCH} until complete")

        def report(name, found, done, error):
            if error:
                self.stderr.write(f"Error attempting to run {name}: {error}")
            elif found and text:
                self.stdout.write(f"{found} rows matched query {name}, {done} migrated")
            if done:
                gate()

        run = run_migrations(connection, max_count, migrations=registered(), report=report)
        if text:
            rows = [(name, t.found, t.done) for name, t in sorted(run.tallies.items())]
            self.stdout.write(format_rows(("Migration", "Total Needed", "Completed"), rows))
        else:
            self.emit_json(
                {
                    "database": options["database"],
                    "max_count": max_count,
                    "migrations": [
                        {"name": name, "total_needed": t.found, "completed": t.done, "errors": t.errors}
                        for name, t in sorted(run.tallies.items())
                    ],
                    "exit_code": run.exit_code,
                }
            )
        if run.exit_code == EXIT_MIGRATION_FAILED:
            failed = ", ".join(f"{name} ({errors[-1]})" for name, errors in sorted(run.failed.items()))
            raise CommandError(f"Some migrations failed unexpectedly: {failed}", returncode=EXIT_MIGRATION_FAILED)
        if run.exit_code:
            raise CommandError(returncode=run.exit_code)
