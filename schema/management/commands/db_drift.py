"""Compare the running schema with the models and print every difference."""

from django.core.management.base import CommandError

from schema.engine import compare
from schema.management.base import EXIT_FLOW, NovaCommand
from schema.models import MODELS_VERSION
from schema.reporting import format_rows
from schema.versioning import identify, version_or_none


class Command(NovaCommand):
    help = (
        "Compare the Nova database's schema with the models. Exit 0 when there is nothing to do, "
        "1 when the schema has drifted (or is not at the models' version). A database made by another Nova "
        "release is named in one line."
    )
    json_output = True

    def add_arguments(self, parser):
        parser.add_argument("--verbose", action="store_true", help="Also list the known benign differences ignored.")

    def handle(self, *args, **options):
        connection = self.connect(options["database"])
        comparison = compare(connection)
        result = comparison.result
        version = version_or_none(connection) if "migrate_version" in comparison.live else None
        release = identify(connection, comparison.live.tables)
        drifted = not result.in_sync or version != MODELS_VERSION
        if options["format"] == "json":
            self.emit_json(
                {
                    "database": options["database"],
                    "vendor": connection.vendor,
                    "version": version,
                    "expected_version": MODELS_VERSION,
                    "release": release.as_dict() if release else None,
                    "in_sync": not drifted,
                    "differences": [d.as_dict() for d in result.differences],
                    "ignored": [i.as_dict() for i in result.ignored],
                }
            )
        else:
            self._print_text(result, version, release, options["verbose"])
        if drifted:
            raise CommandError(returncode=EXIT_FLOW)

    def _print_text(self, result, version, release, verbose):
        if release:
            self.stdout.write(release.summary + ".")
        newer = release is not None and release.newer
        if result.differences and (verbose or not newer):
            rows = [(d.table, d.kind, d.object, d.expected or "-", d.found or "-") for d in result.differences]
            self.stdout.write(format_rows(("TABLE", "DIFFERENCE", "OBJECT", "EXPECTED", "FOUND"), rows))
        if verbose and result.ignored:
            self.stdout.write("Ignored (known benign differences):")
            self.stdout.write(
                format_rows(("TABLE", "OBJECT", "WHY"), [(i.table, i.object, i.reason) for i in result.ignored])
            )
        version_text = "not under version control" if version is None else f"version {version}"
        if newer:
            count = len(result.differences)
            listed = "" if not count else " (listed above)" if verbose else " (--verbose lists them)"
            self.stdout.write(
                f"{count} differences from the models{listed}: the database is newer than novaweb's models, "
                "and db_sync refuses it; manage it with the Nova release that made it."
            )
        elif result.in_sync and version == MODELS_VERSION:
            self.stdout.write(
                f"Nothing to do: the schema matches the models at version {MODELS_VERSION} "
                f"({len(result.ignored)} known benign differences ignored)."
            )
        elif result.in_sync:
            self.stdout.write(
                f"The schema matches the models, but the database is {version_text}, not {MODELS_VERSION}: run db_sync."
            )
        else:
            self.stdout.write(f"{len(result.differences)} differences from the models ({version_text}).")
