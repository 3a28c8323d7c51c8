"""``manage.py demo_user [--username NAME]``: a superuser for the demo, with a random password printed once.

The password is generated for this run (``secrets``), never stored in code,
and printed only here. Running it again gives the user a new password.
"""

from __future__ import annotations

import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError


class Command(BaseCommand):
    help = "Create (or reset) the demo superuser with a random password, printed once."

    def add_arguments(self, parser):
        parser.add_argument("--username", default="demo", help="User name (default: %(default)s).")

    def handle(self, *args, **options):
        password = secrets.token_urlsafe(12)
        users = get_user_model().objects
        try:
            user = users.filter(username=options["username"]).first()
        except DatabaseError as exc:
            raise CommandError(
                f"Django's own tables are not there ({exc}): run `manage.py migrate` first", returncode=1
            ) from None
        if user is None:
            user = users.create_superuser(options["username"], email="", password=password)
            verb = "created"
        else:
            user.set_password(password)
            user.is_staff = user.is_superuser = user.is_active = True
            user.save()
            verb = "reset"
        self.stdout.write(f"demo user {verb}: username {user.get_username()}  password {password}")
