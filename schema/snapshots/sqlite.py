"""SQLite: the online backup API (Python's ``sqlite3`` ``backup``), a hash over rows in key order.

The backup is a consistent copy of the whole file; a snapshot of some tables
drops the others from the copy. Checksums are read from a plain
``sqlite3`` connection to the file (Django's converts dates), each row's
columns by name, rows in primary-key order.
"""

from __future__ import annotations

import contextlib
import hashlib
import sqlite3
import tempfile
from pathlib import Path

from django.db import DatabaseError, transaction

from ..dialects.base import quote_identifier
from ..schema import Table
from .base import SnapshotBackend, hashed_columns, order_columns
from .manifest import TableState

_quote = quote_identifier  # for a raw sqlite3 connection, outside Django


def file_states(path, tables: list[Table], progress=None) -> list[TableState]:
    raw = sqlite3.connect(path)
    try:
        states = []
        for table in tables:
            columns = ", ".join(_quote(c) for c in hashed_columns(table))
            order = ", ".join(_quote(c) for c in order_columns(table))
            digest, count = hashlib.md5(usedforsecurity=False), 0
            cursor = raw.execute(f"SELECT {columns} FROM {_quote(table.name)} ORDER BY {order}")
            while rows := cursor.fetchmany(5000):
                for row in rows:
                    digest.update(repr(row).encode() + b"\n")
                count += len(rows)
            states.append(TableState(table.name, count, digest.hexdigest()))
            if progress:
                progress.advance()
        return states
    finally:
        raw.close()


class SQLiteSnapshots(SnapshotBackend):
    vendor = "sqlite"
    data_name = "database.sqlite3"

    def tool_versions(self) -> dict:
        return {"sqlite3 backup API": sqlite3.sqlite_version}

    def server_version(self) -> str:
        return sqlite3.sqlite_version

    def states(self, tables: list[Table], progress=None) -> list[TableState]:
        return file_states(self.settings["NAME"], tables, progress)

    def dump(self, directory: Path, tables: list[Table], complete: bool, progress=None):
        target = Path(directory) / self.data_name
        self.connection.ensure_connection()
        copy = sqlite3.connect(target)
        try:
            self.connection.connection.backup(copy)
            if not complete:
                wanted = {t.name for t in tables}
                names = [r[0] for r in copy.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
                for name in names:
                    if name not in wanted and not name.startswith("sqlite_"):
                        copy.execute(f"DROP TABLE {_quote(name)}")
                copy.commit()
                copy.execute("VACUUM")
        finally:
            copy.close()
        return file_states(target, tables, progress), []

    def restore(self, directory: Path, manifest, *, clean: bool, atomic: bool = False) -> list[str]:
        source = str(Path(directory) / manifest.data)
        warnings = []
        with self.connection.constraint_checks_disabled(), self.connection.cursor() as cursor:
            try:
                cursor.execute("ATTACH DATABASE %s AS snapshot", [source])
            except DatabaseError as exc:
                return [f"cannot open the snapshot's database file: {exc}"]
            try:
                for name in manifest.table_names:
                    try:
                        with transaction.atomic(using=self.connection.alias):
                            self._restore_table(cursor, name)
                    except DatabaseError as exc:
                        warnings.append(f"{name} could not be restored: {exc}")
            finally:
                cursor.execute("DETACH DATABASE snapshot")
        return warnings

    def _restore_table(self, cursor, name: str) -> None:
        q = self.quote
        cursor.execute(
            "SELECT type, sql FROM snapshot.sqlite_master WHERE tbl_name = %s AND sql IS NOT NULL "
            "ORDER BY type = 'index'",
            [name],
        )
        definitions = cursor.fetchall()
        cursor.execute(f"DROP TABLE IF EXISTS main.{q(name)}")
        for kind, sql in definitions:
            cursor.execute(sql)
            if kind == "table":
                cursor.execute(f"INSERT INTO main.{q(name)} SELECT * FROM snapshot.{q(name)}")

    def create_database(self, name: str) -> dict:
        directory = tempfile.mkdtemp(prefix="novaweb_scratch_")
        path = Path(directory) / f"{name}.sqlite3"
        sqlite3.connect(path).close()
        return {**self.settings, "NAME": str(path)}

    def drop_database(self, config: dict) -> None:
        path = Path(config["NAME"])
        for suffix in ("", "-journal", "-wal", "-shm"):
            with contextlib.suppress(FileNotFoundError):
                Path(f"{path}{suffix}").unlink()
        with contextlib.suppress(OSError):
            path.parent.rmdir()
