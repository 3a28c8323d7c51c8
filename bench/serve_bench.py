#!/usr/bin/env python
"""Requests/s of the admin's instance list under gunicorn, beside the plain admin's, at 1M instances.

    .venv/bin/python bench/serve_bench.py [--instances 1000000] [--backend postgresql|mysql]
        [--workers 4] [--concurrency 8] [--requests 400] [--duration 30] [--url-path PATH] [--keep]
        [--suggested-indexes] [--clone-replica] [--replication]

Builds (or reuses, with ``--keep``) a Nova database ``novabench_serve_<backend>_<N>``:
``db_sync`` then ``seed_demo --instances N`` (a fixed IP per live instance);
``--suggested-indexes`` runs ``db_add_indexes`` on it first (kept with ``--keep``:
a reused database keeps the indexes it has; the table's title says which).
Starts gunicorn (``deploy/gunicorn.conf.py``, production settings, ``--workers``
workers) on a free loopback port, serving novaweb with, mounted at ``/plain/``,
the plain inspectdb-style admin of ``bench/admin_bench.py`` (``ModelAdmin``
defaults, a newcomer's filters and search) on the same data. It logs in as a
superuser and drives each list from a second process: first one client, one
request at a time (``1 client ms``: the median of a few, the server time of a
single request plus the loopback), then ``--concurrency`` threads with keep-alive
``http.client`` connections, stopping after ``--requests`` requests or
``--duration`` seconds, whichever comes first. Prints one row per list:
requests, errors, requests/s, latency percentiles, and novaweb's ratio to the
plain admin.

``--clone-replica`` adds a row with reads on a clone of the database on the
same server configured as the replica (a real second database, so reads
really go elsewhere; on one machine it shows the routing's cost, not a second
host's capacity).

With ``--replication`` the database lives on the real pair of
``scripts/replication.sh`` (started if needed): built on the primary
(PostgreSQL 5441 / MariaDB 3341), replicated to the replica (5442 / 3342),
and three configurations run: no replica configured, reads on the streaming
replica, and reads on the primary because the replica lags (replay paused
after a write, ``NOVA_REPLICA_MAX_LAG=1``). Each row says where the header
of a page fetched after the run said reads went.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SERVERS = {
    "mysql": "mysql://root@127.0.0.1:3306/{name}",
    "postgresql": "postgres://postgres@127.0.0.1:5432/{name}",
}
#: The main servers' ports; --replication points these at the pair's primary.
ADMIN_PORTS = {"mysql": 3306, "postgresql": 5432}
PASSWORD = "bench-password"
#: Where the plain admin's instance list is (bench/admin_bench.py's site, mounted by ``wsgi_with_plain_admin``).
PLAIN_PATH = "/plain/inventory/instance/"
#: Requests of the one-client pass (its median is the ``1 client ms`` column).
SEQUENTIAL = 9


def wsgi_with_plain_admin():
    """gunicorn's application here: novaweb's, with admin_bench's plain admin at ``/plain/``."""
    from django.conf import settings
    from django.core.wsgi import get_wsgi_application

    from bench.admin_bench import plain_urlconf

    application = get_wsgi_application()
    settings.ROOT_URLCONF = plain_urlconf()
    return application


# --- the load generator (runs in its own process) ---------------------------------------


