"""PostgreSQL: ``pg_dump`` in directory format on an exported snapshot, an ordered md5.

The checksums are read in the very transaction whose snapshot ``pg_dump``
uses (``pg_export_snapshot()`` / ``--snapshot``), while it runs: the manifest
describes exactly the data dumped, whatever writes go on meanwhile. A
table's checksum is the sum of a 64-bit hash of each row (its columns by name,
as a row value): ``hash_record_extended`` (PostgreSQL 14+), the stable hash
PostgreSQL's hash partitioning uses, computed on the values without turning
them into text. Order-independent, so no sort. Measured at 1M rows of six
columns: 0.36 s, against 0.76 s for a hash of each row's text; at 100,000
instances an ordered ``md5(string_agg(...))`` took twice a text hash. It runs in
parallel with ``pg_dump``.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from django.db import transaction

from ..introspect import introspect
from ..schema import Table
from .base import SnapshotBackend, SnapshotError, Tool, failure, hashed_columns
from .manifest import TableState


def _pattern(name: str) -> str:
    """A name as pg_dump's ``-t``/``-n`` pattern matches it exactly (quoted: no wildcards)."""
    return '"' + name.replace('"', '""') + '"'


class PostgreSQLSnapshots(SnapshotBackend):
    vendor = "postgresql"
    data_name = "dump"
    dump_tool = Tool(("pg_dump",), "postgresql-client")
    restore_tool = Tool(("pg_restore",), "postgresql-client")

    def client_args(self) -> list[str]:
        s = self.settings
        args = []
        if s.get("HOST"):
            args += ["-h", s["HOST"]]
        if s.get("PORT"):
            args += ["-p", str(s["PORT"])]
        if s.get("USER"):
            args += ["-U", s["USER"]]
        return [*args, "-d", s["NAME"]]

    def tool_env(self) -> dict:
        env = super().tool_env()
        if self.settings.get("PASSWORD"):
            env["PGPASSWORD"] = self.settings["PASSWORD"]
        return env

    def server_version(self) -> str:
        with self.connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            return cursor.fetchone()[0]

    def namespace(self) -> str:
        # The tools' sessions do not get the URL's search_path: every name they are given is qualified.
        with self.connection.cursor() as cursor:
            cursor.execute("SELECT current_schema()")
            return cursor.fetchone()[0]

    def states(self, tables: list[Table], progress=None) -> list[TableState]:
        q = self.quote
        states = []
        with self.connection.cursor() as cursor:
            for table in tables:
                row = ", ".join(q(c) for c in hashed_columns(table))
                cursor.execute(f"SELECT count(*), sum(hash_record_extended(ROW({row}), 0)) FROM {q(table.name)}")
                count, checksum = cursor.fetchone()
                states.append(TableState(table.name, count, str(checksum or 0)))
                if progress:
                    progress.advance()
        return states

    def dump(self, directory: Path, tables: list[Table], complete: bool, progress=None):
        target = Path(directory) / self.data_name
        alias = self.connection.alias
        schema = _pattern(self.namespace())
        with transaction.atomic(using=alias), self.connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            cursor.execute("SELECT pg_export_snapshot()")
            (snapshot,) = cursor.fetchone()
            command = [
                self.dump_tool.path(),
                *self.client_args(),
                "--format=directory",
                "--compress=0",
                f"--snapshot={snapshot}",
                "--no-owner",
                "--no-privileges",
                f"--file={target}",
            ]
            if len(tables) > 1:
                command.append("--jobs=2")
            if not complete:
                for table in tables:  # of the current schema, not the first table of that name pg_dump sees
                    command += ["-t", f"{schema}.{_pattern(table.name)}"]
            with subprocess.Popen(command, env=self.tool_env(), stderr=subprocess.PIPE) as proc:
                states = self.states(tables, progress)
                _, err = proc.communicate()
        if proc.returncode:
            proc.stderr = err
            raise SnapshotError(f"the dump failed: {failure(command[0], proc)}")
        return states, []

    def restore(self, directory: Path, manifest, *, clean: bool, atomic: bool = False) -> list[str]:
        from ..dialects import dialect_for
        from ..schema_json import schema_from_dict

        source = Path(directory) / manifest.data
        live = introspect(self.connection)
        snapshot = schema_from_dict(manifest.schema)
        present = set(live.tables) | set(snapshot.tables)
        tool = self.restore_tool.path()
        command = [tool, *self.client_args(), "--no-owner", "--no-privileges"]
        # foreign keys to tables neither in the snapshot nor in the database cannot be made
        dangling = {fk.name for t in snapshot.tables.values() for fk in t.foreign_keys if fk.ref_table not in present}
        if dangling:
            listing = subprocess.run([tool, "-l", str(source)], capture_output=True, text=True, check=False)
            keep = [
                line
                for line in listing.stdout.splitlines()
                if not (" FK CONSTRAINT " in line and line.split()[-2] in dangling)
            ]
            (Path(directory) / "restore.list").write_text("\n".join(keep) + "\n")
            command += ["-L", str(Path(directory) / "restore.list")]
        # foreign keys of other tables that point at a replaced table would stop its DROP
        dialect, q = dialect_for(self.connection), self.quote
        incoming = [
            (t.name, fk)
            for t in live.tables.values()
            if t.name not in snapshot.tables
            for fk in t.foreign_keys
            if fk.ref_table in snapshot.tables
        ]
        namespace = manifest.namespace
        if namespace and clean:
            # Only the snapshot's schema is replaced (pg_restore -n: its objects, not the schema itself);
            # a complete snapshot holds the other schemas too, and they are left as they are.
            command += ["--schema", namespace]
        if namespace and (clean or not manifest.complete):
            self._create_schema(namespace)  # nothing in the data creates it
        if clean:
            command += ["--clean", "--if-exists"]
        # all or nothing, or as much as can be read (a damaged table fails alone, and is named)
        command += ["--single-transaction", "--exit-on-error"] if atomic else ["--jobs=2"]
        warnings = []
        with self.connection.cursor() as cursor:
            for table, fk in incoming:
                cursor.execute(dialect.drop_foreign_key_sql(q, table, fk))
        proc = subprocess.run([*command, str(source)], env=self.tool_env(), capture_output=True, check=False)
        if proc.returncode and not atomic:
            warnings.append(f"the restore tool reported an error: {failure(tool, proc)}")
        with self.connection.cursor() as cursor:
            for table, fk in incoming:
                try:
                    with transaction.atomic(using=self.connection.alias):
                        cursor.execute(dialect.add_foreign_key_sql(q, table, fk))
                except Exception as exc:  # noqa: BLE001 -- reported, the verification says the rest
                    warnings.append(f"could not put back {fk.describe()} on {table}: {exc}")
        if proc.returncode and atomic:  # one transaction: rolled back whole, the tables as they were
            raise SnapshotError(
                f"nothing was restored (the restore, one transaction, was rolled back): {failure(tool, proc)}"
                + "".join(f"; {w}" for w in warnings)
            )
        return warnings

    def restore_problem(self, manifest) -> str | None:
        namespace = manifest.namespace
        with self.connection.cursor() as cursor:
            cursor.execute(
                "SELECT current_schema(), EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = %s)", [namespace]
            )
            current, exists = cursor.fetchone()
        if namespace is None or current == namespace or not exists:
            return None
        return (
            f"the snapshot holds tables of schema {namespace!r}, and the current schema here is {current!r}: "
            f"set the search_path to {namespace} to restore it"
        )

    def _create_schema(self, name: str) -> None:
        with self.connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", [name])
            if cursor.fetchone() is None:
                cursor.execute(f"CREATE SCHEMA {self.quote(name)}")

    def create_database(self, name: str) -> dict:
        q = self.quote
        with self.connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_encoding_to_char(encoding), datcollate, datctype FROM pg_database "
                "WHERE datname = current_database()"
            )
            encoding, collate, ctype = cursor.fetchone()
            cursor.execute(
                f"CREATE DATABASE {q(name)} TEMPLATE template0 ENCODING %s LC_COLLATE %s LC_CTYPE %s",
                [encoding, collate, ctype],
            )
        return {**self.settings, "NAME": name}

    def drop_database(self, config: dict) -> None:
        with self.connection.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS {self.quote(config['NAME'])} WITH (FORCE)")
