#!/usr/bin/env python
"""Archive throughput (rows/s) of ``db_archive_deleted_rows``, per server backend.

    .venv/bin/python bench/archive_bench.py [--instances 1000000] [--live 0.1] [--max-rows 10000]
                                            [--batch 5000] [--fk-indexes] [--backends mysql,postgresql] [--keep]

For each backend: creates a throwaway database (novabench_archive_<backend>)
loaded from the Nova Essex reference dump (Nova's own schema, foreign keys
included), seeds ``--instances`` soft-deleted instances, each with a
soft-deleted fixed IP, virtual interface, metadata row, security-group
association and info cache, and a (never soft-deleted) fault and action:
8 rows per instance. ``--live`` adds that fraction of live instances with
live children of the same kind, which must stay. Seeding is one
``INSERT ... SELECT`` per table (the instance numbers come from a cross join
of digits, the same SQL on both servers). Then it runs
``db_archive_deleted_rows --until-complete --max_rows N`` in-process and
prints rows archived per second, checks every deleted row moved and every
live row stayed, and drops the database unless ``--keep``.

``--fk-indexes`` first indexes the referring columns of every foreign key
that has none (what the command's ``--verbose`` note suggests): Essex on
PostgreSQL has no index on ``instance_metadata.instance_id``,
``security_group_instance_association.instance_id``... so PostgreSQL checks
each foreign key by scanning the referring table for every instance
deleted, which grows with the table (MySQL always indexes foreign keys).
"""

import argparse
import sys
import time
from io import StringIO
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from django.core.management import CommandError, call_command  # noqa: E402
from django.db import connections  # noqa: E402
from schema_bench import create, drop, register  # noqa: E402  (sets Django up)

from schema.archive import Archiver  # noqa: E402
from tests.support.backends import TestDatabase, load_reference_dump  # noqa: E402

CREATED = "'2026-01-02 08:00:00'"
DELETED_AT = "'2026-01-10 08:00:00'"
CHILD_TABLES = (
    "virtual_interfaces",
    "fixed_ips",
    "instance_metadata",
    "security_group_instance_association",
    "instance_info_caches",
    "instance_faults",
    "instance_actions",
)


def numbers(count: int) -> str:
    """SQL for the rows ``n`` = 1..count (a cross join of digit tables: same SQL on MariaDB and PostgreSQL)."""
    digits = "(SELECT 0 AS d UNION ALL " + " UNION ALL ".join(f"SELECT {d}" for d in range(1, 10)) + ")"
    places = max(len(str(count)), 1)
    value = " + ".join(f"d{p}.d * {10**p}" for p in range(places))
    joined = ", ".join(f"{digits} d{p}" for p in range(places))
    return f"(SELECT {value} + 1 AS n FROM {joined}) nums WHERE n <= {count}"


def seed_statements(q, deleted: int, live: int) -> list[str]:
    instances = (
        f"INSERT INTO instances (created_at, deleted_at, deleted, uuid, hostname, display_name, vm_state, "
        f"memory_mb, vcpus, instance_type_id, user_id, project_id) "
        f"SELECT {CREATED}, %(deleted_at)s, %(deleted)s, CONCAT('%(prefix)s-', n), CONCAT('vm-', n), "
        f"CONCAT('vm-', n), '%(state)s', 2048, 1, 1, 'user-1', 'project-1' FROM %(numbers)s"
    )
    soft = f"{q('created_at')}, {q('deleted_at')}, {q('deleted')}"
    same = "i.created_at, i.deleted_at, i.deleted"
    never = f"{q('created_at')}, {q('deleted')}"
    return [
        instances
        % {
            "deleted_at": DELETED_AT,
            "deleted": "TRUE",
            "prefix": "del",
            "state": "deleted",
            "numbers": numbers(deleted),
        },
        instances
        % {"deleted_at": "NULL", "deleted": "FALSE", "prefix": "live", "state": "active", "numbers": numbers(live)},
        f"INSERT INTO security_groups ({soft}, name, project_id) VALUES ({CREATED}, NULL, FALSE, 'default', 'p')",
        f"INSERT INTO networks ({soft}, label) VALUES ({CREATED}, NULL, FALSE, 'private')",
        f"INSERT INTO virtual_interfaces ({soft}, address, network_id, instance_id, uuid) "
        f"SELECT {same}, CONCAT('mac-', i.id), 1, i.id, i.uuid FROM instances i",
        f"INSERT INTO fixed_ips ({soft}, address, network_id, instance_id, virtual_interface_id, allocated) "
        f"SELECT {same}, CONCAT('ip-', i.id), 1, i.id, v.id, TRUE FROM instances i "
        f"JOIN virtual_interfaces v ON v.instance_id = i.id",
        f"INSERT INTO instance_metadata ({soft}, instance_id, {q('key')}, {q('value')}) "
        f"SELECT {same}, i.id, 'role', 'web' FROM instances i",
        f"INSERT INTO security_group_instance_association ({soft}, security_group_id, instance_id) "
        f"SELECT {same}, 1, i.id FROM instances i",
        f"INSERT INTO instance_info_caches ({soft}, network_info, instance_id) "
        f"SELECT {same}, '[]', i.uuid FROM instances i",
        f"INSERT INTO instance_faults ({never}, instance_uuid, code, message) "
        f"SELECT i.created_at, FALSE, i.uuid, 500, 'boom' FROM instances i",
        f"INSERT INTO instance_actions ({never}, instance_uuid, action) "
        f"SELECT i.created_at, FALSE, i.uuid, 'reboot' FROM instances i",
    ]


