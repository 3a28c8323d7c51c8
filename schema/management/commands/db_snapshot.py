"""Take a consistent logical snapshot of the Nova database with the server's own tools.

``mariadb-dump --single-transaction`` on MySQL/MariaDB, ``pg_dump`` (directory
format, on an exported snapshot) on PostgreSQL, the online backup API on
SQLite; a manifest beside the data holds the time, the server and schema
versions, the tools' versions and each table's row count and server-side
checksum. Prints the snapshot's directory.
"""

from __future__ import annotations

import sys

from schema.management.base import EXIT_FLOW, EXIT_USAGE, CommandExit, NovaCommand
from schema.progress import Progress
from schema.snapshots import MissingTool, SnapshotError, take_snapshot
from schema.snapshots.take import UnknownTables


class Command(NovaCommand):
    help = "Snapshot the Nova database (or some tables) with the server's dump tool; prints the snapshot's path."
    json_output = True

    def add_arguments(self, parser):
        parser.add_argument("--output", metavar="DIR", help="Directory to write the snapshot under (var/snapshots/).")
        parser.add_argument("--tables", metavar="T,...", help="Only these tables (comma-separated).")

    def handle(self, *args, **options):
        tables = (
            [t.strip() for t in options["tables"].split(",") if t.strip()] if options["tables"] is not None else None
        )
        if tables is not None and not tables:
            raise CommandExit(EXIT_USAGE, "--tables needs at least one table name")
        connection = self.connect(options["database"])
        stream = sys.stderr
        try:
            with Progress(len(tables or []) or 1, "checksums", stream=stream) as bar:
                path, manifest = take_snapshot(connection, output=options["output"], tables=tables, progress=bar)
        except (MissingTool, UnknownTables) as exc:
            raise CommandExit(EXIT_USAGE, str(exc)) from None
        except SnapshotError as exc:
            raise CommandExit(EXIT_FLOW, str(exc)) from None
        except OSError as exc:
            raise CommandExit(EXIT_USAGE, f"cannot write the snapshot: {exc}") from None
        for table in manifest.changed_during_snapshot:
            self.stderr.write(
                f"warning: {table} was written to while the dump ran: its checksum may not match the dumped rows"
            )
        if options["format"] == "json":
            self.emit_json(
                {
                    "snapshot": str(path),
                    "tables": [{"name": t.name, "rows": t.rows, "checksum": t.checksum} for t in manifest.tables],
                    "changed_during_snapshot": manifest.changed_during_snapshot,
                }
            )
        else:
            self.stdout.write(str(path))
