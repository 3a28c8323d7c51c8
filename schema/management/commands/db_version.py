"""Print the Nova database's schema version, as ``nova-manage db version`` does."""

from django.core.management.base import CommandError

from schema.management.base import EXIT_FLOW, NovaCommand
from schema.versioning import NotUnderVersionControl, current_version


class Command(NovaCommand):
    help = "Print the current schema version of the Nova database (82 for Essex)."

    def handle(self, *args, **options):
        connection = self.connect(options["database"])
        try:
            version = current_version(connection)
        except NotUnderVersionControl as exc:
            raise CommandError(f"{exc}; run db_sync to put it under version control", returncode=EXIT_FLOW) from None
        self.stdout.write(str(version))
