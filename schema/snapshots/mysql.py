"""MySQL / MariaDB: ``mariadb-dump --single-transaction``, ``CHECKSUM TABLE``.

A dump's transaction cannot be shared with another session on MariaDB, so
the checksums are read while the dump runs, and a table that InnoDB says was
written to since the dump started (``information_schema.TABLES.UPDATE_TIME``,
to the second) is named in the manifest (``changed_during_snapshot``) rather
than promise a verification it cannot keep. novaweb never uses ``LOCK
TABLES`` (Galera).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from ..schema import Table
from .base import SnapshotBackend, SnapshotError, Tool, failure
from .manifest import TableState


class MySQLSnapshots(SnapshotBackend):
    vendor = "mysql"
    data_name = "dump.sql"
    dump_tool = Tool(("mariadb-dump", "mysqldump"), "mariadb-client")
    restore_tool = Tool(("mariadb", "mysql"), "mariadb-client")

    def client_args(self) -> list[str]:
        s = self.settings
        options = s.get("OPTIONS") or {}
        args = []
        host = s.get("HOST") or ""
        socket = options.get("unix_socket") or (host if host.startswith("/") else "")
        if socket:
            args.append(f"--socket={socket}")
        elif host:
            args.append(f"--host={host}")
        if s.get("PORT"):
            args.append(f"--port={s['PORT']}")
        if s.get("USER"):
            args.append(f"--user={s['USER']}")
        args.append("--default-character-set=utf8mb4")
        return args

    def tool_env(self) -> dict:
        env = super().tool_env()
        if self.settings.get("PASSWORD"):
            env["MYSQL_PWD"] = self.settings["PASSWORD"]  # not on the command line, where ps shows it
        return env

    def server_version(self) -> str:
        with self.connection.cursor() as cursor:
            cursor.execute("SELECT VERSION()")
            return cursor.fetchone()[0]

    def states(self, tables: list[Table], progress=None) -> list[TableState]:
        if not tables:
            return []
        q = self.quote
        with self.connection.cursor() as cursor:
            cursor.execute(f"CHECKSUM TABLE {', '.join(q(t.name) for t in tables)}")
            sums = {name.split(".", 1)[1]: value for name, value in cursor.fetchall()}
            states = []
            for table in tables:
                cursor.execute(f"SELECT COUNT(*) FROM {q(table.name)}")
                states.append(TableState(table.name, cursor.fetchone()[0], str(sums.get(table.name))))
                if progress:
                    progress.advance()
        return states

    def dump(self, directory: Path, tables: list[Table], complete: bool, progress=None):
        target = Path(directory) / self.data_name
        command = [
            self.dump_tool.path(),
            *self.client_args(),
            "--single-transaction",
            "--skip-lock-tables",
            "--no-tablespaces",
            "--hex-blob",
            "--no-autocommit",  # each table's rows restored in one transaction, not one commit per INSERT
            f"--result-file={target}",
            self.settings["NAME"],
        ]
        if not complete:
            command += [t.name for t in tables]
        with self.connection.cursor() as cursor:
            cursor.execute("SELECT NOW()")
            (started,) = cursor.fetchone()
        with subprocess.Popen(command, env=self.tool_env(), stderr=subprocess.PIPE) as proc:
            states = self.states(tables, progress)
            _, err = proc.communicate()
        if proc.returncode:
            proc.stderr = err
            raise SnapshotError(f"the dump failed: {failure(command[0], proc)}")
        return states, self.written_since(tables, started)

    def written_since(self, tables: list[Table], started) -> list[str]:
        """Tables a write was committed to since ``started`` (InnoDB's ``UPDATE_TIME``, to the second)."""
        names = [t.name for t in tables]
        marks = ", ".join(["%s"] * len(names))
        with self.connection.cursor() as cursor:
            cursor.execute(
                "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() "
                f"AND UPDATE_TIME >= %s AND TABLE_NAME IN ({marks}) ORDER BY TABLE_NAME",
                [started, *names],
            )
            return [row[0] for row in cursor.fetchall()]

    def restore(self, directory: Path, manifest, *, clean: bool, atomic: bool = False) -> list[str]:
        source = Path(directory) / manifest.data
        command = [self.restore_tool.path(), *self.client_args(), self.settings["NAME"]]
        try:
            stdin = source.open("rb")
        except OSError as exc:  # a directory, unreadable: what verification then finds missing says the rest
            return [f"cannot read the snapshot's data: {exc.strerror or exc}: {source}"]
        with stdin:
            proc = subprocess.run(command, stdin=stdin, env=self.tool_env(), capture_output=True, check=False)
        return [f"the restore tool reported an error: {failure(command[0], proc)}"] if proc.returncode else []

    def create_database(self, name: str) -> dict:
        q = self.quote
        with self.connection.cursor() as cursor:
            cursor.execute("SELECT @@character_set_database, @@collation_database")
            charset, collation = cursor.fetchone()
            cursor.execute(f"CREATE DATABASE {q(name)} CHARACTER SET {charset} COLLATE {collation}")
        return {**self.settings, "NAME": name}

    def drop_database(self, config: dict) -> None:
        with self.connection.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS {self.quote(config['NAME'])}")
