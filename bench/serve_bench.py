#!/usr/bin/env python
"""Requests/s of the admin's instance list under gunicorn, with and without a read replica.

    .venv/bin/python bench/serve_bench.py [--instances 1000000] [--backend postgresql|mysql]
        [--workers 4] [--concurrency 8] [--requests 400] [--duration 30] [--url-path PATH] [--keep]
        [--replication]

With ``--replication`` the database lives on the real pair of
``scripts/replication.sh`` (started if needed): built on the primary
(PostgreSQL 5441 / MariaDB 3341), replicated to the replica (5442 / 3342),
and three configurations run: no replica configured, reads on the streaming
replica, and reads on the primary because the replica lags (replay paused
after a write, ``NOVA_REPLICA_MAX_LAG=1``). Each row says where the header
of a page fetched after the run said reads went.

Builds (or reuses, with ``--keep``) a Nova database ``novabench_serve_<backend>_<N>``:
``db_sync`` then ``seed_demo --instances N``. The replica is a separate clone of
it on the same server (a real second database, so reads really go elsewhere;
on one machine it shows the routing's cost, not a second host's capacity).
Starts gunicorn (``deploy/gunicorn.conf.py``, production settings, ``--workers``
sync workers) on a free loopback port, logs in as a superuser, and drives
``--url-path`` (default the instance list) from a second process: ``--concurrency``
threads with keep-alive ``http.client`` connections, stopping after
``--requests`` requests or ``--duration`` seconds, whichever comes first.
Prints one table row per configuration: requests, errors, requests/s, latency
percentiles.
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
    conn.request("GET", "/admin/", headers={"Cookie": f"sessionid={session}", "X-Forwarded-Proto": "https",
                                            "Host": "127.0.0.1"})
    match = re.search(r"· (reads from [^<]*)<", conn.getresponse().read().decode())
    return match.group(1) if match else "no replica configured"


def run_config(label, args, env, replica_url, extra_env=None) -> dict:
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
    with open(os.devnull, "w") as devnull:
        server = subprocess.Popen(
            [gunicorn, "-c", "deploy/gunicorn.conf.py"], cwd=ROOT, env=server_env, stdout=devnull, stderr=devnull
        )
    try:
        wait_ready(port, server)
        session = log_in(port)
        client = [sys.executable, __file__, "--client", f"127.0.0.1:{port}", "--session", session, "--path"]
        client.append(args.url_path)
        # Warm-up: every worker connects and fills its caches.
        warm = [*client, "--requests", str(args.workers * 4), "--duration", "60", "--concurrency", str(args.workers)]
        subprocess.run(warm, check=True, capture_output=True)
        load = [*client, "--requests", str(args.requests), "--duration", str(args.duration)]
        load += ["--concurrency", str(args.concurrency)]
        result = json.loads(subprocess.run(load, check=True, capture_output=True, text=True).stdout)
        result["reads"] = reads_from(port, session)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
    return {"config": label, **result}


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
    rows = [
        run_config("primary only", args, env, None),
        run_config("replica", args, env, replica_url),
    ]
    replication.pause_replay(args.backend)
    try:
        # A write the paused replica receives but does not apply: its lag grows from here.
        replication.query(args.backend, "primary", "CREATE TABLE IF NOT EXISTS novabench_tick (t int)", database=name)
        replication.query(args.backend, "primary", "INSERT INTO novabench_tick VALUES (1)", database=name)
        time.sleep(1.5)
        rows.append(run_config("replica lagging", args, env, replica_url, {"NOVA_REPLICA_MAX_LAG": "1"}))
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
    try:
        if args.replication:
            rows = run_replication(args, env, primary_url)
        else:
            replica_url, replica = clone_replica(args, primary_url)
            try:
                rows = [
                    run_config("primary only", args, env, None),
                    run_config("with replica", args, env, replica_url),
                ]
            finally:
                replica.drop()
    finally:
        if not args.keep:
            drop(args.backend, primary_url.rsplit("/", 1)[1])

    print(
        f"\n{args.url_path} on {args.backend}, {args.instances:,} instances, "
        f"gunicorn {args.workers} sync workers, {args.concurrency} client threads (2 CPUs shared)"
    )
    print(f"{'configuration':<16} {'requests':>9} {'errors':>7} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8}  header")
    for r in rows:
        print(
            f"{r['config']:<16} {r['ok']:>9} {r['errors']:>7} {r['rps']:>8} {r['p50_ms']!s:>8} {r['p95_ms']!s:>8}"
            f"  {r.get('reads', '')}"
        )


if __name__ == "__main__":
    main()
