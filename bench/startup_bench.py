#!/usr/bin/env python
"""Where a schema command's time goes, as whole processes: the floors under it, then the commands.

    .venv/bin/python bench/startup_bench.py [--repeat 7] [--backends sqlite,mysql,postgresql]
        [--instructions]

Per backend, each row is the median wall time of ``--repeat`` runs (the rows of
one round run one after the other, round after round, so that they share the
noise of a busy machine) and its share of ``db_drift``:

- ``python -c pass``: the interpreter alone;
- ``django + backend``: the floor under any Django command: ``django.setup()``
  with no app, no logging set up and no URL prefix, one connection to the
  database and ``SELECT 1`` (the backend's driver and Django's ORM imported),
  started as ``manage.py`` starts a schema command (no garbage collection while
  loading, start-up frozen after it);
- ``db_version``, ``db_drift`` (on a synced database), ``db_sync`` with nothing
  to do, and ``db_sync`` on an empty database, through ``./manage.py`` exactly
  as an operator types them.

``--instructions`` adds each row's instruction count under valgrind's callgrind
(millions): it does not move with the machine's load, so two versions of the
code compare on a busy machine. Throwaway databases (``novabench_startup_*``)
are dropped at the end. The anchors (``../shared/anchors/side_by_side.sh``)
put Nova's own sync and alembic's compare beside these.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))

from servers import drop_database, empty_database  # noqa: E402

#: The floor: Django set up with no app, one query on the backend's own driver; started the way
#: manage.py starts a schema command (no collection while loading, start-up frozen after it).
FLOOR = """
import gc
gc.disable()
import sys, environ, django
from django.conf import settings
settings.configure(DATABASES={"default": environ.Env.db_url_config(sys.argv[1])}, USE_TZ=False, LOGGING_CONFIG=None)
django.setup(set_prefix=False)
from django.db import connection
gc.freeze()
gc.enable()
with connection.cursor() as cursor:
    cursor.execute("SELECT 1")
"""


def run(argv, env, prepare=None):
    """Wall seconds of one process; ``prepare()`` first (not timed) returns its environment if given."""
    env = prepare() if prepare else env
    start = time.perf_counter()
    done = subprocess.run(argv, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if done.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(argv[:3])} exited {done.returncode}: {done.stderr.strip()[-300:]}")
    return wall


def instructions(argv, env, prepare=None):
    """Millions of instructions one process executes (valgrind's callgrind): load does not move it."""
    env = prepare() if prepare else env
    traced = subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", *argv],
        env=env,
        capture_output=True,
        text=True,
    )
    found = re.search(r"Collected\s*:\s*(\d+)", traced.stderr)
    return int(found.group(1)) / 1e6 if found else None


def rows_for(url, py):
    """``(label, argv, on_an_empty_database)`` per row."""
    manage = [py, str(ROOT / "manage.py")]
    return [
        ("python -c pass", [py, "-c", "pass"], False),
        ("django + backend (floor)", [py, "-c", FLOOR, url], False),
        ("db_version", [*manage, "db_version"], False),
        ("db_drift", [*manage, "db_drift"], False),
        ("db_sync, nothing to do", [*manage, "db_sync"], False),
        ("db_sync from empty", [*manage, "db_sync"], True),
    ]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--backends", default="sqlite,mysql,postgresql")
    parser.add_argument("--instructions", action="store_true", help="also count instructions (valgrind)")
    args = parser.parse_args()
    if args.instructions and not shutil.which("valgrind"):
        parser.error("--instructions needs valgrind (apt-get install valgrind)")
    py = sys.executable
    tmp = tempfile.mkdtemp(prefix="novabench_startup_")
    base_env = {k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE", "NOVA_REPLICA_DATABASE_URL")}
    base_env["DATABASE_URL"] = f"sqlite:///{tmp}/django.sqlite3"
    subprocess.run(
        [
            py,
            "-m",
            "compileall",
            "-q",
            str(ROOT / "manage.py"),
            *(str(ROOT / d) for d in ("novaweb", "inventory", "schema")),
        ],
        check=True,
    )
    print(f"whole-process wall time, median of {args.repeat} runs (ms); load average {os.getloadavg()[0]:.2f}")
    try:
        for backend in args.backends.split(","):
            name, fresh = "novabench_startup_synced", "novabench_startup_empty"
            url = empty_database(backend, name, tmp)
            env = {**base_env, "NOVA_DATABASE_URL": url}
            subprocess.run([py, str(ROOT / "manage.py"), "db_sync"], env=env, check=True, capture_output=True)
            rows = rows_for(url, py)

            def fresh_env(fresh=fresh, env=env, backend=backend):
                return {**env, "NOVA_DATABASE_URL": empty_database(backend, fresh, tmp)}

            times = {label: [] for label, _, _ in rows}
            for _ in range(args.repeat):
                for label, argv, on_empty in rows:
                    times[label].append(run(argv, env, fresh_env if on_empty else None))
            counts = {}
            if args.instructions:
                for label, argv, on_empty in rows:
                    counts[label] = instructions(argv, env, fresh_env if on_empty else None)
            drift = statistics.median(times["db_drift"])
            print(f"\n{backend}")
            for label, _, _ in rows:
                median = statistics.median(times[label])
                extra = f"  {counts[label]:8.0f} M instructions" if counts.get(label) else ""
                print(f"  {label:26s} {median * 1000:7.0f} ms  {median / drift:5.0%} of db_drift{extra}")
            drop_database(backend, name)
            drop_database(backend, fresh)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
