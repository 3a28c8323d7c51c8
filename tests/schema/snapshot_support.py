"""Helpers for the snapshot, restore and undo tests: rows worth restoring, and damage to snapshots."""

from __future__ import annotations

import datetime
import json
import sqlite3
import subprocess
from pathlib import Path

from tests.support.backends import quote

#: values a restore must keep exactly: quotes, backslashes, newlines, non-ASCII (3-byte UTF-8 at most:
#: Nova's MySQL tables are utf8mb3), empty strings and NULLs
AWKWARD = ["plain", "it's", 'say "hi"', "back\\slash", "two\nlines", "ünïcødé ☃", "", None, "tab\there", "%s %%"]


def seed(db, instances=40):
    """Instances with awkward text, floats and times, and a fixed IP each."""
    p = db.placeholder
    base = datetime.datetime(2012, 4, 5, 6, 7, 8)
    for i in range(1, instances + 1):
        db.execute(
            f"INSERT INTO instances (id, hostname, display_name, created_at, memory_mb, vcpus, deleted) "
            f"VALUES ({p}, {p}, {p}, {p}, {p}, {p}, {p})",
            (
                i,
                f"host-{i}",
                AWKWARD[i % len(AWKWARD)],
                base + datetime.timedelta(seconds=i * 3601),
                512 * i,
                i % 8,
                i % 5 == 0,
            ),
        )
        db.execute(
            f"INSERT INTO fixed_ips (id, address, instance_id, host) VALUES ({p}, {p}, {p}, {p})",
            (i, f"10.0.{i // 256}.{i % 256}", i, AWKWARD[(i + 3) % len(AWKWARD)]),
        )


def all_rows(db, table):
    """Every row as a {column: value} dict, in primary-key order: column order does not matter."""
    with db.cursor() as cur:
        cur.execute(f"SELECT * FROM {quote(db.backend, table)} ORDER BY 1")
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def manifest(path) -> dict:
    return json.loads((Path(path) / "manifest.json").read_text())


def data_file_with(path, needle: str) -> Path:
    """The file of a snapshot whose text holds ``needle`` (a MySQL dump, a pg_dump table data file)."""
    for file in sorted(Path(path).rglob("*")):
        if file.is_file() and file.name != "manifest.json" and needle.encode() in file.read_bytes():
            return file
    raise AssertionError(f"no file of {path} holds {needle!r}")


def edit_sqlite_snapshot(path, sql: str) -> None:
    """Run ``sql`` on a SQLite snapshot's database file."""
    conn = sqlite3.connect(Path(path) / "database.sqlite3")
    conn.execute(sql)
    conn.commit()
    conn.close()


def edit_a_row(backend, path):
    """Change one instance's hostname inside the snapshot's data."""
    if backend == "sqlite":
        return edit_sqlite_snapshot(path, "UPDATE instances SET hostname = 'edited' WHERE id = 7")
    file = data_file_with(path, "host-7")
    text = file.read_bytes()
    file.write_bytes(
        text.replace(
            b"host-7" + (b"'" if backend == "mysql" else b"\t"), b"host-X" + (b"'" if backend == "mysql" else b"\t"), 1
        )
    )


def truncate(backend, path):
    """Cut the data of ``instances`` in half."""
    file = Path(path) / "database.sqlite3" if backend == "sqlite" else data_file_with(path, "host-1")
    size = file.stat().st_size
    with file.open("r+b") as handle:
        handle.truncate(size // 2)


def pg_restore_list(path) -> str:
    return subprocess.run(["pg_restore", "-l", str(Path(path) / "dump")], capture_output=True, text=True).stdout