def client_main(args) -> None:
    host, port = args.target.split(":")
    headers = {"Cookie": f"sessionid={args.session}", "X-Forwarded-Proto": "https", "Host": "127.0.0.1"}
    lock = threading.Lock()
    issued = 0
    latencies, errors = [], 0
    deadline = time.monotonic() + args.duration

    def worker():
        nonlocal issued, errors
        conn = http.client.HTTPConnection(host, int(port), timeout=60)
        while True:
            with lock:
                if issued >= args.requests or time.monotonic() >= deadline:
                    break
                issued += 1
            started = time.monotonic()
            try:
                conn.request("GET", args.path, headers=headers)
                response = conn.getresponse()
                body = response.read()
                ok = response.status == 200 and b"result_list" in body
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection(host, int(port), timeout=60)
                ok = False
            elapsed = time.monotonic() - started
            with lock:
                if ok:
                    latencies.append(elapsed)
                else:
                    errors += 1
        conn.close()

    began = time.monotonic()
    threads = [threading.Thread(target=worker) for _ in range(args.concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.monotonic() - began
    latencies.sort()

    def pct(p):
        return round(latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000, 1) if latencies else None

    print(
        json.dumps(
            {
                "ok": len(latencies),
                "errors": errors,
                "seconds": round(wall, 2),
                "rps": round(len(latencies) / wall, 1) if wall else 0,
                "p50_ms": pct(0.50),
                "p95_ms": pct(0.95),
                "mean_ms": round(statistics.mean(latencies) * 1000, 1) if latencies else None,
            }
        )
    )


# --- databases ---------------------------------------------------------------------------


def admin_sql(backend, sql):
    if backend == "mysql":
        import MySQLdb

        conn = MySQLdb.connect(host="127.0.0.1", port=ADMIN_PORTS["mysql"], user="root")
        try:
            cur = conn.cursor()
            cur.execute(sql)
            return cur.fetchall() if cur.description else []
        finally:
            conn.close()
    import psycopg

    dsn = f"host=127.0.0.1 port={ADMIN_PORTS['postgresql']} user=postgres dbname=postgres"
    with psycopg.connect(dsn, autocommit=True) as conn:
        cur = conn.execute(sql)
        return cur.fetchall() if cur.description else []


def exists(backend, name) -> bool:
    if backend == "mysql":
        return bool(admin_sql(backend, f"SHOW DATABASES LIKE '{name}'"))
    return bool(admin_sql(backend, f"SELECT 1 FROM pg_database WHERE datname = '{name}'"))


def drop(backend, name):
    if backend == "mysql":
        admin_sql(backend, f"DROP DATABASE IF EXISTS `{name}`")
    else:
        admin_sql(backend, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def manage(*args, env, check=True):
    proc = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *map(str, args)], cwd=ROOT, env=env, capture_output=True, text=True
    )
    if check and proc.returncode != 0:
        sys.exit(f"manage.py {' '.join(map(str, args))} failed ({proc.returncode}): {proc.stderr.strip()}")
    return proc


def build_primary(args, env) -> str:
    name = f"novabench_serve_{args.backend}_{args.instances}"
    url = SERVERS[args.backend].format(name=name)
    if exists(args.backend, name) and args.keep:
        print(f"reusing {name}", file=sys.stderr)
        return url
    drop(args.backend, name)
    if args.backend == "mysql":
        admin_sql(args.backend, f"CREATE DATABASE `{name}` CHARACTER SET utf8")
    else:
        admin_sql(args.backend, f'CREATE DATABASE "{name}"')
    env = {**env, "NOVA_DATABASE_URL": url}
    manage("db_sync", env=env)
    started = time.monotonic()
    out = manage("seed_demo", "--instances", args.instances, env=env).stdout.strip()
    print(f"seed_demo: {out} ({time.monotonic() - started:.0f}s)", file=sys.stderr)
    return url


def add_suggested_indexes(env) -> None:
    """``db_add_indexes`` on the database of ``env`` (``NOVA_DATABASE_URL``)."""
    started = time.monotonic()
    out = manage("db_add_indexes", env=env).stdout.strip().splitlines()
    print(f"db_add_indexes: {out[-1] if out else ''} ({time.monotonic() - started:.0f}s)", file=sys.stderr)


def index_state(env) -> str:
    """What the list's lookups have to use: the suggested indexes, or Essex's own without some of them."""
    # LOG_LEVEL: production settings log to stdout (axes says INFO at start-up); the JSON alone here.
    proc = manage("db_add_indexes", "--dry-run", "--format", "json", env={**env, "LOG_LEVEL": "WARNING"})
    missing = [f"{i['table']}.{','.join(i['columns'])}" for i in json.loads(proc.stdout)["indexes"]]
    return "Essex's own indexes (missing " + ", ".join(missing) + ")" if missing else "the suggested indexes"


def clone_replica(args, primary_url) -> tuple[str, object]:
    from tests.support.backends import TestDatabase, clone

    name = primary_url.rsplit("/", 1)[1]
    started = time.monotonic()
    replica = clone(TestDatabase(args.backend, name, primary_url), tempfile.gettempdir())
    print(f"replica {replica.name} cloned in {time.monotonic() - started:.0f}s", file=sys.stderr)
    return replica.url, replica


# --- the server ------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(port, proc, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit(f"gunicorn exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    sys.exit("gunicorn did not start")


def log_in(port) -> str:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"X-Forwarded-Proto": "https", "Host": "127.0.0.1"}
    conn.request("GET", "/admin/login/", headers=headers)
    response = conn.getresponse()
    body = response.read().decode()
    csrf_cookie = re.search(r"csrftoken=([^;]+)", response.getheader("Set-Cookie")).group(1)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', body).group(1)
    form = f"csrfmiddlewaretoken={token}&username=bench&password={PASSWORD}&next=/admin/"
    conn.request(
        "POST",
        "/admin/login/",
        body=form,
        headers={
            **headers,
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": f"csrftoken={csrf_cookie}",
            "Referer": "https://127.0.0.1/admin/login/",
        },
    )
    response = conn.getresponse()
    response.read()
    match = re.search(r"sessionid=([^;]+)", response.getheader("Set-Cookie") or "")
    if response.status != 302 or not match:
        sys.exit(f"login failed: HTTP {response.status}")
    return match.group(1)


