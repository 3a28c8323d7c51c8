"""``manage.py novaweb_roles`` as an operator runs it: after ``migrate``, and what it says before."""

from __future__ import annotations


def test_novaweb_roles_before_migrate_says_what_to_do(run_manage):
    proc = run_manage("novaweb_roles")
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "manage.py migrate" in lines[0], proc.stderr
    assert "Traceback" not in proc.stderr


def test_novaweb_roles_after_migrate_creates_the_groups_then_updates_them(run_manage):
    assert run_manage("migrate", "--verbosity", "0").returncode == 0
    first = run_manage("novaweb_roles")
    assert first.returncode == 0, first.stderr
    assert [line.split(":")[0] for line in first.stdout.splitlines()] == [
        "group 'viewer' created",
        "group 'flavor manager' created",
        "group 'schema operator' created",
    ]
    again = run_manage("novaweb_roles")
    assert again.returncode == 0 and again.stdout.count(" updated: ") == 3
    made = run_manage("demo_user", "--role", "schema-operator")
    assert made.returncode == 0, made.stderr
    assert made.stdout.startswith("demo user created: username schema-operator  password ")
