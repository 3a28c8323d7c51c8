"""Undo a sync novaweb applied (``db_sync``, ``db_expand``, ``db_migrate``, ``db_contract``).

The inverse of each operation the sync ran, in reverse dependency order, with
the values from its backup tables; or, where no inverse can keep the data, a
restore of the touched tables from the sync's snapshot (``--snapshot``).
Afterwards the schema equals the one the sync started from; with a snapshot,
each touched table's rows are compared with it too. See :mod:`schema.undo`.
"""

from __future__ import annotations

from schema import sync_history
from schema.backup import copy_to_backup
from schema.introspect import introspect, live_table_names
from schema.locking import LockTimeout, SyncLock
from schema.management.base import EXIT_FLOW, EXIT_USAGE, CommandExit, NovaCommand
from schema.schema_json import schema_from_dict
from schema.snapshots import Manifest, ManifestError, SnapshotError, damage_found_in_scratch, restore, snapshot_backend
from schema.undo import UndoRefused, plan_undo, remaining_differences, restore_bookkeeping, run_undo


class Command(NovaCommand):
    help = "Undo the last sync novaweb applied (or SYNC_ID): inverse DDL with the backed-up values, or the snapshot."
    json_output = True

    def add_arguments(self, parser):
        which = parser.add_mutually_exclusive_group()
        which.add_argument(
            "sync_id", nargs="?", type=int, metavar="SYNC_ID", help="The sync to undo (db_sync prints it)."
        )
        which.add_argument("--last", action="store_true", help="The last sync not undone yet (the default).")
        parser.add_argument("--dry-run", action="store_true", help="Print what would be done and change nothing.")

    def say(self, message: str) -> None:
        (self.stderr if self.options["format"] == "json" else self.stdout).write(message)

    def handle(self, *args, **options):
        self.options = options
        connection = self.connect(options["database"])
        if options["dry_run"]:
            return self.undo(connection, dry_run=True)
        try:
            with SyncLock(connection, notify=self.say):
                return self.undo(connection, dry_run=False)
        except LockTimeout as exc:
            raise CommandExit(EXIT_FLOW, str(exc)) from None

    # ---- which sync -----------------------------------------------------------------------
    def record(self, connection):
        history = sync_history.records(connection)
        if not history:
            raise CommandExit(EXIT_USAGE, "no sync is recorded in this database: there is nothing to undo")
        wanted = self.options["sync_id"]
        if wanted is None:
            record = next((r for r in history if r.status != sync_history.UNDONE), None)
            if record is None:
                raise CommandExit(EXIT_USAGE, "every recorded sync has been undone already")
            return record
        record = next((r for r in history if r.id == wanted), None)
        if record is None:
            raise CommandExit(EXIT_USAGE, f"no sync {wanted} in the history (db_undo --dry-run shows the last one)")
        if record.status == sync_history.UNDONE:
            raise CommandExit(EXIT_USAGE, f"sync {wanted} was undone already, at {record.undone_at}")
        later = [r.id for r in history if r.id > wanted and r.status != sync_history.UNDONE]
        if later:
            raise CommandExit(EXIT_FLOW, f"sync {max(later)} ran after sync {wanted}: undo it first")
        return record

    def readable(self, record):
        """``record``, unless its history row was edited into what no undo can be planned from (exit 2)."""
        damage = sync_history.damage(record)
        if damage is None:
            return record
        snapshot = f"db_restore {record.snapshot} puts back the tables it touched, " if record.snapshot else ""
        raise CommandExit(
            EXIT_USAGE,
            f"sync {record.id}'s row in {sync_history.TABLE} cannot be read ({damage}): "
            f"{snapshot}or put the row back as the sync wrote it",
        )

    def manifest(self, record):
        """``(manifest, None)``, or ``(None, why the sync's snapshot cannot be restored)``."""
        if not record.snapshot:
            return None, "the sync took no snapshot"
        try:
            return Manifest.read(record.snapshot), None
        except ManifestError as exc:
            return None, f"the sync's snapshot cannot be used ({exc})"

    # ---- the undo ---------------------------------------------------------------------------------
    def undo(self, connection, *, dry_run: bool):
        record = self.readable(self.record(connection))
        manifest, no_snapshot = self.manifest(record)
        try:
            plan = plan_undo(
                connection,
                record,
                no_snapshot=no_snapshot,
                snapshot_tables=frozenset(manifest.table_names if manifest else ()),
            )
        except UndoRefused as exc:
            raise CommandExit(EXIT_FLOW, f"cannot undo sync {record.id}: {exc}") from None
        state = "killed or failed half-way" if record.status != sync_history.APPLIED else "applied"
        self.say(
            f"Sync {record.id} ({record.command}, {record.started_at}, {state}: {record.statements_run} statements ran)"
        )
        if dry_run:
            return self.report_plan(plan)
        ran, restored, kept = [], [], {}
        if plan.from_snapshot:
            for reason in plan.reasons:
                self.say(f"No inverse keeps the data: {reason}")
            self.check_snapshot(connection, record, manifest)
            kept = self.keep_rows(connection, record, manifest)
            restored = self.restore_snapshot(connection, record, manifest, kept)
            try:
                plan = plan_undo(connection, record, no_snapshot="it was restored already", after_snapshot=True)
            except UndoRefused as exc:
                raise CommandExit(EXIT_FLOW, f"sync {record.id}: the snapshot is back, but then: {exc}") from None
        ran = run_undo(connection, plan, record, warn=self.say)
        restore_bookkeeping(connection, record)
        left = remaining_differences(connection, record)
        rows = self.compare_rows(connection, manifest)
        record.undone_at = sync_history.utc_now()
        record.status = sync_history.UNDONE if not left else record.status
        record.undo = {"statements": ran, "restored_from_snapshot": restored, "rows_differ": rows, "kept": kept}
        sync_history.save(connection, record, "status", "undone_at", "undo")
        self.report_done(record, ran, restored, left, rows, manifest, kept)

    def check_snapshot(self, connection, record, manifest) -> None:
        """Refuse (1) before any change a snapshot whose data is not what its manifest says (cut, edited)."""
        try:
            damage = damage_found_in_scratch(manifest, record.snapshot, connection, warn=self.warn)
        except (SnapshotError, ManifestError) as exc:
            raise CommandExit(EXIT_FLOW, f"cannot undo sync {record.id}: its snapshot cannot be read: {exc}") from None
        if damage:
            raise CommandExit(
                EXIT_FLOW,
                f"cannot undo sync {record.id}: its snapshot {record.snapshot} does not hold what its manifest "
                f"says ({damage}); nothing was changed",
            )

    def warn(self, message: str) -> None:
        self.stderr.write(f"warning: {message}")

    def keep_rows(self, connection, record, manifest) -> dict[str, str]:
        """Copy the rows the snapshot is about to replace (written since the sync too) into backup tables."""
        present = set(live_table_names(connection))
        kept = {}
        for table in manifest.table_names:
            if table in present:
                name, rows = copy_to_backup(connection, table, what=f"undo_{record.id}_{table}")
                self.say(f"Backed up {rows} rows of {table} as they are now into {name}")
                kept[table] = name
        return kept

    def restore_snapshot(self, connection, record, manifest, kept) -> list[str]:
        self.say(f"Restoring {', '.join(manifest.table_names)} from the sync's snapshot {record.snapshot}")
        try:
            warnings = restore(manifest, record.snapshot, connection, clean=True, atomic=True)
        except (SnapshotError, ManifestError) as exc:
            raise CommandExit(
                EXIT_FLOW, f"the snapshot could not be restored: {exc}; the rows as they were: {_named(kept)}"
            ) from None
        for warning in warnings:
            self.stderr.write(f"warning: {warning}")
        return manifest.table_names

    def compare_rows(self, connection, manifest) -> list[str] | None:
        """Tables whose rows differ from the snapshot's (None: no snapshot to compare with)."""
        if manifest is None:
            return None
        backend = snapshot_backend(connection)
        expected = schema_from_dict(manifest.schema)
        live = introspect(connection, tables=manifest.table_names)
        present = [expected[t] for t in manifest.table_names if t in live.tables]
        states = {s.name: s for s in backend.states(present)}
        return [t.name for t in manifest.tables if states.get(t.name) != t]

    # ---- output -------------------------------------------------------------------------------
    def report_plan(self, plan) -> None:
        if self.options["format"] == "json":
            return self.emit_json(
                {
                    "from_snapshot": plan.from_snapshot,
                    "reasons": plan.reasons,
                    "steps": [s.as_dict() for s in plan.steps],
                    "copy_backs": [c.describe() for cbs in plan.copy_backs.values() for c in cbs],
                }
            )
        if plan.from_snapshot:
            for reason in plan.reasons:
                self.stdout.write(f"-- no inverse keeps the data: {reason}")
            self.stdout.write(
                f"-- restore {', '.join(plan.from_snapshot)} from the sync's snapshot (checked in a scratch database "
                "first; the rows there now copied to novaweb_backup_* tables), then plan again"
            )
        for i, step in enumerate(plan.steps):
            self.stdout.write(f"-- {step.operation.description}")
            for statement in step.statements:
                self.stdout.write(statement.sql.rstrip(";") + ";")
            for copy_back in plan.copy_backs.get(i, []):
                self.stdout.write(f"-- then {copy_back.describe()}")
        if plan.empty:
            self.stdout.write("-- nothing to undo: the schema is the one the sync started from")

    def report_done(self, record, ran, restored, left, rows, manifest, kept) -> None:
        if self.options["format"] == "json":
            self.emit_json(
                {
                    "sync_id": record.id,
                    "undone": not left,
                    "statements": ran,
                    "restored_from_snapshot": restored,
                    "schema_differences": [d.as_dict() for d in left],
                    "tables_differing_from_snapshot": rows,
                    "kept_before_restore": kept,
                }
            )
        else:
            how = f"{len(ran)} statements" + (
                f" after restoring {len(restored)} tables from the snapshot" if restored else ""
            )
            if not left:
                self.stdout.write(f"Sync {record.id} undone ({how}): the schema is the one it started from.")
            if rows is not None:
                self.stdout.write(
                    f"Rows of the {len(manifest.tables)} tables it touched: equal to the snapshot."
                    if not rows
                    else f"Rows differing from the snapshot taken before the sync (written since?): {', '.join(rows)}"
                )
        if left:
            raise CommandExit(
                EXIT_FLOW,
                f"sync {record.id} partly undone: the schema still differs from before it in {len(left)} ways "
                f"({left[0].table} {left[0].kind} {left[0].object}); run db_drift --verbose",
            )
        if restored and rows:
            raise CommandExit(
                EXIT_FLOW,
                f"sync {record.id}: {', '.join(rows)} differ from the snapshot just restored; "
                f"the rows as they were before the undo: {_named(kept)}",
            )


def _named(kept: dict[str, str]) -> str:
    return ", ".join(f"{table} in {backup}" for table, backup in kept.items()) or "none (no table was there)"