def reads_from(port, session) -> str:
    """Where the admin header of one page says reads go ("reads from the replica (0.0 s behind)")."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request(
        "GET", "/admin/", headers={"Cookie": f"sessionid={session}", "X-Forwarded-Proto": "https", "Host": "127.0.0.1"}
    )
    match = re.search(r"· (reads from [^<]*)<", conn.getresponse().read().decode())
    return match.group(1) if match else "no replica configured"


def drive(port, session, path, *, requests, duration, concurrency) -> dict:
    client = [sys.executable, __file__, "--client", f"127.0.0.1:{port}", "--session", session, "--path", path]
    client += ["--requests", str(requests), "--duration", str(duration), "--concurrency", str(concurrency)]
    return json.loads(subprocess.run(client, check=True, capture_output=True, text=True).stdout)


def run_config(label, args, env, replica_url, extra_env=None, lists=(("novaweb", None),)) -> list[dict]:
    """One gunicorn server; per list (label, path: None for ``--url-path``) a one-client pass, then the load."""
    port = free_port()
    server_env = {
        **env,
        **(extra_env or {}),
        "NOVA_REPLICA_DATABASE_URL": replica_url or "",
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "GUNICORN_WORKERS": str(args.workers),
        "LOG_LEVEL": "WARNING",
    }
    gunicorn = str(Path(sys.executable).parent / "gunicorn")
    command = [gunicorn, "-c", "deploy/gunicorn.conf.py", "bench.serve_bench:wsgi_with_plain_admin()"]
    with open(os.devnull, "w") as devnull:
        server = subprocess.Popen(command, cwd=ROOT, env=server_env, stdout=devnull, stderr=devnull)
    rows = []
    try:
        wait_ready(port, server)
        session = log_in(port)
        for name, path in lists:
            path = path or args.url_path
            # Warm-up: every worker connects and fills its caches.
            drive(port, session, path, requests=args.workers * 4, duration=60, concurrency=args.workers)
            single = drive(port, session, path, requests=SEQUENTIAL, duration=args.duration, concurrency=1)
            result = drive(
                port, session, path, requests=args.requests, duration=args.duration, concurrency=args.concurrency
            )
            result["single_ms"] = single["p50_ms"]
            result["reads"] = reads_from(port, session)
            rows.append({"config": f"{name}, {label}" if label else name, **result})
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
    return rows


BOTH_LISTS = (("novaweb", None), ("plain admin", PLAIN_PATH))


def use_pair(backend) -> None:
    """Build on the replication pair's primary (started if it is not streaming)."""
    from tests.support import replication

    replication.ensure_pair()
    primary, _ = replication.PORTS[backend]
    ADMIN_PORTS[backend] = primary
    SERVERS[backend] = replication.url(backend, "primary", "{name}")


