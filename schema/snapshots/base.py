"""What every backend's snapshot class does, and the pieces they share.

A backend class knows its server's dump and restore tools (and the Debian
package that has them), how the server checksums a table's content, and how
to make and drop a scratch database on the same server. Everything else
(manifests, verification, the commands) is the same for all backends.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from ..dialects import dialect_for
from ..schema import Table
from .manifest import TableState


class SnapshotError(Exception):
    """A dump or restore tool failed, or the server refused (exit 1)."""


class MissingTool(SnapshotError):
    """A dump or restore binary is not installed (exit 2: fix the machine, then run again)."""


@dataclass(frozen=True)
class Tool:
    #: executable names, preferred first
    names: tuple[str, ...]
    #: the Debian package that installs them
    package: str

    def path(self) -> str:
        for name in self.names:
            found = shutil.which(name)
            if found:
                return found
        raise MissingTool(
            f"{self.names[0]} is not installed: install the Debian package {self.package} "
            f"(apt-get install {self.package}; scripts/setup.sh installs it)"
        )

    @functools.cache  # noqa: B019 -- a handful of Tool constants, cached for the process
    def version(self) -> str:
        proc = subprocess.run([self.path(), "--version"], capture_output=True, text=True, check=False)
        return (proc.stdout or proc.stderr).strip().splitlines()[0] if (proc.stdout or proc.stderr) else "unknown"


def order_columns(table: Table) -> tuple[str, ...]:
    """The columns rows are read in for a checksum: the primary key, or every column."""
    return tuple(table.primary_key) or tuple(sorted(table.columns))


def hashed_columns(table: Table) -> list[str]:
    """Columns by name, so a column re-added at the end hashes the same as it did in place."""
    return sorted(table.columns)


def failure(tool: str, proc) -> str:
    text = proc.stderr.decode(errors="replace") if isinstance(proc.stderr, bytes) else (proc.stderr or "")
    lines = [line for line in text.strip().splitlines() if line.strip()]
    # the last error line says what went wrong (pg_dump follows it with the query, "detail: Query was")
    errors = [line for line in lines if "error" in line.lower()] or lines
    return f"{Path(tool).name} exited with {proc.returncode}" + (f": {errors[-1]}" if errors else "")


class SnapshotBackend:
    vendor = ""
    #: the file or directory, inside a snapshot, that holds the dumped data
    data_name = ""
    dump_tool: Tool | None = None
    restore_tool: Tool | None = None

    def __init__(self, connection):
        self.connection = connection
        self.settings = connection.settings_dict
        self.quote = dialect_for(connection).quote

    # ---- tools --------------------------------------------------------------------
    def check_tools(self) -> None:
        for tool in (self.dump_tool, self.restore_tool):
            if tool is not None:
                tool.path()

    def tool_versions(self) -> dict:
        return {Path(t.path()).name: t.version() for t in (self.dump_tool, self.restore_tool) if t is not None}

    def tool_env(self) -> dict:
        return dict(os.environ)

    # ---- what each backend provides ------------------------------------------------
    def server_version(self) -> str:
        raise NotImplementedError

    def namespace(self) -> str | None:
        """The schema inside the database that the tables are in, where a backend has several."""
        return None

    def states(self, tables: list[Table], progress=None) -> list[TableState]:
        """Row count and the server's content checksum of each table, now."""
        raise NotImplementedError

    def dump(self, directory: Path, tables: list[Table], complete: bool, progress=None):
        """Dump ``tables`` into ``directory / data_name``.

        Returns ``(states, changed)``: each table's state as the dump holds it,
        and the tables whose content changed while the dump ran.
        """
        raise NotImplementedError

    def restore(self, directory: Path, manifest, *, clean: bool, atomic: bool = False) -> list[str]:
        """Load the snapshot's tables into this connection's database; returns warnings.

        ``clean``: the database may hold these tables already (they are replaced);
        ``atomic``: all or nothing where the backend can (the Nova database itself).
        """
        raise NotImplementedError

    def restore_problem(self, manifest) -> str | None:
        """Why the snapshot cannot be restored into this connection's database, or None."""
        return None

    def create_database(self, name: str) -> dict:
        """A new, empty database on the same server; returns its Django settings."""
        raise NotImplementedError

    def drop_database(self, config: dict) -> None:
        raise NotImplementedError
