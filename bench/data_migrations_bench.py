#!/usr/bin/env python
"""Rows per second of the ``deleted`` NULL -> false data migration, per server backend.

    .venv/bin/python bench/data_migrations_bench.py [--rows 1000000] [--batches 50,1000]
                                                    [--backends mysql,postgresql] [--keep]

For each backend: creates a throwaway database (novabench_dm_<backend>), syncs
the Essex schema into it with ``db_sync``, seeds ``--rows`` instance rows with
``deleted`` NULL (PostgreSQL: one ``generate_series`` insert; MariaDB:
``INSERT ... SELECT`` doubling), then runs the migration the way
``db_online_data_migrations`` does (passes sharing a budget of N rows, each
batch in its own transaction) until nothing is left, once per batch size
(50 = the command's default). Between batch
sizes the rows are set back to NULL. Also times the pending count the schema
page shows. Drops the databases afterwards unless ``--keep``.
"""

import argparse
import sys
import time
from io import StringIO
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from django.core.management import call_command  # noqa: E402
from django.db import connections  # noqa: E402
from schema_bench import create, drop, register  # noqa: E402  (sets Django up)

from schema.data_migrations import get, pending_counts  # noqa: E402
from schema.data_migrations.runner import run_migrations  # noqa: E402

COLUMNS = (
    "created_at, deleted, uuid, user_id, project_id, image_ref, hostname, host, display_name, "
    "vm_state, power_state, memory_mb, vcpus, root_gb, instance_type_id, launched_at"
)
SEED = {
    "postgresql": [
        f"INSERT INTO instances ({COLUMNS}) SELECT now(), NULL, gen_random_uuid()::text, 'user-' || (g % 97), "
        "'project-' || (g % 113), 'ami-00000001', 'vm-' || g, 'compute-' || (g % 50), 'vm-' || g, 'active', 1, "
        "2048, 1, 20, 1, now() FROM generate_series(1, %(rows)s) AS g",
    ],
    "mysql": [
        f"INSERT INTO instances ({COLUMNS}) VALUES (NOW(), NULL, UUID(), 'user-1', 'project-1', 'ami-00000001', "
        "'vm-1', 'compute-1', 'vm-1', 'active', 1, 2048, 1, 20, 1, NOW())",
        # doubled below until --rows are there
    ],
}
MYSQL_DOUBLE = (
    f"INSERT INTO instances ({COLUMNS}) SELECT NOW(), NULL, UUID(), CONCAT('user-', MOD(id, 97)), "
    "CONCAT('project-', MOD(id, 113)), image_ref, CONCAT('vm-', id), CONCAT('compute-', MOD(id, 50)), display_name, "
    "vm_state, power_state, memory_mb, vcpus, root_gb, instance_type_id, launched_at FROM instances LIMIT %s"
)


def scalar(connection, sql, params=None):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()[0]


def seed(backend, connection, rows):
    with connection.cursor() as cursor:
        for sql in SEED[backend]:
            cursor.execute(sql.replace("%(rows)s", str(int(rows))))
        if backend == "mysql":
            while (have := scalar(connection, "SELECT COUNT(*) FROM instances")) < rows:
                cursor.execute(MYSQL_DOUBLE, [min(have, rows - have)])
        if backend == "postgresql":  # InnoDB keeps its statistics up to date by itself
            cursor.execute("ANALYZE instances")


def bench_backend(backend, rows, batches, keep):
    name = f"novabench_dm_{backend}"
    drop(backend, name)
    register(name, create(backend, name, None))
    connection = connections[name]
    try:
        call_command("db_sync", database=name, stdout=StringIO(), stderr=StringIO())
        start = time.perf_counter()
        seed(backend, connection, rows)
        print(f"{backend}: seeded {rows:,} instances with deleted NULL in {time.perf_counter() - start:.1f} s")
        migration = get("deleted_null_to_false")
        for batch in batches:
            if batch != batches[0]:
                with connection.cursor() as cursor:
                    cursor.execute("UPDATE instances SET deleted = NULL")
            start = time.perf_counter()
            pending = pending_counts(connection)["deleted_null_to_false"]
            counted = time.perf_counter() - start
            start = time.perf_counter()
            run = passes_until_done(connection, migration, batch)
            elapsed = time.perf_counter() - start
            done = run.tallies[migration.name].done
            left = scalar(connection, "SELECT COUNT(*) FROM instances WHERE deleted IS NULL")
            assert done == pending == rows and left == 0, (done, pending, left)
            print(
                f"{backend}: batch {batch:>5}: {done:,} rows in {elapsed:.1f} s = {done / elapsed:,.0f} rows/s "
                f"({run.passes:,} passes); pending count over all soft-delete tables {counted:.2f} s"
            )
    finally:
        connection.close()
        if not keep:
            drop(backend, name)


def passes_until_done(connection, migration, batch):
    """What ``db_online_data_migrations`` does: passes of ``batch`` rows (its default 50) until complete."""
    return run_migrations(connection, None, migrations=[migration], report=lambda *a: None, batch=batch)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="instance rows to seed (default 1,000,000)")
    parser.add_argument("--batches", default="50,1000", help="batch sizes to time (default 50,1000)")
    parser.add_argument("--backends", default="mysql,postgresql")
    parser.add_argument("--keep", action="store_true", help="keep the databases afterwards")
    args = parser.parse_args()
    batches = [int(b) for b in args.batches.split(",")]
    for backend in args.backends.split(","):
        bench_backend(backend, args.rows, batches, args.keep)


if __name__ == "__main__":
    main()