def run_replication(args, env, primary_url) -> list[dict]:
    from tests.support import replication

    name = primary_url.rsplit("/", 1)[1]
    replica_url = replication.url(args.backend, "replica", name)
    replication.wait_until(lambda: replication.caught_up(args.backend), 600, "the replica caught up")
    rows = run_config("primary only", args, env, None, lists=BOTH_LISTS)
    rows += run_config("replica", args, env, replica_url)
    replication.pause_replay(args.backend)
    try:
        # A write the paused replica receives but does not apply: its lag grows from here.
        replication.query(args.backend, "primary", "CREATE TABLE IF NOT EXISTS novabench_tick (t int)", database=name)
        replication.query(args.backend, "primary", "INSERT INTO novabench_tick VALUES (1)", database=name)
        time.sleep(1.5)
        rows += run_config("replica lagging", args, env, replica_url, {"NOVA_REPLICA_MAX_LAG": "1"})
    finally:
        replication.resume_replay(args.backend)
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--instances", type=int, default=1_000_000)
    parser.add_argument("--backend", choices=sorted(SERVERS), default="postgresql")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--requests", type=int, default=400, help="at most this many requests per configuration")
    parser.add_argument("--duration", type=float, default=30.0, help="at most this many seconds per configuration")
    parser.add_argument("--url-path", dest="url_path", default="/admin/inventory/instance/")
    parser.add_argument("--keep", action="store_true", help="keep the seeded database (and reuse a kept one)")
    parser.add_argument(
        "--suggested-indexes", action="store_true", help="run db_add_indexes on the database before measuring"
    )
    parser.add_argument(
        "--clone-replica", action="store_true", help="also measure with reads on a clone configured as the replica"
    )
    parser.add_argument(
        "--replication", action="store_true", help="on the real primary/replica pair of scripts/replication.sh"
    )
    parser.add_argument("--client", help=argparse.SUPPRESS)  # internal: run as the load generator
    parser.add_argument("--session", help=argparse.SUPPRESS)
    parser.add_argument("--path", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.client:
        args.target = args.client
        return client_main(args)

    work = Path(tempfile.mkdtemp(prefix="novabench_serve_"))
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "novaweb.settings_production",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1",
        "DATABASE_URL": f"sqlite:///{work / 'django.sqlite3'}",
        "STATIC_ROOT": str(work / "static"),
    }
    if args.replication:
        use_pair(args.backend)
    primary_url = build_primary(args, env)
    env["NOVA_DATABASE_URL"] = primary_url
    manage("migrate", "-v0", env=env)
    manage("collectstatic", "--noinput", "-v0", env=env)
    manage(
        "createsuperuser",
        "--noinput",
        "--username",
        "bench",
        "--email",
        "b@example.org",
        env={**env, "DJANGO_SUPERUSER_PASSWORD": PASSWORD},
    )
    if args.suggested_indexes:
        add_suggested_indexes(env)
    indexes = index_state(env)
    try:
        if args.replication:
            rows = run_replication(args, env, primary_url)
        else:
            rows = run_config("", args, env, None, lists=BOTH_LISTS)
            if args.clone_replica:
                replica_url, replica = clone_replica(args, primary_url)
                try:
                    rows += run_config("clone as replica", args, env, replica_url)
                finally:
                    replica.drop()
    finally:
        if not args.keep:
            drop(args.backend, primary_url.rsplit("/", 1)[1])

    print(
        f"\n{args.url_path} on {args.backend}, {args.instances:,} instances, {indexes}; "
        f"gunicorn {args.workers} workers, {args.concurrency} client threads (2 CPUs shared)"
    )
    print(
        f"{'list':<28} {'requests':>9} {'errors':>7} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} "
        f"{'1 client ms':>12}  header"
    )
    for r in rows:
        print(
            f"{r['config']:<28} {r['ok']:>9} {r['errors']:>7} {r['rps']:>8} {r['p50_ms']!s:>8} {r['p95_ms']!s:>8} "
            f"{r['single_ms']!s:>12}  {r.get('reads', '')}"
        )
    ours, plain = rows[0], rows[1]
    if ours["rps"] and plain["rps"] and all(r["p95_ms"] and r["single_ms"] for r in (ours, plain)):
        print(
            f"novaweb serves {ours['rps'] / plain['rps']:.1f}x the plain admin's requests/s; its p95 is "
            f"{ours['p95_ms'] / plain['p95_ms']:.2f}x and one request {ours['single_ms'] / plain['single_ms']:.2f}x "
            "the plain admin's"
        )


if __name__ == "__main__":
    main()
