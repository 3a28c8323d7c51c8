"""A way back from every sync: ``--snapshot``, ``--rehearse`` and the sync history.

:class:`RecoverableSync` is mixed into ``db_sync``, ``db_expand``,
``db_migrate`` and ``db_contract`` ahead of :class:`PhasedCommand`, and hooks
into the run at three points, leaving the executor as it is:

- after every refusal and before the first change (``refuse_unsafe``):
  ``--rehearse`` runs the plan on a scratch copy of the touched tables,
  ``--snapshot`` snapshots exactly the touched tables, and the run is
  recorded in :mod:`schema.sync_history` with a recorder that marks each
  statement as it starts and finishes;
- at the end (``finish``): the backup tables made and the outcome;
- the JSON output names the snapshot and the sync id.
"""

from __future__ import annotations

import contextlib
import tempfile
import time

from django.db import DatabaseError

from schema import sync_history
from schema.destructive import back_up
from schema.management.base import EXIT_FLOW, EXIT_USAGE, CommandExit
from schema.plan import apply_statements
from schema.reporting import format_rows
from schema.schema_json import schema_to_dict
from schema.snapshots import MissingTool, SnapshotError, restore, take_snapshot
from schema.snapshots.databases import scratch_database


def touched_tables(steps, live) -> list[str]:
    """Live tables the plan changes: what ``--snapshot`` keeps."""
    return sorted({s.operation.table for s in steps if s.operation.table in live.tables})


def rehearsal_tables(steps, live) -> list[str]:
    """The touched tables and the live tables their new foreign keys point at."""
    tables = set(touched_tables(steps, live))
    for step in steps:
        op = step.operation
        objects = [op.want, op.have]
        if op.kind == "create_table" and op.want is not None:
            objects += op.want.foreign_keys
        tables |= {o.ref_table for o in objects if getattr(o, "ref_table", None) in live.tables}
    return sorted(tables)


