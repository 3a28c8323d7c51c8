#!/usr/bin/env python
"""novaweb's command-line entry point (Django's manage.py)."""

import os
import sys

#: Commands that need only Nova's models (settings.SCHEMA_COMMAND_APPS): they start without
#: the admin, the console, login lockout and CSP (about 0.1 s of every run).
SCHEMA_COMMANDS = {"db_version", "db_drift", "db_sync", "db_expand", "db_migrate", "db_contract"}


def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "novaweb.settings")
    command = sys.argv[1] if len(sys.argv) > 1 else ""
    os.environ["NOVAWEB_SCHEMA_COMMAND"] = "1" if command in SCHEMA_COMMANDS else "0"
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    try:
        execute_from_command_line(sys.argv)
    except ImproperlyConfigured as exc:
        # A bad DATABASE_URL / NOVA_DATABASE_URL / setting: one line, exit 2.
        sys.stderr.write(f"error: {exc}\n")
        sys.exit(2)


if __name__ == "__main__":
    main()
