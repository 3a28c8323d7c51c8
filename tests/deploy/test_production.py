"""Production serving: deploy checks, /healthz, gunicorn with WhiteNoise and JSON logs."""

from __future__ import annotations

import json
import os
import re
import secrets
import signal
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest

from tests.support.backends import TestDatabase
from tests.support.gunicorn import Gunicorn, fetch

PRODUCTION = {
    "DJANGO_SETTINGS_MODULE": "novaweb.settings_production",
    "SECRET_KEY": secrets.token_urlsafe(50),
    "ALLOWED_HOSTS": "novaweb.example.org,127.0.0.1",
}

# --- settings ----------------------------------------------------------------------


def test_check_deploy_is_clean_with_production_settings(run_manage):
    proc = run_manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION)
    assert proc.returncode == 0, proc.stderr
    assert "System check identified no issues" in proc.stdout


def test_check_deploy_warns_with_development_settings(run_manage):
    # The yardstick: the same check does find problems in the development settings.
    proc = run_manage("check", "--deploy", env={"SECRET_KEY": "short"})
    assert "security.W004" in proc.stderr  # no HSTS
    assert "security.W012" in proc.stderr  # session cookie not secure


@pytest.mark.parametrize(
    ("missing", "message"),
    [
        ("SECRET_KEY", "SECRET_KEY must be set in production"),
        ("ALLOWED_HOSTS", "ALLOWED_HOSTS must be set in production"),
    ],
)
def test_production_settings_require_secret_key_and_allowed_hosts(run_manage, missing, message):
    proc = run_manage("check", env={**PRODUCTION, missing: ""})
    assert proc.returncode == 2
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr


NUMBER_SETTINGS = [
    "CONN_MAX_AGE",
    "SECURE_HSTS_SECONDS",
    "NOVA_REPLICA_MAX_LAG",
    "NOVA_CONSOLE_TIMEOUT",
    "NOVA_CONSOLE_MAX_ROWS",
    "LOGIN_FAILURE_LIMIT",
]


@pytest.mark.parametrize("command", ["check", "db_version"])  # Django's full path and the schema commands' short one
@pytest.mark.parametrize("name", NUMBER_SETTINGS)
@pytest.mark.parametrize("value", ["None", "1.5x", "-1", "nan", "ten"])
def test_a_number_setting_that_is_not_one_is_one_line_and_exit_2(run_manage, command, name, value):
    if value == "1.5x" and name in ("NOVA_REPLICA_MAX_LAG", "NOVA_CONSOLE_TIMEOUT"):
        value = "1.5.1"
    proc = run_manage(command, env={**PRODUCTION, name: value})
    assert proc.returncode == 2, proc.stderr
    (line,) = proc.stderr.strip().splitlines()  # one line, no traceback
    assert line.startswith(f"error: {name} must be a")
    assert line.endswith(f">= 0, not {value!r}")


@pytest.mark.parametrize("name", NUMBER_SETTINGS)
def test_an_empty_number_setting_is_its_default(run_manage, name):
    assert run_manage("check", env={**PRODUCTION, name: ""}).returncode == 0


@pytest.mark.parametrize(("value", "code"), [("bogus", 2), ("debug", 0), ("", 0), ("WARNING", 0)])
def test_log_level_is_a_known_level(run_manage, value, code):
    proc = run_manage("db_version", env={**PRODUCTION, "LOG_LEVEL": value})
    assert proc.returncode in ((code,) if code == 2 else (0, 1)), proc.stderr
    if code == 2:
        assert (
            proc.stderr.strip() == "error: LOG_LEVEL must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL, not 'BOGUS'"
        )
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize("command", [("db_undo", "--format", "json"), ("db_drift", "--format", "json")])
def test_a_commands_json_answer_is_all_its_stdout_and_its_logs_go_to_stderr(run_manage, command):
    """Production's JSON logs (axes logs a line as it starts) must not corrupt ``--format json``."""
    proc = run_manage(*command, env={**PRODUCTION, "LOG_LEVEL": "INFO"})
    answer = json.loads(proc.stdout)  # the whole of stdout is one JSON document
    assert "exit_code" in answer or "differences" in answer or "in_sync" in answer, answer
    logged = [json.loads(line) for line in proc.stderr.splitlines() if line.startswith("{")]
    assert all({"time", "level", "logger", "message"} <= set(entry) for entry in logged)


