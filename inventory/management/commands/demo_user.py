"""``manage.py demo_user [--username NAME] [--role ROLE]``: a demo login with a random password, printed once.

Without ``--role``: a superuser (``demo``). With ``--role viewer`` (or
``flavor-manager``, ``schema-operator``): a staff user, not a superuser,
whose only permissions are the role's group (``manage.py novaweb_roles``
creates the groups; this command does too when they are missing), named
after the role unless ``--username`` says otherwise.

The password is generated for this run (``secrets``), never stored in code,
and printed only here. Running it again gives the user a new password.
"""

from __future__ import annotations

import secrets

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from inventory.roles import ROLES, sync_roles


class Command(BaseCommand):
    help = "Create (or reset) a demo login with a random password, printed once: a superuser, or a role's user."

    def add_arguments(self, parser):
        parser.add_argument("--username", help="User name (default: demo, or the role's name with --role).")
        parser.add_argument(
            "--role",
            choices=sorted(ROLES),
            help="A staff user in this role's group instead of a superuser.",
        )

    def handle(self, *args, **options):
        role = ROLES.get(options["role"]) if options["role"] else None
        username = options["username"] or (role.slug if role else "demo")
        password = secrets.token_urlsafe(12)
        users = get_user_model().objects
        try:
            user = users.filter(username=username).first()
        except DatabaseError as exc:
            raise CommandError(
                f"Django's own tables are not there ({exc}): run `manage.py migrate` first", returncode=1
            ) from None
        verb = "created" if user is None else "reset"
        if user is None:
            user = users.model(username=username, email="")
        user.set_password(password)
        user.is_staff = user.is_active = True
        user.is_superuser = role is None
        user.save()
        if role is not None:
            if not Group.objects.filter(name=role.group).exists():
                sync_roles()
            user.groups.set([Group.objects.get(name=role.group)])
        self.stdout.write(f"demo user {verb}: username {user.get_username()}  password {password}")
