"""/metrics scrapes, the saved reports and a capped console query at scale.

    .venv/bin/python bench/metrics_bench.py [--instances 1000000] [--backends mysql,postgresql] [--scrapes 200] [--keep]

For each backend: a throwaway database ``novabench_metrics_<backend>`` (dropped
at the end unless ``--keep``; reused when ``--keep`` left one with the same
instance count), ``db_sync``, ``seed_demo``'s cloud, then, in-process through
``django.test.Client``:

- the first scrape of a process (it computes every figure: the grouped instance
  query, the drift compare, the soft-deleted and data-migration counts);
- warm scrapes (median and 95th percentile, and the queries each sends to the
  Nova database: none, the figures come from the cache);
- a scrape while every figure is stale (served from the cache, refreshed in a
  background thread);
- each saved report, and ``SELECT * FROM instances`` in the console (10,000-row
  cap): time and the peak Python memory while reading it (tracemalloc).

Target: a scrape under 100 ms at a million instances.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from servers import SERVERS, drop_database, recreate_database  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
TARGET_MS = 100
TOKEN = "metrics-bench-token"


def database_name(backend: str) -> str:
    return f"novabench_metrics_{backend}"


# ---- child: one backend, Django configured for it ------------------------------------------
def timed(action) -> float:
    started = time.perf_counter()
    action()
    return (time.perf_counter() - started) * 1000


def seed(backend: str, instances: int, reuse: bool) -> None:
    from django.core.management import call_command
    from django.db import DatabaseError, connections

    from inventory.demo_cloud import DemoCloud
    from inventory.models import Instance

    try:
        existing = Instance.objects.count()
    except DatabaseError:
        existing = None
    if reuse and existing == instances:
        print(f"{backend}: reusing the seeded database ({instances} instances)")
        return
    nova = connections["nova"]
    nova.close()
    recreate_database(backend, database_name(backend))
    call_command("db_sync", verbosity=0, stdout=io.StringIO())
    started = time.monotonic()
    counts = DemoCloud(nova, instances=instances, seed=42).build()
    print(f"{backend}: seeded {instances} instances, {sum(counts.values())} rows in {time.monotonic() - started:.1f}s")


def scrapes(backend: str, runs: int) -> None:
    from django.db import connections
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from inventory.metrics.figures import FIGURES, forget_all

    client = Client(headers={"Authorization": f"Bearer {TOKEN}"})
    forget_all()
    first = timed(lambda: client.get("/metrics"))
    times, queries = [], 0
    for _ in range(runs):
        with CaptureQueriesContext(connections["nova"]) as captured:
            times.append(timed(lambda: client.get("/metrics")))
        queries = max(queries, len(captured))
    for figure in FIGURES.values():  # every figure older than its max_age: refreshed in the background
        figure.max_age = -1
    stale = timed(lambda: client.get("/metrics"))
    for figure in FIGURES.values():
        figure._lock.acquire()  # wait for its background refresh to finish
        figure._lock.release()
    median, p95 = statistics.median(times), statistics.quantiles(times, n=20)[-1]
    flag = "" if p95 < TARGET_MS else f"  (over {TARGET_MS} ms)"
    print(f"{backend}: first scrape (computes every figure) {first:.0f} ms")
    print(
        f"{backend}: warm scrape median {median:.1f} ms, p95 {p95:.1f} ms over {runs}, "
        f"{queries} queries to the Nova database{flag}"
    )
    print(f"{backend}: scrape with every figure stale (refresh in the background) {stale:.1f} ms")


def console(backend: str) -> None:
    from django.db import connections

    from inventory.console import reports, runner

    vendor = connections["nova_readonly"].vendor
    for report in reports.all_reports():
        ms = timed(lambda report=report: runner.run(report.sql_for(vendor), max_rows=10_000))
        print(f"{backend}: report {report.slug:<30} {ms:8.0f} ms")
    tracemalloc.start()
    result = None

    def read():
        nonlocal result
        result = runner.run("SELECT * FROM instances", max_rows=10_000)

    ms = timed(read)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    print(
        f"{backend}: console SELECT * FROM instances: {len(result.rows)} rows shown (truncated={result.truncated}) "
        f"in {ms:.0f} ms, peak Python memory {peak / 2**20:.1f} MiB"
    )


def child(backend: str, instances: int, runs: int, reuse: bool) -> None:
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    seed(backend, instances, reuse)
    scrapes(backend, runs)
    console(backend)
    sys.stdout.flush()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instances", type=int, default=1_000_000)
    parser.add_argument("--backends", default="mysql,postgresql")
    parser.add_argument("--scrapes", type=int, default=200)
    parser.add_argument("--keep", action="store_true", help="keep the databases (and reuse them next time)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.instances, args.scrapes, args.keep)
        return 0
    status = 0
    for backend in args.backends.split(","):
        with tempfile.TemporaryDirectory() as tmp:
            env = {
                **os.environ,
                "DJANGO_SETTINGS_MODULE": "novaweb.settings",
                "DATABASE_URL": f"sqlite:///{tmp}/django.sqlite3",
                "NOVA_DATABASE_URL": f"{SERVERS[backend]}/{database_name(backend)}",
                "NOVA_REPLICA_DATABASE_URL": "",
                "METRICS_TOKEN": TOKEN,
                "DEBUG": "0",
            }
            cmd = [sys.executable, __file__, "--child", backend, "--instances", str(args.instances)]
            cmd += ["--scrapes", str(args.scrapes)] + (["--keep"] if args.keep else [])
            status |= subprocess.call(cmd, env=env, cwd=ROOT)
        if not args.keep:
            drop_database(backend, database_name(backend))
    return status


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
