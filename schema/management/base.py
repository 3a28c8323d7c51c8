"""The base of every ``db_*`` command: nova-manage's exit-code contract.

0 success or nothing to do; 1 flow control (behind, drifted, refused, rows
archived); 2 bad input or usage; 255 an error the command cannot recover
from (an unreachable database, an unexpected exception). Commands that
mirror a nova-manage command keep its documented codes (archive's 4, purge's
3, online data migrations' 127).

A command fails by raising Django's ``CommandError(message, returncode=N)``;
:meth:`NovaCommand.run_from_argv` prints the one line on stderr and exits
with ``N`` (a traceback only with ``--traceback``). Under ``call_command``
the ``CommandError`` reaches the caller. A usage error (an unknown option,
``--version abc``) is one line too, never argparse's usage dump. With
``--format json`` stdout is JSON whatever happens: a failure without its
own JSON answer writes ``{"error": ..., "exit_code": N}``.
"""

from __future__ import annotations

import contextlib
import json
import sys
import traceback

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError, handle_default_options
from django.db import DatabaseError, connections
from django.utils.connection import ConnectionDoesNotExist

from schema.dialects.privileges import privilege_denied
from schema.exit_codes import EXIT_FLOW, EXIT_OK, EXIT_UNEXPECTED, EXIT_USAGE  # noqa: F401 -- commands import them here

#: the environment variable that configures each alias (see novaweb.settings)
URL_VARIABLES = {"nova": "NOVA_DATABASE_URL", "default": "DATABASE_URL", "nova_replica": "NOVA_REPLICA_DATABASE_URL"}


class CommandExit(CommandError):
    """``CommandError`` with the exit code first: ``CommandExit(EXIT_FLOW, "refused: ...")``."""

    def __init__(self, code: int, message: str = ""):
        super().__init__(message, returncode=code)


def describe_database(alias: str) -> str:
    """Where an alias points, without its password."""
    cfg = connections.settings.get(alias, {})
    engine = cfg.get("ENGINE", "").rsplit(".", 1)[-1]
    if engine == "sqlite3":
        return f"sqlite {cfg.get('NAME')}"
    host = cfg.get("HOST") or "localhost"
    port = f":{cfg['PORT']}" if cfg.get("PORT") else ""
    return f"{engine} {cfg.get('USER') or ''}@{host}{port}/{cfg.get('NAME')}"


def unreachable_message(alias: str, exc: Exception) -> str:
    """One line: which database could not be reached, why (password scrubbed), and what to check."""
    cfg = connections.settings.get(alias, {})
    text = str(exc).strip()
    reason = text.splitlines()[0] if text else type(exc).__name__
    if cfg.get("PASSWORD"):
        reason = reason.replace(str(cfg["PASSWORD"]), "***")
    variable = URL_VARIABLES.get(alias, f"the settings of the '{alias}' alias")
    if cfg.get("ENGINE", "").endswith("sqlite3"):
        check = "that the file's directory exists and is readable and writable"
    else:
        host = cfg.get("HOST") or "localhost"
        port = f":{cfg['PORT']}" if cfg.get("PORT") else ""
        check = f"that the server at {host}{port} is up and reachable, the user and password, and the database name"
    return (
        f"cannot connect to the '{alias}' database ({describe_database(alias)}): {reason}; check {check} ({variable})"
    )


def failure_line(error: CommandError) -> str:
    """How a failure reads on stderr: flow control (1) as is, anything else after ``error:``."""
    message = str(error)
    if not message:
        return ""
    return message if error.returncode == EXIT_FLOW else f"error: {message}"


def _offers_json(parser) -> bool:
    action = parser and parser._option_string_actions.get("--format")
    return bool(action and action.choices and "json" in action.choices)


def _wants_json(argv) -> bool:
    """Whether a command line asked for ``--format json`` (read before its options could be parsed)."""
    return "--format=json" in argv or any(a == "--format" and b == "json" for a, b in zip(argv, argv[1:], strict=False))


