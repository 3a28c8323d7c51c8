"""Restore a snapshot into a database, and verify the result against the manifest.

Verified means: the restored tables' schema compares equal to the schema the
manifest recorded (the engine's own :func:`schema.diff.diff`), and each
table's row count and server-side checksum equal the manifest's.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path

from django.db import DatabaseError

from ..dialects import dialect_for
from ..diff import diff
from ..introspect import introspect, live_table_names
from ..schema_json import schema_from_dict
from .backends import snapshot_backend
from .databases import scratch_database
from .manifest import Manifest, ManifestError


@dataclass
class Verification:
    #: table -> what differs
    problems: dict[str, list[str]] = field(default_factory=dict)
    #: what the restore tool said, if anything
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def add(self, table: str, problem: str) -> None:
        self.problems.setdefault(table, []).append(problem)


def check_restorable(manifest: Manifest, directory, connection) -> None:
    """Bad input (exit 2): a snapshot of another backend, or one whose data is gone."""
    if manifest.vendor != connection.vendor:
        raise ManifestError(
            f"the snapshot is of a {manifest.vendor} database; it cannot be restored into a {connection.vendor} one"
        )
    if not (Path(directory) / manifest.data).exists():
        raise ManifestError(f"the snapshot's data ({Path(directory) / manifest.data}) is missing")
    problem = snapshot_backend(connection).restore_problem(manifest)
    if problem:
        raise ManifestError(problem)


def restore(manifest: Manifest, directory, connection, *, clean: bool = True, atomic: bool = False) -> list[str]:
    """Load the snapshot's tables into ``connection``'s database (replacing them); returns warnings."""
    check_restorable(manifest, directory, connection)
    return snapshot_backend(connection).restore(Path(directory), manifest, clean=clean, atomic=atomic)


def verify_in_scratch(manifest: Manifest, directory, connection) -> Verification:
    """Restore the snapshot into a scratch database on ``connection``'s server, verify it there, drop it."""
    with scratch_database(connection) as scratch:
        warnings = restore(manifest, directory, scratch, clean=False)
        return verify(manifest, scratch, warnings)


def damage_found_in_scratch(manifest: Manifest, directory, connection, warn) -> str | None:
    """The snapshot's first difference from its manifest (restored and verified in a scratch database),
    or None: before a restore replaces tables with a cut or edited snapshot. Where no scratch database
    can be made (the user may not create one), ``warn`` says so and None."""
    try:
        result = verify_in_scratch(manifest, directory, connection)
    except DatabaseError as exc:
        warn(f"the snapshot could not be checked in a scratch database first: {exc}")
        return None
    if result.ok:
        return None
    table, problems = next(iter(result.problems.items()))
    return f"{table}: {problems[0]}"


def verify(manifest: Manifest, connection, warnings=()) -> Verification:
    result = Verification(warnings=list(warnings))
    expected = schema_from_dict(manifest.schema)
    live = introspect(connection, tables=manifest.table_names)
    _drop_foreign_keys_to_absent_tables(expected, live, set(live_table_names(connection)))
    for d in diff(expected, live, dialect_for(connection)).differences:
        result.add(d.table, f"schema: {d.kind} {d.object} (expected {d.expected or '-'}, found {d.found or '-'})")
    present = [expected[t] for t in manifest.table_names if t in live.tables]
    try:
        states = {s.name: s for s in snapshot_backend(connection).states(present)}
    except DatabaseError as exc:
        for table in present:
            result.add(table.name, f"cannot be read: {exc}")
        return result
    for want in manifest.tables:
        got = states.get(want.name)
        if got is None:
            continue  # missing: the schema comparison said so
        if got.rows != want.rows:
            result.add(want.name, f"{got.rows} rows, the snapshot has {want.rows}")
        elif got.checksum != want.checksum:
            result.add(want.name, "the content differs from the snapshot's (checksum)")
    return result


def _drop_foreign_keys_to_absent_tables(expected, live, present: set) -> None:
    """A snapshot of some tables restored alone: their foreign keys to the others are not compared."""
    for schema in (expected, live):
        for name, table in list(schema.tables.items()):
            kept = [fk for fk in table.foreign_keys if fk.ref_table in present]
            if len(kept) != len(table.foreign_keys):
                table = copy.copy(table)
                table.foreign_keys = kept
                schema.tables[name] = table