# --- /healthz ------------------------------------------------------------------------


def test_healthz_ok_on_a_synced_database(client, make_db, nova_db_alias):
    nova_db_alias(make_db("dump"), alias="nova")
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "schema_version": 82, "databases": {"nova": "ok"}}
    assert "no-cache" in response["Cache-Control"]


def test_healthz_503_on_a_database_behind(client, make_db, nova_db_alias):
    db = make_db("dump")
    db.execute("UPDATE migrate_version SET version = 81")
    nova_db_alias(db, alias="nova")
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert "schema version 81" in body["reason"] and "db_sync" in body["reason"]


def test_healthz_503_on_a_database_without_nova_schema(client, make_db, nova_db_alias):
    nova_db_alias(make_db("empty"), alias="nova")
    response = client.get("/healthz")
    assert response.status_code == 503
    assert "not under version control" in response.json()["reason"]


UNREACHABLE = {
    "sqlite": "sqlite:////nonexistent-dir/nova.sqlite3",
    "mysql": "mysql://root@127.0.0.1:1/nova",
    "postgresql": "postgres://postgres@127.0.0.1:1/nova",
}


def test_healthz_503_on_an_unreachable_database(client, backend, nova_db_alias):
    nova_db_alias(TestDatabase(backend, "unreachable", UNREACHABLE[backend]), alias="nova")
    response = client.get("/healthz")
    assert response.status_code == 503
    assert "database 'nova' is unreachable" in response.json()["reason"]


def test_admin_pages_say_what_to_do_when_the_nova_database_cannot_answer(admin_client, backend, make_db, nova_db_alias):
    nova_db_alias(TestDatabase(backend, "unreachable", UNREACHABLE[backend]), alias="nova")
    unreachable = admin_client.get("/admin/inventory/instance/")
    assert unreachable.status_code == 503
    page = unreachable.content.decode()
    assert "The Nova database could not answer" in page and "Traceback" not in page

    nova_db_alias(make_db("empty"), alias="nova")
    no_schema = admin_client.get("/admin/inventory/instance/")
    assert no_schema.status_code == 503
    assert "manage.py db_sync" in no_schema.content.decode()


# --- gunicorn -------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["mysql"])
def test_gunicorn_serves_login_page_static_files_and_healthz(make_db, run_manage, tmp_path):
    db = make_db("dump")
    static_root = tmp_path / "static"
    env = {**PRODUCTION, "STATIC_ROOT": str(static_root), "NOVA_DATABASE_URL": db.url}
    proc = run_manage("collectstatic", "--noinput", env=env)
    assert proc.returncode == 0, proc.stderr
    full_env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'django.sqlite3'}",
        "NOVA_REPLICA_DATABASE_URL": "",
        **env,
    }
    server = Gunicorn(full_env, tmp_path / "gunicorn.log")
    try:
        server.wait_ready()
        https = {"X-Forwarded-Proto": "https", "Host": "novaweb.example.org"}

        status, headers, body = fetch(server.base + "/admin/login/", https)
        assert status == 200
        assert b'<input type="submit" value="Log in">' in body
        assert "Secure" in headers["Set-Cookie"]  # the CSRF cookie
        assert headers["Strict-Transport-Security"].startswith("max-age=31536000")
        # the same Content-Security-Policy and headers as in development (novaweb.settings)
        assert "script-src 'self';" in headers["Content-Security-Policy"] + ";"
        assert "'unsafe-inline'" not in headers["Content-Security-Policy"]
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "same-origin"

        # Plain HTTP is sent to HTTPS, except the load balancer's probe.
        status, headers, _ = fetch(server.base + "/admin/login/", {"Host": "novaweb.example.org"})
        assert status == 301 and headers["Location"] == "https://novaweb.example.org/admin/login/"
        status, _, body = fetch(server.base + "/healthz")
        assert status == 200 and json.loads(body)["schema_version"] == 82

        # A static file by its hashed name, from WhiteNoise, cacheable forever.
        manifest = json.loads((static_root / "staticfiles.json").read_text())["paths"]
        hashed = manifest["admin/css/base.css"]
        status, headers, body = fetch(f"{server.base}/static/{hashed}", https)
        assert status == 200
        assert headers["Content-Type"].startswith("text/css")
        assert "immutable" in headers["Cache-Control"]
        assert body == (static_root / hashed).read_bytes()
        status, _, _ = fetch(server.base + "/static/admin/css/no-such-file.css", https)
        assert status == 404

        # SIGHUP: a graceful reload; the server keeps answering.
        server.proc.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 20
        while not any("hup" in entry["message"].lower() for entry in server.log_lines()):
            assert time.monotonic() < deadline, "gunicorn did not log the reload"
            time.sleep(0.2)
        server.wait_ready()
        assert fetch(server.base + "/admin/login/", https)[0] == 200
    finally:
        server.stop()

    # Structured logs: every line is a JSON object; the access log names the requests.
    entries = server.log_lines()
    access = [e["message"] for e in entries if e["logger"] == "gunicorn.access"]
    assert any('"GET /admin/login/ HTTP/1.1" 200' in m for m in access)
    assert any("/static/admin/css/base." in m for m in access)
    assert all({"time", "level", "logger", "message"} <= e.keys() for e in entries)


