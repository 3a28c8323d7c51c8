"""Find (and with ``--delete`` remove) rows whose instance uuid is NULL, as nova-manage does.

Same messages as ``nova-manage db null_instance_uuid_scan``; unlike it (which
always exits 0), the exit code says what is left: 0 nothing found or all
deleted, 1 rows found and not deleted. See :mod:`schema.null_instance_uuids`
for what happens to rows that belong to an instance without a uuid.
"""

from django.core.management.base import CommandError

from schema.management.base import EXIT_FLOW, EXIT_USAGE, NovaCommand
from schema.null_instance_uuids import DETACH, StillReferred, delete, scan


class Command(NovaCommand):
    help = (
        "List rows whose instance uuid is NULL (instances.uuid and every column pointing at an instance by "
        "uuid); --delete removes them after backing them up. Exit 0 nothing found or all deleted, 1 rows "
        "found and not deleted."
    )
    json_output = True

    def add_arguments(self, parser):
        parser.add_argument(
            "--delete",
            action="store_true",
            help="Delete the rows found (and delete or detach what belongs to instances without a uuid), "
            "after copying them to novaweb_backup_* tables.",
        )

    def handle(self, *args, **options):
        connection = self.connect(options["database"])
        self.require_nova_schema(connection)
        found = scan(connection)
        try:
            cleanup = delete(connection, found) if options["delete"] and found.found else None
        except StillReferred as exc:
            raise CommandError(str(exc), returncode=EXIT_USAGE) from None
        if options["format"] == "json":
            self.emit_json(
                {
                    "database": options["database"],
                    "null_rows": {t: n for t, n in found.null_rows.items() if n},
                    "owned_rows": {
                        t: {"rows": n, "action": "detach" if t in DETACH else "delete"}
                        for t, n in found.owned_rows.items()
                    },
                    "deleted": cleanup.deleted if cleanup else {},
                    "detached": cleanup.detached if cleanup else {},
                    "backups": {t: name for t, (name, _) in cleanup.backups.items()} if cleanup else {},
                }
            )
        elif cleanup:
            self._print_cleanup(cleanup)
        else:
            self._print_scan(found)
        if found.found and not cleanup:
            raise CommandError(returncode=EXIT_FLOW)

    def _print_scan(self, found):
        if not found.found:
            self.stdout.write("There were no records found where instance_uuid was NULL.")
            return
        for table, count in found.null_rows.items():
            if count:
                self.stdout.write(
                    f"There are {count} records in the '{table}' table where the uuid or instance_uuid column "
                    "is NULL. Run this command again with the --delete option after you have backed up any "
                    "necessary data."
                )
        for table, count in found.owned_rows.items():
            action = "detach them from the instance" if table in DETACH else "delete them"
            self.stdout.write(
                f"There are {count} records in the '{table}' table that belong to instances whose uuid is NULL; "
                f"--delete will {action}."
            )

    def _print_cleanup(self, cleanup):
        for table, (backup, count) in cleanup.backups.items():
            self.stdout.write(f"Backed up {count} records from table '{table}' to '{backup}'.")
        for table, count in cleanup.detached.items():
            self.stdout.write(f"Detached {count} records in table '{table}' from instances whose uuid was NULL.")
        for table, count in cleanup.deleted.items():
            self.stdout.write(f"Deleted {count} records from table '{table}'.")
