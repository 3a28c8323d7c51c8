"""The schema commands' short start (manage.py): same answers as Django's full path, less loaded.

``./manage.py db_*`` skips ManagementUtility, the URL prefix and Django's default
e-mail logging (issue 15). These tests hold it to what an operator sees: every
command answers exactly as through Django's own path (taken when ``--settings``
is given), ``--help`` and bad options behave, and the web side (admin, debug
toolbar, console, URL and HTTP machinery) is never imported by a schema command.
No timing here: ``bench/startup_bench.py`` measures.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

import manage
from tests.support.backends import REPO_ROOT

SCHEMA_COMMANDS = [
    ("db_version",),
    ("db_drift",),
    ("db_drift", "--format", "json"),
    ("db_sync", "--dry-run"),
    ("db_expand", "--dry-run"),
    ("db_contract", "--dry-run", "--format", "json"),
    ("db_sync",),
    ("db_version",),
    ("db_drift",),
    ("db_sync",),
    ("db_version", "--bogus"),
    ("db_archive_deleted_rows", "--max_rows", "10"),
    ("db_purge", "--before", "2020-01-01"),
    ("db_online_data_migrations",),
    ("db_null_instance_uuid_scan",),
    ("db_add_indexes", "--dry-run"),
    ("db_undo", "--dry-run"),
    ("db_snapshot", "--format", "bogus"),
]

#: nova-manage's codes along that sequence: uncontrolled (1, 1, 1), plans and the sync (0),
#: nothing to do (0), a bad option (2); then the housekeeping: nothing to archive (0), no shadow
#: table to purge (3), nothing to migrate or scan (0), a plan (0), a bad option (2).
EXPECTED_CODES = [1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 2, 0, 3, 0, 0, 0, 0, 2]

#: Modules a schema command must not load: the web side and what only it needs.
WEB_MODULES = ("django.contrib.admin", "debug_toolbar", "django.urls", "django.http", "axes", "inventory.console.views")


def normalized(text: str) -> str:
    """Output without what differs between two runs (times, sync ids, temporary paths)."""
    text = re.sub(r"\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(\.\d+)?", "<time>", text)
    return re.sub(r"/tmp/\S+", "<path>", text)


def test_short_and_full_paths_answer_the_same(run_manage, tmp_path):
    """Each command, in a sequence that syncs an empty SQLite database, twice: once the short way
    and once through Django's ManagementUtility (``--settings``), each on its own database."""
    results = {}
    for way, extra in (("short", ()), ("full", ("--settings", "novaweb.settings"))):
        env = {"NOVA_DATABASE_URL": f"sqlite:///{tmp_path / (way + '.sqlite3')}"}
        results[way] = [
            (p.returncode, normalized(p.stdout), normalized(p.stderr))
            for p in (run_manage(*args, *extra, env=env) for args in SCHEMA_COMMANDS)
        ]
    for args, short, full in zip(SCHEMA_COMMANDS, results["short"], results["full"], strict=True):
        assert short == full, f"manage.py {' '.join(args)}: short path {short} vs full path {full}"
    codes = [code for code, _, _ in results["short"]]
    assert codes == EXPECTED_CODES
    assert "Nothing to do" in results["short"][9][1]
    assert "--bogus" in results["short"][10][2] and "bogus" in results["short"][-1][2]


@pytest.mark.parametrize("command", sorted(manage.SCHEMA_COMMANDS))
def test_help_and_no_web_modules(run_manage, command):
    helped = run_manage(command, "--help")
    assert helped.returncode == 0, helped.stderr
    assert f"manage.py {command}" in helped.stdout and "--database" in helped.stdout

    traced = run_manage(command, env={"PYTHONPROFILEIMPORTTIME": "1"})
    loaded = {line.split("|")[-1].strip() for line in traced.stderr.splitlines() if line.startswith("import time:")}
    assert traced.returncode in (0, 1, 2, 3), traced.stderr[-500:]  # answered as itself, not a crash
    assert "schema.dialects" in loaded, sorted(loaded)[:20]
    web = sorted(m for m in loaded if m.startswith(WEB_MODULES))
    assert not web, f"{command} loaded {web}"


def test_check_still_loads_the_whole_project(run_manage):
    """Other commands keep Django's full path and every app (the admin among them)."""
    traced = run_manage("check", env={"PYTHONPROFILEIMPORTTIME": "1"})
    assert traced.returncode == 0, traced.stderr
    loaded = {line.split("|")[-1].strip() for line in traced.stderr.splitlines() if line.startswith("import time:")}
    assert "django.contrib.admin" in loaded and "inventory.console" in loaded


@pytest.mark.parametrize("command", ["db_version", "db_drift", "check"])
@pytest.mark.parametrize(
    ("module", "missing"), [("novaweb.settingz", "novaweb.settingz"), ("novawebx.settings", "novawebx")]
)
def test_a_settings_module_that_does_not_exist_is_one_line_and_exit_2(run_manage, command, module, missing):
    proc = run_manage(command, env={"DJANGO_SETTINGS_MODULE": module})
    assert proc.returncode == 2
    assert (
        proc.stderr.strip() == f"error: DJANGO_SETTINGS_MODULE={module} cannot be imported (no module named {missing})"
    )


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (("db_version",), 255),  # unreachable database
        (("db_drift", "--format", "json"), 255),
        (("db_sync", "--plan", "/nonexistent/plan.json"), 2),
    ],
)
def test_traceback_shows_the_traceback_and_keeps_the_exit_code(run_manage, args, code):
    unreachable = {"NOVA_DATABASE_URL": "mysql://root@127.0.0.1:1/nova"} if code == 255 else {}
    plain = run_manage(*args, env=unreachable)
    traced = run_manage(*args, "--traceback", env=unreachable)
    assert plain.returncode == traced.returncode == code, (plain.stderr, traced.stderr)
    assert "Traceback" not in plain.stderr and "Traceback (most recent call last)" in traced.stderr


#: Runs manage.py as ``./manage.py`` does, then says how it left the cyclic garbage collector.
GC_PROBE = """
import gc, runpy, sys
sys.argv = ["manage.py", *sys.argv[1:]]
code = 0
try:
    runpy.run_path("manage.py", run_name="__main__")
except SystemExit as exc:
    code = exc.code
print(code, gc.isenabled(), gc.get_freeze_count())
"""


@pytest.mark.parametrize(
    ("args", "env", "code", "frozen"),
    [
        (("db_version",), {}, 1, True),  # an empty database: not under version control
        (("db_sync", "--dry-run"), {}, 0, True),
        (("db_version",), {"DJANGO_SETTINGS_MODULE": "novaweb.settingz"}, 2, False),  # start-up fails
    ],
)
def test_a_schema_command_collects_its_own_garbage_with_start_up_left_out(tmp_path, args, env, code, frozen):
    """The short path loads with collection off, then freezes what start-up built and turns
    collection back on for the command's own work (and leaves it on when start-up fails)."""
    full_env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    full_env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    full_env.update(
        DATABASE_URL=f"sqlite:///{tmp_path / 'django.sqlite3'}",
        NOVA_DATABASE_URL=f"sqlite:///{tmp_path / 'nova.sqlite3'}",
        NOVA_REPLICA_DATABASE_URL="",
        **env,
    )
    probe = subprocess.run(
        [sys.executable, "-c", GC_PROBE, *args], cwd=REPO_ROOT, env=full_env, capture_output=True, text=True
    )
    seen_code, enabled, freeze_count = probe.stdout.split()[-3:]
    assert (int(seen_code), enabled) == (code, "True"), probe.stderr
    assert (int(freeze_count) > 10_000) is frozen
