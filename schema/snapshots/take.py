"""Take a snapshot: the data with the server's own dump tool, and its manifest."""

from __future__ import annotations

import datetime
import shutil
from pathlib import Path

from django.conf import settings

from ..introspect import introspect, live_table_names
from ..schema_json import schema_to_dict
from ..versioning import version_or_none
from .backends import snapshot_backend
from .manifest import Manifest


class UnknownTables(ValueError):
    """``--tables`` names a table the database does not have (exit 2)."""


def default_directory() -> Path:
    return Path(settings.VAR_DIR) / "snapshots"


def _database_label(connection) -> str:
    name = Path(str(connection.settings_dict["NAME"])).name
    return name.removesuffix(".sqlite3").replace(" ", "_") or connection.vendor


def take_snapshot(connection, *, output=None, tables=None, label: str = "", progress=None) -> tuple[Path, Manifest]:
    """Snapshot every table of ``connection`` (or only ``tables``) under ``output``.

    Returns the snapshot's directory and its manifest.
    """
    backend = snapshot_backend(connection)
    backend.check_tools()
    present = live_table_names(connection)
    if tables is None:
        names, complete = present, True
    else:
        unknown = [t for t in tables if t not in present]
        if unknown:
            raise UnknownTables(f"no table {', '.join(unknown)} in the database")
        names, complete = sorted(set(tables)), False
    live = introspect(connection, tables=names)
    if progress is not None:
        progress.total = max(len(names), 1)
    now = datetime.datetime.now(datetime.UTC)
    stamp = now.strftime("%Y%m%dT%H%M%S%fZ")
    parent = Path(output) if output else default_directory()
    directory = parent / f"{connection.vendor}-{_database_label(connection)}-{stamp}{'-' + label if label else ''}"
    directory.mkdir(parents=True, exist_ok=False)
    try:
        states, changed = backend.dump(directory, [live[t] for t in names], complete, progress)
    except BaseException:  # no half-written snapshot left to be mistaken for one
        shutil.rmtree(directory, ignore_errors=True)
        raise
    manifest = Manifest(
        created_at=now.isoformat(timespec="seconds"),
        vendor=connection.vendor,
        database=str(connection.settings_dict["NAME"]),
        server_version=backend.server_version(),
        schema_version=version_or_none(connection) if "migrate_version" in present else None,
        tool_versions=backend.tool_versions(),
        data=backend.data_name,
        tables=states,
        schema=schema_to_dict(live, names),
        complete=complete,
        changed_during_snapshot=changed,
        namespace=backend.namespace(),
    )
    manifest.write(directory)
    return directory.resolve(), manifest
