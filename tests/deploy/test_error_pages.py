"""Error pages tell anonymous visitors nothing about the infrastructure (issue 17.4); the debug toolbar (17.1).

Anonymous responses say "unavailable" and a reference; the driver's message goes to the log under
that reference, and to logged-in staff. The page blames the database that failed: Django's own
``default`` or the Nova database.
"""

from __future__ import annotations

import json
import logging
import re

import pytest

from tests.support.backends import TestDatabase

#: Nova databases that refuse the connection, each with what the driver says (and must not be shown).
REFUSING = {
    "sqlite": ("sqlite:////nonexistent-dir/secret-place/nova.sqlite3", ["unable to open", "secret-place"]),
    "mysql": ("mysql://nova:wrong-password@127.0.0.1:3306/nova", ["Access denied", "nova'@", "127.0.0.1"]),
    "postgresql": ("postgres://nosuchrole@127.0.0.1:5432/nova", ["nosuchrole", "127.0.0.1", "5432"]),
}
REFERENCE = re.compile(r"[0-9a-f]{12}")


def test_healthz_gives_anonymous_callers_a_reference_not_the_drivers_message(
    client, admin_client, backend, nova_db_alias, caplog
):
    url, secrets_of_the_driver = REFUSING[backend]
    nova_db_alias(TestDatabase(backend, "refusing", url), alias="nova")
    with caplog.at_level(logging.ERROR, logger="novaweb.database"):
        response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["reason"] == "database 'nova' is unreachable"
    assert REFERENCE.fullmatch(body["reference"])
    text = response.content.decode()
    for secret in secrets_of_the_driver:
        assert secret not in text, secret
    assert "detail" not in body
    (record,) = [r for r in caplog.records if getattr(r, "reference", None) == body["reference"]]
    assert record.database == "nova"
    assert any(secret in record.getMessage() for secret in secrets_of_the_driver), record.getMessage()

    staff = admin_client.get("/healthz").json()  # logged-in staff see what the driver said
    assert any(secret in staff["detail"] for secret in secrets_of_the_driver), staff


def test_staff_see_which_nova_database_failed_with_a_reference(admin_client, nova_db_alias, caplog):
    nova_db_alias(TestDatabase("mysql", "refusing", REFUSING["mysql"][0]), alias="nova")
    with caplog.at_level(logging.ERROR, logger="novaweb.database"):
        response = admin_client.get("/admin/inventory/instance/")
    assert response.status_code == 503
    html = response.content.decode()
    assert "The Nova database could not answer" in html
    assert "nova@127.0.0.1:3306/nova" in html and "wrong-password" not in html
    reference = re.search(r"Reference: <code>([0-9a-f]{12})</code>", html).group(1)
    assert [r.database for r in caplog.records if getattr(r, "reference", None) == reference] == ["nova"]


SHOW_PAGE = """
import json
from django.test import Client
client = Client()
client.cookies["sessionid"] = "a" * 32  # a returning visitor: the session is read from Django's database
response = client.get("/admin/")
print(json.dumps({"status": response.status_code, "html": response.content.decode()}))
"""


def test_anonymous_page_when_djangos_own_database_is_down(run_manage, make_db):
    """Django's ``default`` database down, the Nova database fine: "unavailable", nothing about either."""
    nova = make_db("dump", backend="sqlite")
    down = "mysql://novaweb:s3cret-pw@127.0.0.1:1/novaweb_auth"
    proc = run_manage("shell", "-c", SHOW_PAGE, db=nova, env={"DATABASE_URL": down})
    assert proc.returncode == 0, proc.stderr
    page = json.loads(proc.stdout.strip().splitlines()[-1])
    assert page["status"] == 503
    html = page["html"]
    assert "novaweb is unavailable" in html
    for leak in ("Nova", "nova", "127.0.0.1", "novaweb_auth", "s3cret", "mysql", "DATABASE_URL", "Can't connect"):
        assert leak not in html.replace("novaweb is unavailable", "").replace("· novaweb", ""), leak
    reference = re.search(r"Reference: <code>([0-9a-f]{12})</code>", html).group(1)
    # the log names the database that failed (default, not the Nova database) under the same reference
    assert re.search(rf"\[ref {reference}\] default on /admin/: .*Can't connect", proc.stderr), proc.stderr


FAILING_PAGE = """
import json
from django.test import Client, override_settings
with override_settings(ROOT_URLCONF="tests.support.failing_urls"):
    response = Client(raise_request_exception=False).get("/fails/")
print(json.dumps({"status": response.status_code, "html": response.content.decode()}))
"""


def test_a_500_with_debug_off_is_logged_on_stderr_never_shown(run_manage):
    """scripts/demo.sh's settings (DEBUG off, runserver): the page says nothing, the terminal has the traceback."""
    proc = run_manage("shell", "-c", FAILING_PAGE, env={"DEBUG": "0"})
    assert proc.returncode == 0, proc.stderr
    page = json.loads(proc.stdout.strip().splitlines()[-1])
    assert page["status"] == 500 and "a bug in a page" not in page["html"]
    assert "Internal Server Error: /fails/" in proc.stderr
    assert "RuntimeError: a bug in a page" in proc.stderr and "Traceback" in proc.stderr


@pytest.mark.parametrize("backend", ["sqlite"])
def test_database_errors_that_are_bad_input_are_a_400(rf, backend, make_db, nova_db_alias):
    """A database refusing the input (SQLite's LIKE limit) is a 400 with the reason for staff, not a 503."""
    from django.contrib.auth.models import AnonymousUser, User
    from django.db import DatabaseError, connections

    from novaweb.database_errors import NovaDatabaseErrorMiddleware

    alias = nova_db_alias(make_db("empty"))
    try:
        with connections[alias].cursor() as cursor:
            cursor.execute("SELECT 1 WHERE 'x' LIKE %s", ["a" * 200_000])
    except DatabaseError as exc:
        error = exc
    middleware = NovaDatabaseErrorMiddleware(lambda request: None)
    staff = User(username="staff", is_staff=True, is_active=True)
    for user, shows_reason in ((AnonymousUser(), False), (staff, True)):
        request = rf.get("/admin/inventory/instance/")
        request.user = user
        response = middleware.process_exception(request, error)
        assert response.status_code == 400
        html = response.content.decode()
        assert "The request was refused" in html
        assert ("pattern too complex" in html) is shows_reason


TOOLBAR = """
import json
from django.contrib.auth.models import User
from django.test import Client
seen = {}
users = {"anonymous": None, "staff": {"is_staff": True}, "superuser": {"is_staff": True, "is_superuser": True}}
for name, flags in users.items():
    client = Client()
    if flags:
        client.force_login(User.objects.create_user(name, **flags))
    html = client.get("/admin/password_change/" if flags else "/admin/login/").content.decode()
    sql = client.get("/__debug__/render_panel/", {"request_id": "x", "panel_id": "SQLPanel"}).status_code
    seen[name] = {"toolbar": "djDebug" in html, "sql_panel": sql}
print(json.dumps(seen))
"""


def test_debug_toolbar_only_for_superusers(run_manage):
    env = {"DEBUG": "1"}
    assert run_manage("migrate", "--noinput", env=env).returncode == 0
    proc = run_manage("shell", "-c", TOOLBAR, env=env)
    assert proc.returncode == 0, proc.stderr
    seen = json.loads(proc.stdout.strip().splitlines()[-1])
    assert seen["superuser"]["toolbar"] is True
    assert seen["staff"] == {"toolbar": False, "sql_panel": 404}
    assert seen["anonymous"] == {"toolbar": False, "sql_panel": 404}
