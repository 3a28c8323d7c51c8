#!/usr/bin/env python
"""Time db_sync on an empty database and db_drift on a synced one, per backend.

    .venv/bin/python bench/schema_bench.py [--repeat 5] [--backends sqlite,mysql,postgresql]

Creates throwaway databases (novabench_schema_*) on the local MariaDB
(root@127.0.0.1:3306) and PostgreSQL (postgres@127.0.0.1:5432), and SQLite
files in a temporary folder; drops them afterwards. Prints the median and
best in-process times of the commands (Django already loaded), which is what
the targets are about: db_sync from empty < 1 s, db_drift < 0.5 s.
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from io import StringIO
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "novaweb.settings")

import django  # noqa: E402

django.setup()

from django.core.management import CommandError, call_command  # noqa: E402
from django.db import connections  # noqa: E402
from servers import drop_database as drop  # noqa: E402 -- sync_bench imports both from here
from servers import empty_database as create  # noqa: E402


def register(alias, url):
    import environ

    cfg = environ.Env.db_url_config(url)
    if cfg["ENGINE"].endswith("mysql"):
        cfg.setdefault("OPTIONS", {})["charset"] = "utf8"
    connections.settings[alias] = connections.configure_settings(
        {"default": connections.settings["default"], alias: cfg}
    )[alias]


def timed(*args, **options):
    start = time.perf_counter()
    try:
        call_command(*args, stdout=StringIO(), stderr=StringIO(), **options)
    except CommandError as exc:
        if exc.returncode:
            raise RuntimeError(f"{args} exited {exc.returncode}: {exc}") from None
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--backends", default="sqlite,mysql,postgresql")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for backend in args.backends.split(","):
            syncs, drifts = [], []
            for n in range(args.repeat):
                name = f"novabench_schema_{os.getpid()}_{n}"
                alias = f"bench_{backend}_{n}"
                register(alias, create(backend, name, tmp))
                try:
                    syncs.append(timed("db_sync", database=alias))
                    drifts += [timed("db_drift", database=alias) for _ in range(3)]
                finally:
                    connections[alias].close()
                    drop(backend, name)
            rows.append((backend, syncs, drifts))
    print(f"{'backend':<11} {'db_sync from empty (median / best)':>36} {'db_drift on synced (median / best)':>36}")
    for backend, syncs, drifts in rows:
        print(
            f"{backend:<11} {statistics.median(syncs) * 1000:>24.0f} ms / {min(syncs) * 1000:>4.0f} ms"
            f" {statistics.median(drifts) * 1000:>24.0f} ms / {min(drifts) * 1000:>4.0f} ms"
        )


if __name__ == "__main__":
    main()