class NovaCommand(BaseCommand):
    requires_system_checks = []
    requires_migrations_checks = False
    #: Commands that print machine-readable output offer ``--format json``.
    json_output = False
    #: The exit code of bad input (a usage error); nova-manage's online_data_migrations says 127.
    usage_exit = EXIT_USAGE

    def create_parser(self, prog_name, subcommand, **kwargs):
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        parser.add_argument(
            "--database",
            default=settings.NOVA_DB_ALIAS,
            help="Database alias of the Nova database (default: %(default)s).",
        )
        if self.json_output:
            parser.add_argument("--format", choices=("text", "json"), default="text", help="Output format.")

        def usage_error(message):  # argparse's own error() prints the usage and exits 2
            raise CommandError(f"{subcommand}: {message} (see --help)", returncode=self.usage_exit)

        parser.error = usage_error
        return parser

    def connect(self, alias: str):
        """The connection for ``alias``, opened: exit 2 if unknown, 255 if it cannot be reached."""
        try:
            connection = connections[alias]
        except ConnectionDoesNotExist:
            known = ", ".join(sorted(connections.settings))
            raise CommandError(
                f"unknown database alias '{alias}' (configured: {known})", returncode=EXIT_USAGE
            ) from None
        try:
            connection.ensure_connection()
        except DatabaseError as exc:
            raise CommandError(unreachable_message(alias, exc), returncode=EXIT_UNEXPECTED) from None
        self.require_work_schema(connection)
        return connection

    def require_work_schema(self, connection) -> None:
        """Exit 2 when the session has no schema to work on (PostgreSQL: no schema of the search_path exists)."""
        from schema.dialects import dialect_for

        variable = URL_VARIABLES.get(connection.alias, f"the '{connection.alias}' alias's settings")
        with connection.cursor() as cursor:
            problem = dialect_for(connection).no_work_schema(cursor, variable)
        if problem:
            raise CommandError(
                f"database '{connection.alias}' ({describe_database(connection.alias)}) has {problem}",
                returncode=EXIT_USAGE,
            )

    def require_nova_schema(self, connection, tables=("instances", "migrate_version")):
        """Exit 2 (bad input: not a Nova database) unless ``tables`` exist; never exit 1, which automation loops on."""
        from schema.introspect import live_table_names

        missing = [t for t in tables if t not in live_table_names(connection)]
        if missing:
            raise CommandError(
                f"database '{connection.alias}' ({describe_database(connection.alias)}) has no Nova schema "
                f"(no {missing[0]} table): point --database / NOVA_DATABASE_URL at a Nova database, or run db_sync",
                returncode=EXIT_USAGE,
            )

    def emit_json(self, data) -> None:
        self._json_written = True
        self.stdout.write(json.dumps(data, indent=2, sort_keys=False, default=str))

    def execute(self, *args, **options):
        self._json_written = False
        try:
            return super().execute(*args, **options)
        except CommandError as exc:
            error = exc
        except KeyboardInterrupt:
            error = CommandError("interrupted", returncode=EXIT_FLOW)
        except Exception as exc:  # noqa: BLE001 -- the contract: one line and 255, never a traceback
            if options.get("traceback"):
                raise
            error = self.denied(exc, options.get("database")) or self.unexpected(exc)
            error.__cause__ = exc
        if options.get("format") == "json" and not self._json_written:
            self.emit_json({"database": options.get("database"), "error": str(error), "exit_code": error.returncode})
        raise error

    def denied(self, exc: Exception, alias) -> CommandError | None:
        """The server refused the change (a user without the privilege, a read-only replica): bad input, not 255."""
        reason = privilege_denied(exc)
        if reason is None:
            return None
        variable = URL_VARIABLES.get(alias, f"the settings of the '{alias}' alias")
        return CommandError(
            f"the '{alias}' database ({describe_database(alias)}) refused the change: {reason}; "
            f"run it on the primary, as a user with that privilege ({variable})",
            returncode=self.usage_exit,
        )

    @staticmethod
    def unexpected(exc: Exception) -> CommandError:
        text = str(exc).strip()
        first = text.splitlines()[0] if text else ""
        return CommandError(
            f"unexpected error: {type(exc).__name__}: {first} (run again with --traceback for details)",
            returncode=EXIT_UNEXPECTED,
        )

    def run_from_argv(self, argv):
        """Django's, with nova-manage's output: one line on stderr (JSON on stdout if asked), then the exit code."""
        self._called_from_command_line = True
        parser = options = None
        try:
            parser = self.create_parser(argv[0], argv[1])
            options = parser.parse_args(argv[2:])
            cmd_options = vars(options)
            args = cmd_options.pop("args", ())
            handle_default_options(options)
            self.execute(*args, **cmd_options)
        except CommandError as exc:
            if options is not None and options.traceback:  # the traceback asked for, the code all the same
                traceback.print_exc()
                sys.exit(exc.returncode)
            if options is None and _offers_json(parser) and _wants_json(argv):
                self.stdout.write(json.dumps({"error": str(exc), "exit_code": exc.returncode}, indent=2))
            line = failure_line(exc)
            if line:
                self.stderr.write(line)
            sys.exit(exc.returncode)
        except Exception:  # noqa: BLE001 -- only with --traceback does an unexpected error get here
            traceback.print_exc()
            sys.exit(EXIT_UNEXPECTED)
        finally:
            with contextlib.suppress(ImproperlyConfigured):  # settings never loaded
                connections.close_all()