def add_foreign_key_indexes(connection):
    """What the archive's note suggests: index the referring side of every unindexed foreign key."""
    q = connection.ops.quote_name
    relations = Archiver(connection).unindexed_foreign_keys()
    with connection.cursor() as cursor:
        for r in relations:
            name = f"novabench_{r.child}_{'_'.join(r.columns)}_idx"[:63]
            cursor.execute(f"CREATE INDEX {q(name)} ON {q(r.child)} ({', '.join(map(q, r.columns))})")
    return len(relations)


def scalar(connection, sql):
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchone()[0]


def bench_backend(backend, args):
    name = f"novabench_archive_{backend}"
    drop(backend, name)
    url = create(backend, name, None)
    load_reference_dump(TestDatabase(backend, name, url))
    register(name, url)
    connection = connections[name]
    q = connection.ops.quote_name
    tables = ("instances", *CHILD_TABLES)
    live = int(args.instances * args.live)
    try:
        start = time.perf_counter()
        with connection.cursor() as cursor:
            for sql in seed_statements(q, args.instances, live):
                cursor.execute(sql)
            for table in tables:
                cursor.execute(f"ANALYZE TABLE {q(table)}" if backend == "mysql" else f"ANALYZE {q(table)}")
                if backend == "mysql":
                    cursor.fetchall()
        indexed = add_foreign_key_indexes(connection) if args.fk_indexes else 0
        seeded = sum(scalar(connection, f"SELECT COUNT(*) FROM {q(t)}") for t in tables)
        print(
            f"{backend}: seeded {args.instances:,} deleted + {live:,} live instances, {seeded:,} rows "
            f"in {time.perf_counter() - start:.1f} s"
        )
        Archiver.BATCH_SIZE = args.batch
        start = time.perf_counter()
        try:
            call_command(
                "db_archive_deleted_rows",
                "--until-complete",
                "--max_rows",
                str(args.max_rows),
                database=name,
                stdout=StringIO(),
                stderr=StringIO(),
            )
        except CommandError as exc:
            if exc.returncode != 1:
                raise RuntimeError(f"db_archive_deleted_rows exited {exc.returncode}: {exc}") from None
        elapsed = time.perf_counter() - start
        archived = sum(scalar(connection, f"SELECT COUNT(*) FROM {q('shadow_' + t)}") for t in tables)
        left = {t: scalar(connection, f"SELECT COUNT(*) FROM {q(t)}") for t in tables}
        assert archived == 8 * args.instances, archived
        assert all(n == live for n in left.values()), left
        indexes = f", {indexed} foreign keys indexed first" if indexed else ""
        print(
            f"{backend}: archived {archived:,} rows in {elapsed:.1f} s = {archived / elapsed:,.0f} rows/s "
            f"(--max_rows {args.max_rows}, batches of {args.batch}{indexes}); "
            f"{sum(left.values()):,} live rows stayed"
        )
    finally:
        connection.close()
        if not args.keep:
            drop(backend, name)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instances", type=int, default=1_000_000, help="soft-deleted instances (default 1,000,000)")
    parser.add_argument("--live", type=float, default=0.1, help="live instances, as a fraction (default 0.1)")
    parser.add_argument("--max-rows", type=int, default=10_000, help="--max_rows per iteration (default 10,000)")
    parser.add_argument("--batch", type=int, default=Archiver.BATCH_SIZE, help="rows per transaction")
    parser.add_argument(
        "--fk-indexes", action="store_true", help="index the referring columns of unindexed foreign keys first"
    )
    parser.add_argument("--backends", default="mysql,postgresql")
    parser.add_argument("--keep", action="store_true", help="keep the databases afterwards")
    args = parser.parse_args()
    for backend in args.backends.split(","):
        bench_backend(backend, args)


if __name__ == "__main__":
    main()
