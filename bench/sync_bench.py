#!/usr/bin/env python
"""Time db_sync from empty and a no-op db_sync on a synced database, per backend.

    .venv/bin/python bench/sync_bench.py [--repeat 5] [--backends sqlite,mysql,postgresql]

Uses the throwaway-database helpers of ``bench/schema_bench.py`` (local
MariaDB root@127.0.0.1:3306, PostgreSQL postgres@127.0.0.1:5432, SQLite in a
temporary folder; all dropped afterwards). In-process times (Django loaded):
the targets are db_sync from empty < 1 s and a no-op db_sync < 0.5 s. The
no-op run takes the sync lock, introspects the live schema, plans, and finds
nothing to do. The last column is the same no-op as a whole ``manage.py``
process, interpreter and Django start included, for reference.
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from schema_bench import connections, create, drop, register, timed  # noqa: E402


def process_time(url, tmp):
    env = {**os.environ, "NOVA_DATABASE_URL": url, "DATABASE_URL": f"sqlite:///{tmp}/django.sqlite3"}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, str(BENCH.parent / "manage.py"), "db_sync"], env=env, check=True, capture_output=True
    )
    return time.perf_counter() - start


def ms(values):
    return f"{statistics.median(values) * 1000:>6.0f} / {min(values) * 1000:>5.0f}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--backends", default="sqlite,mysql,postgresql")
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for backend in args.backends.split(","):
            empty, noop, process = [], [], []
            for n in range(args.repeat):
                name = f"novabench_sync_{os.getpid()}_{n}"
                alias = f"bench_sync_{backend}_{n}"
                url = create(backend, name, tmp)
                register(alias, url)
                try:
                    empty.append(timed("db_sync", database=alias))
                    noop += [timed("db_sync", database=alias) for _ in range(3)]
                    if n == 0:
                        process.append(process_time(url, tmp))
                finally:
                    connections[alias].close()
                    drop(backend, name)
            results.append((backend, empty, noop, process))
    print("times in ms, median / best")
    print(f"{'backend':<11} | {'db_sync from empty':>18} | {'no-op db_sync':>14} | {'no-op, whole process':>20}")
    for backend, empty, noop, process in results:
        print(f"{backend:<11} | {ms(empty):>18} | {ms(noop):>14} | {ms(process):>20}")


if __name__ == "__main__":
    main()
