#!/usr/bin/env python
"""Snapshot, verified restore and undo at scale, per server backend.

    .venv/bin/python bench/snapshot_bench.py [--instances 1000000] [--backends mysql,postgresql] [--keep]

For each backend: a throwaway database (novabench_snap_<backend>) synced with
``db_sync``, ``--instances`` instance rows and one fixed IP each. Then:

1. the server's own dump tool on ``instances`` alone (the options novaweb
   uses), against ``take_snapshot(tables=["instances"])`` (dump + manifest
   + checksums): the snapshot should take at most the tool's time + 20%;
2. a snapshot of ``instances`` + ``fixed_ips`` and its verified restore into a
   scratch database (``db_restore --verify-only``): rows/s of each;
3. ``db_contract --allow-destructive`` dropping a column of ``instances``
   that holds a value in every row, then ``db_undo``: the time of each, and
   whether every value is back (an ordered digest of (id, column) before and after).

Drops the databases afterwards unless ``--keep``.
"""

import argparse
import subprocess
import sys
import tempfile
import time
from io import StringIO
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from data_migrations_bench import scalar, seed  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connections  # noqa: E402
from schema_bench import create, drop, register  # noqa: E402  (sets Django up)

from schema.snapshots import restore, snapshot_backend, take_snapshot, verify  # noqa: E402
from schema.snapshots.databases import scratch_database  # noqa: E402

IP_COLUMNS = "address, instance_id, network_id, allocated, leased, reserved, deleted, host"
FIXED_IPS = {
    "postgresql": f"INSERT INTO fixed_ips ({IP_COLUMNS}) "
    "SELECT '10.' || (id / 65536) || '.' || (id / 256 % 256) || '.' || (id % 256), id, 1, true, false, false, false, "
    "host FROM instances",
    "mysql": f"INSERT INTO fixed_ips ({IP_COLUMNS}) "
    "SELECT CONCAT('10.', id DIV 65536, '.', id DIV 256 MOD 256, '.', id MOD 256), id, 1, 1, 0, 0, 0, host "
    "FROM instances",
}
NOTE = {
    "postgresql": "ALTER TABLE instances ADD COLUMN note varchar(40); UPDATE instances SET note = 'note-' || id",
    "mysql": "ALTER TABLE instances ADD COLUMN note varchar(40) AFTER hostname; "
    "UPDATE instances SET note = CONCAT('note-', id)",
}
#: the dump tool and the snapshot are timed this many times each (best kept): the machine is shared
REPEAT = 3
DIGEST = {
    "postgresql": "SELECT md5(string_agg(id || ':' || coalesce(note, '-'), ',' ORDER BY id)) FROM instances",
    "mysql": "SELECT SUM(CRC32(CONCAT(id, ':', COALESCE(note, '-')))) FROM instances",
}


def timed(function, *args, **kwargs):
    start = time.perf_counter()
    result = function(*args, **kwargs)
    return time.perf_counter() - start, result


def raw_dump(connection, parent):
    """The server's dump tool alone, on ``instances``, as novaweb runs it (no manifest, no checksums)."""
    backend = snapshot_backend(connection)
    directory = tempfile.mkdtemp(dir=parent)
    if connection.vendor == "mysql":
        command = [
            backend.dump_tool.path(),
            *backend.client_args(),
            "--single-transaction",
            "--skip-lock-tables",
            "--no-tablespaces",
            "--hex-blob",
            "--no-autocommit",
            f"--result-file={directory}/raw.sql",
            connection.settings_dict["NAME"],
            "instances",
        ]
    else:
        command = [
            backend.dump_tool.path(),
            *backend.client_args(),
            "--format=directory",
            "--compress=0",
            "--no-owner",
            "--no-privileges",
            f"--file={directory}/raw",
            "-t",
            '"instances"',
        ]
    subprocess.run(command, check=True, env=backend.tool_env())


def bench_backend(backend, instances, keep):
    name = f"novabench_snap_{backend}"
    drop(backend, name)
    register(name, create(backend, name, None))
    connection = connections[name]
    quiet = {"stdout": StringIO(), "stderr": StringIO()}
    try:
        call_command("db_sync", database=name, **quiet)
        seconds, _ = timed(seed, backend, connection, instances)
        with connection.cursor() as cursor:
            cursor.execute(FIXED_IPS[backend])
        rows = scalar(connection, "SELECT COUNT(*) FROM instances") + scalar(
            connection, "SELECT COUNT(*) FROM fixed_ips"
        )
        print(f"{backend}: {instances} instances + fixed IPs seeded ({rows} rows, {seconds:.1f}s)")
        with tempfile.TemporaryDirectory(prefix="novabench_snap_") as tmp:
            raw = min(timed(raw_dump, connection, tmp)[0] for _ in range(REPEAT))
            snap = min(timed(take_snapshot, connection, output=tmp, tables=["instances"])[0] for _ in range(REPEAT))
            print(
                f"  instances (best of {REPEAT}): {Path(backend_tool(connection)).name} alone {raw:.2f}s, "
                f"novaweb snapshot {snap:.2f}s ({snap / raw:.2f}x the tool; target <= 1.20x)"
            )
            both, (path, manifest) = timed(take_snapshot, connection, output=tmp, tables=["instances", "fixed_ips"])
            print(f"  snapshot of instances + fixed_ips: {both:.2f}s, {rows / both:,.0f} rows/s")
            with scratch_database(connection) as scratch:
                back, warnings = timed(restore, manifest, path, scratch, clean=False)
                check, result = timed(verify, manifest, scratch, warnings)
            print(
                f"  verified restore: restore {back:.2f}s + verify {check:.2f}s = {rows / (back + check):,.0f} rows/s, "
                f"{'verified equal' if result.ok else 'NOT EQUAL: ' + str(result.problems)}"
            )
        with connection.cursor() as cursor:
            for sql in NOTE[backend].split("; "):
                cursor.execute(sql)
        before = scalar(connection, DIGEST[backend])
        contract, _ = timed(call_command, "db_contract", database=name, allow_destructive=True, **quiet)
        undo, _ = timed(call_command, "db_undo", database=name, **quiet)
        after = scalar(connection, DIGEST[backend])
        print(
            f"  db_contract dropping instances.note: {contract:.2f}s; db_undo: {undo:.2f}s; "
            f"values {'identical' if before == after else 'DIFFERENT'} afterwards"
        )
    finally:
        connection.close()
        if not keep:
            drop(backend, name)


def backend_tool(connection):
    return snapshot_backend(connection).dump_tool.path()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instances", type=int, default=100_000)
    parser.add_argument("--backends", default="mysql,postgresql")
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    for backend in args.backends.split(","):
        bench_backend(backend, args.instances, args.keep)


if __name__ == "__main__":
    main()
