"""Restore a snapshot and prove it: the schema and every table's rows must equal the manifest's.

Into the Nova database (after a confirmation, or ``--yes``), into another
database (``--into URL``, a rehearsal), or, with ``--verify-only``, into a
scratch database on the same server that is dropped afterwards ("a backup
you have not restored is not a backup"). Exit 0 verified, 1 restored but not
equal (naming the tables), 2 bad input.
"""

from __future__ import annotations

import sys

from django.db import DatabaseError

from schema.management.base import (
    EXIT_FLOW,
    EXIT_UNEXPECTED,
    EXIT_USAGE,
    CommandExit,
    NovaCommand,
    describe_database,
    unreachable_message,
)
from schema.reporting import format_rows
from schema.snapshots import (
    Manifest,
    ManifestError,
    MissingTool,
    SnapshotError,
    damage_found_in_scratch,
    restore,
    verify,
)
from schema.snapshots.databases import BadDatabaseURL, config_from_url, scratch_database, temporary_alias
from schema.snapshots.restore import check_restorable


class Command(NovaCommand):
    help = "Restore a snapshot (db_snapshot) and verify schema, row counts and checksums against its manifest."
    json_output = True

    def add_arguments(self, parser):
        parser.add_argument("snapshot", metavar="SNAPSHOT", help="The snapshot's directory (db_snapshot prints it).")
        target = parser.add_mutually_exclusive_group()
        target.add_argument(
            "--into", metavar="URL", help="Restore into this database instead (mysql://, postgres://...)."
        )
        target.add_argument(
            "--verify-only",
            action="store_true",
            help="Restore into a scratch database on the same server, verify, and drop it.",
        )
        parser.add_argument("--yes", action="store_true", help="Replace the Nova database's tables without asking.")

    def handle(self, *args, **options):
        self.options = options
        try:
            manifest = Manifest.read(options["snapshot"])
        except ManifestError as exc:
            raise CommandExit(EXIT_USAGE, str(exc)) from None
        if options["into"]:
            try:
                config = config_from_url(options["into"])
            except BadDatabaseURL as exc:
                raise CommandExit(EXIT_USAGE, f"--into: {exc}") from None
            with temporary_alias(config) as target:
                try:
                    target.ensure_connection()
                except DatabaseError as exc:  # unreachable: 255, as for --database (never a loopable 1)
                    raise CommandExit(EXIT_UNEXPECTED, f"--into: {unreachable_message(target.alias, exc)}") from None
                return self.restore_and_verify(manifest, target, describe_database(target.alias))
        connection = self.connect(options["database"])
        if options["verify_only"]:
            self.check(manifest, connection)
            with scratch_database(connection) as scratch:
                return self.restore_and_verify(
                    manifest, scratch, "a scratch database (dropped afterwards)", clean=False
                )
        self.confirm(manifest, connection)
        self.refuse_damaged(manifest, connection)
        return self.restore_and_verify(manifest, connection, describe_database(connection.alias), atomic=True)

    def refuse_damaged(self, manifest, connection) -> None:
        """Not restored (1) into the Nova database: a snapshot that is not what its manifest says (cut, edited)."""
        try:
            damage = damage_found_in_scratch(
                manifest, self.options["snapshot"], connection, warn=lambda m: self.stderr.write(f"warning: {m}")
            )
        except MissingTool as exc:
            raise CommandExit(EXIT_USAGE, str(exc)) from None
        except SnapshotError as exc:
            raise CommandExit(EXIT_FLOW, str(exc)) from None
        if damage:
            raise CommandExit(
                EXIT_FLOW,
                f"not restored: the snapshot does not hold what its manifest says ({damage}); "
                f"{describe_database(connection.alias)} was not changed",
            )

    def check(self, manifest, connection) -> None:
        try:
            check_restorable(manifest, self.options["snapshot"], connection)
        except ManifestError as exc:
            raise CommandExit(EXIT_USAGE, str(exc)) from None

    def confirm(self, manifest, connection) -> None:
        self.check(manifest, connection)
        if self.options["yes"]:
            return
        where = describe_database(connection.alias)
        if not sys.stdin.isatty():
            raise CommandExit(
                EXIT_USAGE,
                f"restoring replaces {len(manifest.tables)} tables of {where}: run again with --yes "
                "(or --verify-only / --into URL to restore elsewhere)",
            )
        answer = input(f"Replace {len(manifest.tables)} tables of {where} with the snapshot's? Type 'yes': ")
        if answer.strip().lower() != "yes":
            raise CommandExit(EXIT_FLOW, "not restored")

    def restore_and_verify(self, manifest, target, where: str, *, clean: bool = True, atomic: bool = False) -> None:
        self.check(manifest, target)
        try:
            warnings = restore(manifest, self.options["snapshot"], target, clean=clean, atomic=atomic)
        except MissingTool as exc:
            raise CommandExit(EXIT_USAGE, str(exc)) from None
        except SnapshotError as exc:
            raise CommandExit(EXIT_FLOW, str(exc)) from None
        result = verify(manifest, target, warnings)
        for warning in result.warnings:
            self.stderr.write(f"warning: {warning}")
        rows = sum(t.rows for t in manifest.tables)
        if self.options["format"] == "json":
            self.emit_json(
                {
                    "snapshot": self.options["snapshot"],
                    "into": where,
                    "verified": result.ok,
                    "tables": len(manifest.tables),
                    "rows": rows,
                    "problems": result.problems,
                    "warnings": result.warnings,
                }
            )
        elif result.ok:
            self.stdout.write(
                f"Restored {len(manifest.tables)} tables ({rows} rows) into {where}: verified equal to the snapshot "
                "(schema, row counts and checksums)."
            )
        else:
            self.stdout.write(
                format_rows(("TABLE", "PROBLEM"), [(t, p) for t, problems in result.problems.items() for p in problems])
            )
        if not result.ok:
            names = ", ".join(result.problems)
            raise CommandExit(EXIT_FLOW, f"restored, but not equal to the snapshot: {names}")
