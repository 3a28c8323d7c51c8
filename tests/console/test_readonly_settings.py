"""Where ``nova_readonly`` points: NOVA_READONLY_DATABASE_URL, else the replica, else the Nova database."""

from __future__ import annotations

import json

import pytest

from inventory.console.database import readonly_database

SHOW = (
    "import json; from django.conf import settings; d = settings.DATABASES['nova_readonly']; "
    "print(json.dumps({'name': d['NAME'], 'options': d['OPTIONS'], 'timeout': d['NOVAWEB_TIMEOUT_SECONDS']}))"
)


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, "file:{tmp}/nova.sqlite3?mode=ro"),
        ({"NOVA_REPLICA_DATABASE_URL": "sqlite:///{tmp}/replica.sqlite3"}, "file:{tmp}/replica.sqlite3?mode=ro"),
        (
            {
                "NOVA_REPLICA_DATABASE_URL": "sqlite:///{tmp}/replica.sqlite3",
                "NOVA_READONLY_DATABASE_URL": "sqlite:///{tmp}/console.sqlite3",
                "NOVA_CONSOLE_TIMEOUT": "2.5",
            },
            "file:{tmp}/console.sqlite3?mode=ro",
        ),
    ],
    ids=["nova", "replica", "own-url"],
)
def test_the_alias_is_built_from_the_most_specific_url(run_manage, tmp_path, env, expected):
    env = {key: value.format(tmp=tmp_path) for key, value in env.items()}
    result = run_manage("shell", "-c", SHOW, env=env)
    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout.strip().splitlines()[-1])
    assert shown["name"] == expected.format(tmp=tmp_path)
    assert shown["timeout"] == float(env.get("NOVA_CONSOLE_TIMEOUT", 10))


def test_server_settings_are_set_at_connect_time():
    pg = readonly_database(
        {"ENGINE": "django.db.backends.postgresql", "NAME": "nova", "OPTIONS": {}}, timeout_seconds=2.5
    )
    assert pg["OPTIONS"]["options"] == "-c default_transaction_read_only=on -c statement_timeout=2500"
    mysql = readonly_database({"ENGINE": "django.db.backends.mysql", "NAME": "nova", "OPTIONS": {"charset": "utf8"}})
    assert mysql["OPTIONS"] == {
        "charset": "utf8",
        "init_command": "SET SESSION TRANSACTION READ ONLY",
        "multi_statements": False,
    }
    original = {"ENGINE": "django.db.backends.sqlite3", "NAME": "/srv/nova db.sqlite3", "OPTIONS": {}}
    assert readonly_database(original)["NAME"] == "file:/srv/nova%20db.sqlite3?mode=ro"
    assert original["NAME"] == "/srv/nova db.sqlite3"  # the Nova alias itself is untouched
