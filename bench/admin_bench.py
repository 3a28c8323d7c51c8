"""Instance list at scale: novaweb's inventory admin against a plain ModelAdmin of the same model.

    .venv/bin/python bench/admin_bench.py [--instances 1000000] [--backends mysql,postgresql] [--runs 5] [--keep]
        [--suggested-indexes]

For each backend: a throwaway database ``novabench_admin_<backend>`` (dropped
at the end unless ``--keep``; reused when ``--keep`` left one with the same
instance count), ``db_sync``, ``seed_demo``'s cloud (timed), then per view the
median server time (the request handled in-process by ``django.test.Client``,
warm: one discarded run first) and the number of queries on the Nova database.

The plain admin is what ``admin.site.register(Instance)`` gives, with the
filter and search a newcomer would add (``list_filter = ("vm_state", "host",
"deleted")``, ``search_fields`` including ``fixed_ips__address``), mounted on
its own AdminSite at ``/plain/``.

Servers: MariaDB root@127.0.0.1:3306, PostgreSQL postgres@127.0.0.1:5432
(``NOVABENCH_MYSQL_URL`` / ``NOVABENCH_PG_URL`` override the server part).
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
import types
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from servers import SERVERS, drop_database, recreate_database  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
TARGET_MS = 150


def database_url(backend: str) -> str:
    return f"{SERVERS[backend]}/novabench_admin_{backend}"


# ---- child: one backend, Django configured for it ------------------------------------------
def plain_urlconf():
    from django.contrib import admin
    from django.urls import path

    from inventory.models import Instance
    from novaweb import urls

    class PlainInstanceAdmin(admin.ModelAdmin):
        change_list_template = "admin/change_list.html"  # Django's own, not templates/admin/inventory's
        list_filter = ("vm_state", "host", "deleted")
        search_fields = ("uuid", "display_name", "hostname", "fixed_ips__address")

    plain = admin.AdminSite(name="plain")
    plain.register(Instance, PlainInstanceAdmin)
    module = types.ModuleType("admin_bench_urls")
    module.urlpatterns = [path("plain/", plain.urls), *urls.urlpatterns]
    sys.modules[module.__name__] = module
    return module.__name__


def measure(client, url, runs, nova):
    from django.test.utils import CaptureQueriesContext

    client.get(url)  # warm: templates, caches, the server's buffer pool
    times, queries, status = [], 0, None
    for _ in range(runs):
        with CaptureQueriesContext(nova) as captured:
            started = time.perf_counter()
            response = client.get(url)
            times.append((time.perf_counter() - started) * 1000)
        status, queries = response.status_code, len(captured)
        if times[-1] > 5000:  # one slow sample says enough
            break
    return statistics.median(times), queries, status


def existing_instances(model) -> int | None:
    from django.db import DatabaseError

    try:
        return model.objects.count()
    except DatabaseError:  # no database or no schema yet
        return None


def add_suggested_indexes(connection) -> list[str]:
    """Create the inventory's suggested indexes (schema.suggested_indexes) that are missing; returns their DDL."""
    from schema.dialects import dialect_for
    from schema.plan import apply_statements
    from schema.suggested_indexes import SUGGESTED_INDEXES, missing_indexes, statements_for

    statements = statements_for(connection, missing_indexes(connection))
    apply_statements(connection, statements, warn=print)
    with connection.cursor() as cursor:
        dialect_for(connection).analyze(cursor, sorted({table for table, _ in SUGGESTED_INDEXES}))
    return [s.sql for s in statements]


def child(backend: str, instances: int, runs: int, reuse: bool, indexes: bool = False) -> None:
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connections
    from django.test import Client
    from django.test.utils import override_settings

    from inventory.demo_cloud import DemoCloud
    from inventory.models import FixedIp, Instance
    from schema.progress import Progress

    call_command("migrate", verbosity=0)
    nova = connections["nova"]
    if reuse and existing_instances(Instance) == instances:
        print(f"{backend}: reusing the seeded database ({instances} instances)")
    else:
        nova.close()
        recreate_database(backend, f"novabench_admin_{backend}")
        call_command("db_sync", verbosity=0, stdout=io.StringIO())
        started = time.monotonic()
        with Progress(instances, f"{backend} seed") as bar:
            counts = DemoCloud(nova, instances=instances, seed=42, progress=bar).build()
        elapsed = time.monotonic() - started
        print(f"{backend}: seeded {instances} instances, {sum(counts.values())} rows in {elapsed:.1f}s", flush=True)

    if indexes:
        for sql in add_suggested_indexes(nova):
            print(f"{backend}: {sql}")
    user = get_user_model().objects.create_superuser("bench", "", "bench-not-a-secret-login")
    client = Client()
    client.force_login(user)
    ip = (
        FixedIp.objects.filter(instance__isnull=False)
        .order_by("-id")
        .values_list("address", flat=True)[min(1000, instances // 2)]
    )
    views = [
        ("default list", ""),
        ("filter host", "?host=compute-007"),
        ("IP search", f"?q={ip}"),
        ("deep page p=2000", "?p=2000"),
    ]
    rows = []
    with override_settings(ROOT_URLCONF=plain_urlconf()):
        for label, query in views:
            ours = measure(client, f"/admin/inventory/instance/{query}", runs, nova)
            plain = measure(client, f"/plain/inventory/instance/{query}", runs, nova)
            rows.append((label, ours, plain))
    with_indexes = " with the suggested indexes" if indexes else ", Essex's own indexes"
    print(f"\n{backend}, {instances} instances{with_indexes}, median of {runs} warm runs (server time in-process):")
    print(f"{'view':<18} {'novaweb ms':>11} {'queries':>8} {'plain ms':>10} {'queries':>8}  status")
    for label, (ms, q, status), (pms, pq, pstatus) in rows:
        flag = "" if ms < TARGET_MS else f"  over {TARGET_MS} ms"
        print(f"{label:<18} {ms:>11.1f} {q:>8} {pms:>10.1f} {pq:>8}  {status}/{pstatus}{flag}")
    sys.stdout.flush()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instances", type=int, default=1_000_000)
    parser.add_argument("--backends", default="mysql,postgresql")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--keep", action="store_true", help="keep the databases (and reuse them next time)")
    parser.add_argument(
        "--suggested-indexes",
        action="store_true",
        help="add schema.suggested_indexes before measuring (kept with --keep)",
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.instances, args.runs, args.keep, args.suggested_indexes)
        return 0
    status = 0
    for backend in args.backends.split(","):
        with tempfile.TemporaryDirectory() as tmp:
            env = {
                **os.environ,
                "DJANGO_SETTINGS_MODULE": "novaweb.settings",
                "DATABASE_URL": f"sqlite:///{tmp}/django.sqlite3",
                "NOVA_DATABASE_URL": database_url(backend),
                "NOVA_REPLICA_DATABASE_URL": "",
                "DEBUG": "0",
            }
            cmd = [sys.executable, __file__, "--child", backend, "--instances", str(args.instances)]
            cmd += ["--runs", str(args.runs)] + (["--keep"] if args.keep else [])
            cmd += ["--suggested-indexes"] if args.suggested_indexes else []
            status |= subprocess.call(cmd, env=env, cwd=ROOT)
        if not args.keep:
            drop_database(backend, f"novabench_admin_{backend}")
    return status


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