class RecoverableSync:
    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument(
            "--snapshot",
            action="store_true",
            help="Snapshot the tables the plan touches before the first statement (db_undo can restore it).",
        )
        parser.add_argument("--snapshot-dir", metavar="DIR", help="Where --snapshot writes (default: var/snapshots/).")
        parser.add_argument(
            "--rehearse",
            action="store_true",
            help="First run the plan on a scratch copy of the touched tables and report each statement's time; "
            "stop before touching the database if a statement fails.",
        )

    @property
    def command_name(self) -> str:
        return type(self).__module__.rsplit(".", 1)[-1]

    # ---- the run ---------------------------------------------------------------------------
    def run(self, connection, survey):
        self.sync_record = None
        self.sync_snapshot = None
        try:
            with contextlib.ExitStack() as self._recording:
                super().run(connection, survey)
        except BaseException:
            record = self.sync_record
            if record is not None and record.status == sync_history.RUNNING:
                with contextlib.suppress(DatabaseError):
                    sync_history.finish(connection, record, sync_history.FAILED)
                self.say(
                    f"Sync {record.id} failed; its history says which statements ran: ./manage.py db_undo {record.id}"
                    " goes back, db_sync again goes forward."
                )
            raise

    def refuse_unsafe(self, connection, survey):
        losses = super().refuse_unsafe(connection, survey)
        steps = survey.plan.in_phases(self.phases)
        if not steps:
            return losses
        live = survey.comparison.live
        if self.options.get("rehearse"):
            self.rehearse(connection, steps, losses, live)
        if self.options.get("snapshot"):
            self.sync_snapshot = self.snapshot(connection, touched_tables(steps, live))
        plan = survey.plan.as_dict(self.phases, database=self.options["database"])
        plan["snapshot"] = self.sync_snapshot
        self.sync_record = sync_history.start(
            connection,
            self.command_name,
            plan=plan,
            before_schema=schema_to_dict(live),
            snapshot=self.sync_snapshot,
            version=survey.version,
            phase=survey.phase,
        )
        self.say(f"Recording this run as sync {self.sync_record.id} (undo: ./manage.py db_undo {self.sync_record.id})")
        recorder = sync_history.StatementRecorder(
            connection, self.sync_record, [st for s in steps for st in s.statements]
        )
        self._recording.enter_context(connection.execute_wrapper(recorder))
        return losses

    def finish(self, connection, survey, steps, backups, seeded):
        record = self.sync_record
        if record is not None:
            record.backups = [
                {
                    "table": loss.operation.table,
                    "kind": loss.operation.kind,
                    "object": loss.operation.object,
                    "change": loss.operation.change or None,
                    "backup": name,
                    "rows": count,
                    "columns": loss.backup[1] if loss.backup else None,
                }
                for name, count, loss in backups
            ]
            sync_history.finish(connection, record, sync_history.APPLIED)
        return super().finish(connection, survey, steps, backups, seeded)

    def emit_json(self, data):
        if isinstance(data, dict) and "applied" in data and getattr(self, "sync_record", None) is not None:
            data = {**data, "sync_id": self.sync_record.id, "snapshot": self.sync_snapshot}
        return super().emit_json(data)

    # ---- --snapshot ---------------------------------------------------------------------------
    def snapshot(self, connection, tables) -> str | None:
        if not tables:
            self.say("Nothing to snapshot: the plan changes no existing table.")
            return None
        try:
            path, manifest = take_snapshot(
                connection, output=self.options.get("snapshot_dir"), tables=tables, label=self.command_name
            )
        except MissingTool as exc:
            raise CommandExit(EXIT_USAGE, str(exc)) from None
        except SnapshotError as exc:
            raise CommandExit(EXIT_FLOW, f"no snapshot, so no change: {exc}") from None
        rows = sum(t.rows for t in manifest.tables)
        self.say(f"Snapshot of the {len(tables)} tables this plan touches ({rows} rows): {path}")
        return str(path)

    # ---- --rehearse ------------------------------------------------------------------------
    def rehearse(self, connection, steps, losses, live) -> None:
        tables = rehearsal_tables(steps, live)
        timings = []
        try:
            with (
                tempfile.TemporaryDirectory(prefix="novaweb_rehearsal_") as tmp,
                scratch_database(connection) as scratch,
            ):
                started = time.monotonic()
                path, manifest = take_snapshot(connection, output=tmp, tables=tables, label="rehearsal")
                for warning in restore(manifest, path, scratch, clean=False):
                    self.say(f"rehearsal: {warning}")
                self.say(
                    f"Rehearsal: {len(tables)} tables copied into a scratch database in "
                    f"{time.monotonic() - started:.2f}s"
                )
                if losses:
                    started = time.monotonic()
                    back_up(scratch, losses)
                    timings.append((f"{time.monotonic() - started:.3f}", "back up what the contract drops", "-"))
                for step in steps:
                    for statement in step.statements:
                        started = time.monotonic()
                        try:
                            apply_statements(scratch, [statement], warn=self.say)
                        except DatabaseError as exc:
                            self.print_timings(timings)
                            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                            raise CommandExit(
                                EXIT_FLOW,
                                f"the rehearsal failed at '{step.operation.description}' ({statement.sql}): {reason}; "
                                "nothing was changed in the database",
                            ) from None
                        timings.append((f"{time.monotonic() - started:.3f}", step.operation.description, statement.sql))
        except MissingTool as exc:
            raise CommandExit(EXIT_USAGE, str(exc)) from None
        except SnapshotError as exc:
            raise CommandExit(EXIT_FLOW, f"the rehearsal could not copy the tables: {exc}") from None
        self.print_timings(timings)
        total = sum(float(t[0]) for t in timings)
        self.say(f"Rehearsal passed: {len(timings)} statements in {total:.2f}s; now running them on the database.")

    def print_timings(self, timings) -> None:
        if timings:
            rows = [(t[0], t[1], t[2][:100]) for t in timings]
            self.say(format_rows(("SECONDS", "OPERATION", "STATEMENT"), rows))
