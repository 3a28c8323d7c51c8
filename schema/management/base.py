"""The base of every ``db_*`` command: nova-manage's exit-code contract.

0 success or nothing to do; 1 flow control (behind, drifted, refused, rows
archived); 2 bad input or usage; 255 an unexpected error. Every failure is
one short line on stderr; a traceback only with ``--traceback``.
"""

from __future__ import annotations

import json
import sys

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import DatabaseError, connections
from django.utils.connection import ConnectionDoesNotExist

EXIT_OK = 0
EXIT_FLOW = 1
EXIT_USAGE = 2
EXIT_UNEXPECTED = 255


class CommandExit(Exception):
    """Stop the command with ``code``, printing ``message`` on stderr."""

    def __init__(self, code: int, message: str = ""):
        super().__init__(message)
        self.code = code
        self.message = message


def describe_database(alias: str) -> str:
    """Where an alias points, without its password."""
    cfg = connections.settings.get(alias, {})
    engine = cfg.get("ENGINE", "").rsplit(".", 1)[-1]
    if engine == "sqlite3":
        return f"sqlite {cfg.get('NAME')}"
    host = cfg.get("HOST") or "localhost"
    port = f":{cfg['PORT']}" if cfg.get("PORT") else ""
    return f"{engine} {cfg.get('USER') or ''}@{host}{port}/{cfg.get('NAME')}"


class NovaCommand(BaseCommand):
    requires_system_checks = []
    requires_migrations_checks = False
    #: Commands that print machine-readable output offer ``--format json``.
    json_output = False

    def create_parser(self, prog_name, subcommand, **kwargs):
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        parser.add_argument(
            "--database",
            default=settings.NOVA_DB_ALIAS,
            help="Database alias of the Nova database (default: %(default)s).",
        )
        if self.json_output:
            parser.add_argument("--format", choices=("text", "json"), default="text", help="Output format.")
        return parser

    def connect(self, alias: str):
        """The connection for ``alias``, opened: exit 2 if unknown, 1 if unreachable."""
        try:
            connection = connections[alias]
        except ConnectionDoesNotExist:
            known = ", ".join(sorted(connections.settings))
            raise CommandExit(EXIT_USAGE, f"unknown database alias '{alias}' (configured: {known})") from None
        try:
            connection.ensure_connection()
        except DatabaseError as exc:
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise CommandExit(
                EXIT_FLOW, f"cannot connect to the '{alias}' database ({describe_database(alias)}): {reason}"
            ) from None
        return connection

    def require_nova_schema(self, connection, tables=("instances", "migrate_version")):
        """Exit 2 (bad input: not a Nova database) unless ``tables`` exist; never exit 1, which automation loops on."""
        from schema.introspect import live_table_names

        missing = [t for t in tables if t not in live_table_names(connection)]
        if missing:
            raise CommandExit(
                EXIT_USAGE,
                f"database '{connection.alias}' ({describe_database(connection.alias)}) has no Nova schema "
                f"(no {missing[0]} table): point --database / NOVA_DATABASE_URL at a Nova database, or run db_sync",
            )

    def emit_json(self, data) -> None:
        self.stdout.write(json.dumps(data, indent=2, sort_keys=False, default=str))

    def execute(self, *args, **options):
        try:
            return super().execute(*args, **options)
        except CommandExit as exc:
            code, message = exc.code, exc.message
        except KeyboardInterrupt:
            code, message = EXIT_FLOW, "interrupted"
        except Exception as exc:  # noqa: BLE001 -- the contract: one line and 255, never a traceback
            if options.get("traceback"):
                raise
            code = EXIT_UNEXPECTED
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
            message = f"unexpected error: {type(exc).__name__}: {first} (run again with --traceback for details)"
        if message:
            self.stderr.write(f"error: {message}" if code != EXIT_FLOW else message)
        sys.exit(code)
