"""``manage.py novaweb_roles``: create the groups viewer, flavor manager and schema operator.

Each group gets exactly the permissions :mod:`inventory.roles` defines
(created, or put back when someone changed them). Run after ``migrate``;
``scripts/demo.sh`` does. Exit 2 when Django's tables are not there yet.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from inventory.roles import sync_roles


class Command(BaseCommand):
    help = "Create (or reset) the groups viewer, flavor manager and schema operator with their permissions."

    def handle(self, *args, **options):
        try:
            done = sync_roles()
        except (DatabaseError, LookupError) as exc:
            message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            if isinstance(exc, DatabaseError):
                message = f"Django's own tables are not there ({message}): run `manage.py migrate` first"
            raise CommandError(message, returncode=2) from None
        for role, created in done:
            verb = "created" if created else "updated"
            count = len(role.permissions())
            self.stdout.write(f"group {role.group!r} {verb}: {role.description} ({count} permissions)")
