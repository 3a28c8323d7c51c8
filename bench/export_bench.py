"""Inventory exports at scale: the admin's "Export CSV" and ``export_inventory`` (CSV, JSON lines).

    .venv/bin/python bench/export_bench.py [--instances 200000] [--backends mysql,postgresql] [--runs 3] [--keep]

For each backend: a throwaway database ``novabench_export_<backend>`` (dropped
at the end unless ``--keep``; reused when ``--keep`` left one with the same
instance count), ``db_sync`` and ``seed_demo``'s cloud (one fixed IP per
instance, some floating), then, each in a fresh process:

- the admin export of every instance (``?deleted=all``), handled in-process by
  ``django.test.Client``: server time until the file is ready, and until its
  last byte is read;
- ``manage.py export_inventory instance --filter deleted=all --output FILE``,
  CSV and JSON lines: wall time of the command.

Each line gives the best of ``--runs`` (the machine's other load only adds
time), rows/s, the time a million instances would take at that rate (exports
are linear: one query, one pass), and the process's peak RSS.
Servers: MariaDB root@127.0.0.1:3306, PostgreSQL postgres@127.0.0.1:5432.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from servers import SERVERS, drop_database, recreate_database  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def name(backend):
    return f"novabench_export_{backend}"


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def report(backend, label, rows, seconds, mb, fixed=0.0):
    """One line; ``fixed``: the part of ``seconds`` that does not grow with the rows (the command's start)."""
    per_million = 1_000_000 / rows * (seconds - fixed) + fixed
    print(
        f"{backend:<10} {label:<34} {rows:>8} rows {seconds:>7.2f} s {rows / seconds:>9.0f} rows/s"
        f"   1M: {per_million:>5.1f} s   peak RSS {mb:>5.0f} MB",
        flush=True,
    )


def seed(backend, instances, reuse):
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import DatabaseError, connections

    from inventory.demo_cloud import DemoCloud
    from inventory.models import Instance

    call_command("migrate", verbosity=0)
    try:
        if reuse and Instance.objects.count() == instances:
            print(f"{backend}: reusing the seeded database ({instances} instances)", flush=True)
            return
    except DatabaseError:
        pass
    connections["nova"].close()
    recreate_database(backend, name(backend))
    call_command("db_sync", verbosity=0)
    started = time.monotonic()
    DemoCloud(connections["nova"], instances=instances, seed=42).build()
    print(f"{backend}: seeded {instances} instances in {time.monotonic() - started:.0f} s", flush=True)


def admin_export(backend, runs):
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.test import Client

    user = get_user_model().objects.filter(username="bench").first()
    user = user or get_user_model().objects.create_superuser("bench", "", "bench-not-a-secret-login")
    client = Client()
    client.force_login(user)
    ready, total = [], []
    for _ in range(runs):
        started = time.perf_counter()
        response = client.get("/admin/inventory/instance/export.csv", {"deleted": "all"})
        ready.append(time.perf_counter() - started)
        size = sum(len(chunk) for chunk in response.streaming_content)
        total.append(time.perf_counter() - started)
        response.close()
        assert response.status_code == 200 and size == int(response["Content-Length"])
    rows = int(response["X-Export-Rows"])
    report(backend, "admin Export CSV (file ready)", rows, min(ready), peak_mb())
    report(backend, "admin Export CSV (last byte read)", rows, min(total), peak_mb())


def run_command(env, fmt, *filters) -> tuple[float, int, float]:
    """(wall time, rows, peak RSS MB) of one ``export_inventory instance`` process."""
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "manage.py", "export_inventory", "instance", "--filter", "deleted=all"]
        cmd += [arg for f in filters for arg in ("--filter", f)]
        cmd += ["--format", fmt, "--output", str(Path(tmp) / f"instances.{fmt}")]
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True)
        _, _, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - started
        rows = int(proc.stderr.read().split()[1])  # "exported N rows to FILE"
    return seconds, rows, usage.ru_maxrss / 1024


def command_export(backend, env, fmt, runs):
    """The command's wall time, best of ``runs``; its start (an export of no row) counted once in the 1M figure."""
    start = min(run_command(env, fmt, "q=00000000-0000-0000-0000-000000000000")[0] for _ in range(runs))
    results = [run_command(env, fmt) for _ in range(runs)]
    seconds, rows = min(r[0] for r in results), results[0][1]
    report(backend, f"export_inventory --format {fmt}", rows, seconds, max(r[2] for r in results), fixed=start)
    print(f"{'':<10} {'(of which the command starting, no row)':<34} {start:>22.2f} s", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instances", type=int, default=200_000)
    parser.add_argument("--backends", default="mysql,postgresql")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--keep", action="store_true", help="keep the databases (and reuse them next time)")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        step, backend = args.child
        seed(backend, args.instances, args.keep) if step == "seed" else admin_export(backend, args.runs)
        return 0
    for backend in args.backends.split(","):
        with tempfile.TemporaryDirectory() as tmp:
            env = {
                **os.environ,
                "DJANGO_SETTINGS_MODULE": "novaweb.settings",
                "DATABASE_URL": f"sqlite:///{tmp}/django.sqlite3",
                "NOVA_DATABASE_URL": f"{SERVERS[backend]}/{name(backend)}",
                "NOVA_REPLICA_DATABASE_URL": "",
                "DEBUG": "0",
            }
            me = [sys.executable, __file__, "--instances", str(args.instances), "--runs", str(args.runs)]
            me += ["--keep"] if args.keep else []
            subprocess.check_call([*me, "--child", "seed", backend], env=env, cwd=ROOT)
            subprocess.check_call([*me, "--child", "admin", backend], env=env, cwd=ROOT)
            for fmt in ("csv", "jsonl"):
                command_export(backend, env, fmt, args.runs)
        if not args.keep:
            drop_database(backend, name(backend))
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
