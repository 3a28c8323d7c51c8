#!/usr/bin/env python
"""novaweb's command-line entry point (Django's manage.py)."""

import gc
import os
import sys

#: Commands that need only Nova's models (settings.SCHEMA_COMMAND_APPS): they start without
#: the admin, the console, login lockout and CSP (about half of every run). The housekeeping
#: ones among them run in loops ("run again while it exits 1"): each pass starts anew.
#: ``db_schema_doc`` is not among them: its pages link to the admin.
SCHEMA_COMMANDS = {
    "db_version",
    "db_drift",
    "db_sync",
    "db_expand",
    "db_migrate",
    "db_contract",
    "db_undo",
    "db_snapshot",
    "db_restore",
    "db_archive_deleted_rows",
    "db_purge",
    "db_online_data_migrations",
    "db_null_instance_uuid_scan",
    "db_add_indexes",
}
#: Options Django's ManagementUtility reads before settings load: with them, take its path.
_PRE_SETTINGS_OPTIONS = ("--settings", "--pythonpath")


def run_schema_command(argv) -> None:
    """A schema command the short way: ``django.setup()`` less what a command line never uses.

    No command discovery over every app (ManagementUtility), no script prefix (importing
    ``django.urls`` for it loads the HTTP machinery), and Django's default logging only when the
    deployment configures its own (``settings.LOGGING``: the JSON logs): the default's one
    effect on a command is the admins' e-mail handler, whose error reporter imports the views
    and the template engine. Together about 25 ms of every run.
    """
    from django.apps import apps
    from django.conf import settings
    from django.core.management import load_command_class

    if settings.LOGGING:
        from django.utils.log import configure_logging

        configure_logging(settings.LOGGING_CONFIG, settings.LOGGING)
    apps.populate(settings.INSTALLED_APPS)
    command = load_command_class("schema", argv[1])
    started()
    command.run_from_argv(argv)


def starting() -> None:
    """No cyclic garbage collection while the modules load: start-up makes no garbage to collect."""
    gc.disable()


def started() -> None:
    """Collection back on for the command's own work, with what start-up built left out of it.

    ``gc.freeze()`` moves the modules, classes and models to the permanent generation: no
    collection scans them again, not even the full one at the interpreter's exit. Start-up
    builds about 200,000 such objects; scanning them (during the imports and again at exit)
    was about 40 ms of every schema command, a fifth of a ``db_drift``.
    """
    gc.freeze()
    gc.enable()


def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "novaweb.settings")
    command = sys.argv[1] if len(sys.argv) > 1 else ""
    schema_command = command in SCHEMA_COMMANDS
    os.environ["NOVAWEB_SCHEMA_COMMAND"] = "1" if schema_command else "0"
    # A command's stdout is its answer (``--format json``): production's JSON logs go to stderr.
    os.environ["NOVAWEB_LOG_STREAM"] = "stderr"
    from django.core.exceptions import ImproperlyConfigured

    try:
        if schema_command and not any(a.startswith(_PRE_SETTINGS_OPTIONS) for a in sys.argv[2:]):
            starting()
            try:
                run_schema_command(sys.argv)
            finally:
                gc.enable()  # a failed start-up (a bad setting) leaves collection as it found it
        else:
            from django.core.management import execute_from_command_line

            execute_from_command_line(sys.argv)
    except ImproperlyConfigured as exc:
        # A bad DATABASE_URL / NOVA_DATABASE_URL / setting: one line, exit 2.
        sys.stderr.write(f"error: {exc}\n")
        sys.exit(2)
    except ModuleNotFoundError as exc:
        module = os.environ["DJANGO_SETTINGS_MODULE"]
        if not exc.name or not (module == exc.name or module.startswith(exc.name + ".")):
            raise
        # A typo in DJANGO_SETTINGS_MODULE: one line, exit 2 (not a traceback and 1).
        sys.stderr.write(f"error: DJANGO_SETTINGS_MODULE={module} cannot be imported (no module named {exc.name})\n")
        sys.exit(2)


if __name__ == "__main__":
    main()
