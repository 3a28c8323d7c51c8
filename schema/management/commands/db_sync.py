"""Bring the Nova database to the models' schema, as ``nova-manage db sync`` does.

On an empty database: the whole Essex schema, the five default flavors and
the ``migrate_version`` row (version 82). On a database that is already
there: nothing. In between: creates only what is missing (tables, columns,
indexes, foreign keys); every other difference is reported and left alone.
"""

from schema.ddl import DDLWriter, run_statements
from schema.engine import compare
from schema.management.base import EXIT_FLOW, CommandExit, NovaCommand
from schema.models import MODELS_VERSION
from schema.seed import DEFAULT_FLAVORS, seed_default_flavors
from schema.versioning import set_version, version_or_none


class Command(NovaCommand):
    help = "Create what the Nova database is missing and record schema version 82."

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Print the DDL instead of running it.")

    def handle(self, *args, **options):
        connection = self.connect(options["database"])
        comparison = compare(connection)
        result = comparison.result
        writer = DDLWriter(connection)
        additive = result.additive()
        statements = writer.additive_statements(additive, comparison.expected, comparison.live)
        creates_flavors = any(d.kind == "missing_table" and d.table == "instance_types" for d in additive)
        version = version_or_none(connection) if "migrate_version" in comparison.live else None

        if options["dry_run"]:
            for sql in run_statements(connection, statements, collect=True):
                self.stdout.write(sql)
            if creates_flavors:
                self.stdout.write(f"-- then insert the {len(DEFAULT_FLAVORS)} default flavors into instance_types")
            if version != MODELS_VERSION and not result.non_additive():
                self.stdout.write(f"-- then set migrate_version to {MODELS_VERSION}")
            self._report_left(result.non_additive())
            return

        if not statements and result.in_sync and version == MODELS_VERSION:
            self.stdout.write(f"Nothing to do: the schema is at version {MODELS_VERSION}.")
            return

        run_statements(connection, statements)
        if creates_flavors:
            seed_default_flavors(connection)
        left = compare(connection).result.differences
        if left:
            self._report_left(left)
            raise CommandExit(
                EXIT_FLOW,
                f"{len(left)} differences db_sync does not change on its own; "
                "the version was not recorded. See db_drift.",
            )
        if version != MODELS_VERSION:
            set_version(connection)
        created = sum(1 for d in additive if d.kind == "missing_table")
        self.stdout.write(
            f"Schema synced to version {MODELS_VERSION}: {len(statements)} statements"
            + (f", {created} tables created" if created else "")
            + (f", {len(DEFAULT_FLAVORS)} default flavors" if creates_flavors else "")
            + "."
        )

    def _report_left(self, differences):
        for d in differences:
            self.stderr.write(f"left alone: {d.table} {d.kind} {d.object} (expected {d.expected}, found {d.found})")