def _post(url, fields, headers):
    """(status, body) of a form POST, without following redirects."""

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    request = urllib.request.Request(url, data=urllib.parse.urlencode(fields).encode(), headers=headers)
    try:
        with urllib.request.build_opener(NoRedirect).open(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def _sign_in(base, username, password, forwarded_for):
    """A login as a browser behind the proxy does it: the form (its CSRF cookie and token), then the POST."""
    proxy = {"X-Forwarded-Proto": "https", "Host": "novaweb.example.org", "X-Forwarded-For": forwarded_for}
    status, headers, body = fetch(base + "/admin/login/", proxy)
    assert status == 200, status
    cookie = re.search(r"csrftoken=([^;]+)", headers["Set-Cookie"]).group(1)
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', body).group(1).decode()
    origin = "https://novaweb.example.org"
    fields = {"csrfmiddlewaretoken": token, "username": username, "password": password, "next": "/admin/"}
    headers = {**proxy, "Cookie": f"csrftoken={cookie}", "Origin": origin, "Referer": origin + "/admin/login/"}
    return _post(base + "/admin/login/", fields, headers)[0]


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["sqlite"])
def test_behind_the_proxy_failed_logins_lock_their_client_not_everyone(make_db, run_manage, tmp_path):
    """gunicorn on loopback behind a proxy: every request comes from 127.0.0.1. The lockout counts
    the client's address, the last X-Forwarded-For entry (the one the proxy appended); what the
    client wrote before it is not believed."""
    db = make_db("dump")
    env = {**PRODUCTION, "NOVA_DATABASE_URL": db.url, "STATIC_ROOT": str(tmp_path / "static")}
    for step in (("collectstatic", "--noinput"), ("migrate", "--noinput")):
        assert run_manage(*step, env=env).returncode == 0
    made = run_manage("demo_user", "--username", "alice", env=env)
    password = re.search(r"password (\S+)", made.stdout).group(1)
    server = Gunicorn(
        {
            **os.environ,
            "DATABASE_URL": f"sqlite:///{tmp_path / 'django.sqlite3'}",
            "NOVA_REPLICA_DATABASE_URL": "",
            **env,
        },
        tmp_path / "gunicorn.log",
    )
    try:
        server.wait_ready()
        attacker = "203.0.113.9"
        codes = [_sign_in(server.base, f"guess-{n}", "wrong", attacker) for n in range(6)]
        assert codes == [200] * 4 + [429, 429]  # the fifth failure locks that address
        # alice, from her own address through the same proxy, is not locked out
        assert _sign_in(server.base, "alice", password, "198.51.100.20") == 302
        # the attacker writing alice's address first is still the attacker
        assert _sign_in(server.base, "alice", password, f"198.51.100.20, {attacker}") == 429
    finally:
        server.stop()
