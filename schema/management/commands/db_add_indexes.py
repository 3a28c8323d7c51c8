"""Create the indexes the inventory needs at scale (see schema.suggested_indexes), online."""

from schema.locking import SyncLock
from schema.management.base import EXIT_USAGE, CommandExit, NovaCommand
from schema.plan import apply_statements
from schema.suggested_indexes import missing_indexes, name_clashes, statements_for


class Command(NovaCommand):
    help = (
        "Create the indexes Essex lacks that the inventory's instance list and IP search need "
        "(novaweb_ix_*; db_drift ignores them), without blocking Nova's writes where the backend can."
    )
    json_output = True

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Print the DDL instead of running it.")

    def handle(self, *args, **options):
        connection = self.connect(options["database"])
        self.require_nova_schema(connection)
        with SyncLock(connection, notify=self.stderr.write):
            missing = missing_indexes(connection)
            clashes = name_clashes(connection, missing)
            if clashes:
                raise CommandExit(EXIT_USAGE, f"{clashes[0]}: rename or drop it, then run again (nothing was created)")
            statements = statements_for(connection, missing)
            if options["format"] == "json":
                self.emit_json(
                    {
                        "database": options["database"],
                        "dry_run": options["dry_run"],
                        "indexes": [{"table": t, "name": i.name, "columns": list(i.columns)} for t, i in missing],
                        "statements": [s.as_dict() for s in statements],
                    }
                )
            if options["dry_run"]:
                if options["format"] != "json":
                    for statement in statements:
                        self.stdout.write(statement.sql + ";")
                return
            apply_statements(connection, statements, warn=self.stderr.write)
        if options["format"] != "json":
            if missing:
                names = ", ".join(f"{i.name} on {t}" for t, i in missing)
                self.stdout.write(f"Created {len(missing)} indexes: {names}.")
            else:
                self.stdout.write("Nothing to do: every suggested index is there.")
