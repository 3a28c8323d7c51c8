"""Seeding the demo cloud: seconds per backend and bulk path, as ``seed_demo`` spends them.

    .venv/bin/python bench/seed_bench.py [--instances 1000000] [--backends mysql,postgresql]
        [--paths fastest,generic] [--runs 1] [--prefix novabench_seed] [--keep]

For each backend and path, each run: a fresh database ``<prefix>_<backend>``
with Nova's schema (``db_sync``, not timed), then ``DemoCloud.build()`` timed
in a new process: what ``seed_demo`` reports. ``fastest`` is the dialect's
fastest bulk path (COPY on PostgreSQL, LOAD DATA LOCAL INFILE on MariaDB where
the server allows it), ``generic`` its multi-row INSERT reference
(``Dialect.bulk_session(fastest=False)``: what MariaDB used before LOAD DATA;
PostgreSQL's is COPY too). The machine's load average is printed beside each
figure. The databases are dropped at the end unless ``--keep``.

Servers: MariaDB root@127.0.0.1:3306, PostgreSQL postgres@127.0.0.1:5432
(``NOVABENCH_MYSQL_URL`` / ``NOVABENCH_PG_URL`` override the server part).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from servers import SERVERS, drop_database, recreate_database  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
TARGET_SECONDS = {"mysql": 60}  # issue 15: 1M instances on MariaDB in under a minute


def child(instances: int, fastest: bool) -> None:
    """Seed the configured Nova database; print one JSON line."""
    import django

    django.setup()
    from django.db import connections

    from inventory.demo_cloud import DemoCloud

    cloud = DemoCloud(connections["nova"], instances=instances, seed=42, fastest_load=fastest)
    started = time.monotonic()
    counts = cloud.build()
    seconds = time.monotonic() - started
    print(json.dumps({"seconds": seconds, "rows": sum(counts.values()), "method": cloud.load_method}))


def load() -> str:
    return "/".join(f"{n:.2f}" for n in os.getloadavg())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instances", type=int, default=1_000_000)
    parser.add_argument("--backends", default="mysql,postgresql")
    parser.add_argument("--paths", default="fastest,generic", help="fastest, generic or both (comma-separated)")
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--prefix", default="novabench_seed", help="database name prefix (letters, digits, _)")
    parser.add_argument("--keep", action="store_true", help="keep the last seeded databases")
    parser.add_argument("--child", choices=("fastest", "generic"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.instances, args.child == "fastest")
        return 0
    if not re.fullmatch(r"[a-z][a-z0-9_]*", args.prefix):
        parser.error("--prefix: lower-case letters, digits and _ only")
    paths = args.paths.split(",")
    if not set(paths) <= {"fastest", "generic"}:
        parser.error("--paths: fastest, generic or both")
    results = []
    for backend in args.backends.split(","):
        if backend not in SERVERS:
            parser.error(f"--backends: {backend!r} is not one of {', '.join(SERVERS)}")
        name = f"{args.prefix}_{backend}"
        for path in paths:
            for run in range(1, args.runs + 1):
                recreate_database(backend, name)
                with tempfile.TemporaryDirectory() as tmp:
                    env = {
                        **os.environ,
                        "DJANGO_SETTINGS_MODULE": "novaweb.settings",
                        "DATABASE_URL": f"sqlite:///{tmp}/django.sqlite3",
                        "NOVA_DATABASE_URL": f"{SERVERS[backend]}/{name}",
                        "NOVA_REPLICA_DATABASE_URL": "",
                        "DEBUG": "0",
                    }
                    manage = [sys.executable, "manage.py"]
                    subprocess.run([*manage, "db_sync"], env=env, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
                    before = load()
                    cmd = [sys.executable, __file__, "--child", path, "--instances", str(args.instances)]
                    out = subprocess.run(cmd, env=env, cwd=ROOT, check=True, capture_output=True, text=True).stdout
                report = json.loads(out.strip().splitlines()[-1])
                results.append((backend, path, report))
                print(
                    f"{backend:10s} {path:8s} run {run}: {args.instances:,} instances, {report['rows']:,} rows in "
                    f"{report['seconds']:.1f} s ({report['rows'] / report['seconds']:,.0f} rows/s, "
                    f"{report['method']}); load {before} -> {load()}",
                    flush=True,
                )
        if not args.keep:
            drop_database(backend, name)
    print("\nbest of runs:")
    for backend in args.backends.split(","):
        for path in paths:
            best = min(r["seconds"] for b, p, r in results if (b, p) == (backend, path))
            target = TARGET_SECONDS.get(backend) if path == "fastest" and args.instances == 1_000_000 else None
            verdict = "" if target is None else (f"  (target < {target} s: " + ("met)" if best < target else "MISSED)"))
            print(f"  {backend:10s} {path:8s} {best:7.1f} s{verdict}")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
