"""Sign-in and headers: lockout after failed logins (django-axes), safe redirects, CSP and friends.

The browser side of the CSP (no violation on any admin page) is in
``tests/browser/test_demo_server.py``.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connections, router

from tests.support.backends import REPO_ROOT

LOGIN = "/admin/login/"
PASSWORD = "the-right-password"
LIMIT = settings.AXES_FAILURE_LIMIT


@pytest.fixture
def operator(db):
    return get_user_model().objects.create_user("operator", password=PASSWORD, is_staff=True, is_superuser=True)


def _login(client, username, password, address="127.0.0.1", next_url="/admin/"):
    return client.post(
        f"{LOGIN}?next={next_url}",
        {"username": username, "password": password, "next": next_url},
        REMOTE_ADDR=address,
    )


def _signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def _fail(client, times, username="operator", address="127.0.0.1"):
    """``times`` failed logins; the last response (None for none)."""
    response = None
    for _ in range(times):
        response = _login(client, username, "a-wrong-guess", address=address)
        assert not _signed_in(client)
    return response


# --- lockout -----------------------------------------------------------------------------


def test_the_documented_limit_and_duration():
    # README: 5 failed logins, 15 minutes, by user name and by address.
    assert LIMIT == 5
    assert settings.AXES_COOLOFF_TIME.total_seconds() == 15 * 60
    assert settings.AXES_LOCKOUT_PARAMETERS == ["username", "ip_address"]


@pytest.mark.parametrize("failures", [0, 1, LIMIT - 1])
def test_fewer_failures_than_the_limit_still_let_the_right_password_in(client, operator, failures):
    _fail(client, failures)
    response = _login(client, "operator", PASSWORD)
    assert response.status_code == 302 and _signed_in(client)


@pytest.mark.parametrize("failures", [LIMIT, LIMIT + 3])
def test_the_right_password_is_refused_after_the_limit_until_axes_reset(client, operator, failures):
    last = _fail(client, failures)
    assert last.status_code == 429
    refused = _login(client, "operator", PASSWORD)
    assert refused.status_code == 429 and not _signed_in(client)
    page = refused.content.decode()
    assert "Sign-in locked" in page and "manage.py axes_reset" in page

    call_command("axes_reset", verbosity=0)
    response = _login(client, "operator", PASSWORD)
    assert response.status_code == 302 and _signed_in(client)


def test_an_account_is_locked_whatever_the_address(client, operator):
    for n in range(LIMIT):
        _fail(client, 1, address=f"10.0.0.{n + 1}")
    assert _login(client, "operator", PASSWORD, address="192.0.2.7").status_code == 429
    assert not _signed_in(client)


def test_an_address_is_locked_whatever_the_account(client, operator):
    for n in range(LIMIT):
        _fail(client, 1, username=f"guess-{n}", address="198.51.100.9")
    assert _login(client, "operator", PASSWORD, address="198.51.100.9").status_code == 429
    # another address is not locked, and neither is the account
    assert _login(client, "operator", PASSWORD, address="198.51.100.10").status_code == 302


def test_the_lockout_ends_after_the_cool_off(client, operator):
    _fail(client, LIMIT)
    assert _login(client, "operator", PASSWORD).status_code == 429
    # The clock moves on (the attempts are dated in the past) instead of the test sleeping.
    earlier = settings.AXES_COOLOFF_TIME + timedelta(seconds=1)
    for attempt in AccessAttempt.objects.all():
        attempt.attempt_time -= earlier
        attempt.save()
    assert _login(client, "operator", PASSWORD).status_code == 302 and _signed_in(client)


def test_attempts_are_stored_in_djangos_database_never_novas(client, operator, db_factory, nova_db_alias):
    nova = db_factory("sqlite", "dump")
    nova_db_alias(nova, alias="nova")
    _fail(client, 2)
    assert router.db_for_write(AccessAttempt) == "default"
    assert AccessAttempt.objects.using("default").get(username="operator").failures_since_start == 2
    with connections["nova"].cursor() as cursor:
        nova_tables = connections["nova"].introspection.table_names(cursor)
    assert not [t for t in nova_tables if t.startswith("axes")]


# --- redirects after login ---------------------------------------------------------------


@pytest.mark.parametrize(
    "next_url",
    ["https://evil.example/", "//evil.example/admin/", "http:evil.example", "https://evil.example/admin/", ""],
)
def test_an_unsafe_or_missing_next_lands_on_the_admin_index(client, operator, next_url):
    response = _login(client, "operator", PASSWORD, next_url=next_url)
    assert response.status_code == 302
    assert response.url == "/admin/"


def test_a_safe_next_is_followed(client, operator):
    response = _login(client, "operator", PASSWORD, next_url="/admin/inventory/flavor/")
    assert response.url == "/admin/inventory/flavor/"


# --- headers -------------------------------------------------------------------------------


def _directives(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {d.split()[0]: d.split()[1:] for d in (p.strip() for p in header.split(";")) if d}


def _assert_security_headers(response, url):
    policy = _directives(response)
    assert policy["script-src"] == ["'self'"], url
    assert "'unsafe-inline'" not in policy.get("style-src", []), url
    assert policy["object-src"] == ["'none'"] and policy["frame-ancestors"] == ["'none'"], url
    assert response["X-Content-Type-Options"] == "nosniff", url
    assert response["Referrer-Policy"] == "same-origin", url


def test_the_login_page_and_every_admin_page_carry_the_security_headers(client, operator, db_factory, nova_db_alias):
    nova_db_alias(db_factory("sqlite", "dump"), alias="nova")
    _assert_security_headers(client.get(LOGIN), LOGIN)
    client.force_login(operator)
    for url in [
        "/admin/",
        "/admin/inventory/instance/",
        "/admin/inventory/flavor/1/change/",
        "/admin/inventory/dashboard/",
        "/admin/schema/",
        "/admin/auth/user/",
        "/admin/no-such-page/",
    ]:
        response = client.get(url, follow=True)
        _assert_security_headers(response, url)


def test_an_inline_style_of_the_schema_page_carries_the_policys_nonce(client, operator, db_factory, nova_db_alias):
    nova_db_alias(db_factory("sqlite", "dump"), alias="nova")
    client.force_login(operator)
    response = client.get("/admin/schema/")
    nonces = {n for n in _directives(response)["style-src"] if n.startswith("'nonce-")}
    styles = re.findall(r"<style([^>]*)>", response.content.decode())
    assert styles and nonces
    for attributes in styles:
        nonce = re.search(r'nonce="([^"]+)"', attributes)
        assert nonce and f"'nonce-{nonce[1]}'" in nonces, attributes


def test_a_form_opened_before_signing_in_again_is_refused_on_a_styled_page_saying_what_to_do(
    operator, db_factory, nova_db_alias
):
    """Sign in again in another tab, then save a form opened before: the CSRF token no longer matches."""
    from django.test import Client

    nova_db_alias(db_factory("sqlite", "dump"), alias="nova")
    client = Client(enforce_csrf_checks=True)

    def sign_in():
        client.get(LOGIN)
        token = client.cookies["csrftoken"].value
        client.post(LOGIN, {"username": "operator", "password": PASSWORD, "csrfmiddlewaretoken": token})
        assert _signed_in(client)

    sign_in()
    assert client.get("/admin/inventory/flavor/1/change/").status_code == 200
    stale = client.cookies["csrftoken"].value  # what the form opened now carries
    client.post("/admin/logout/", {"csrfmiddlewaretoken": stale})
    sign_in()  # signing in again gives a new token
    response = client.post("/admin/inventory/flavor/1/change/", {"csrfmiddlewaretoken": stale, "name": "renamed"})
    assert response.status_code == 403
    page = response.content.decode()
    assert "nothing was saved" in page and "reload the page" in page
    assert "DEBUG=True" not in page
    assert "/static/admin/css/base.css" in page  # the admin's look
    assert not STYLE_WITHOUT_NONCE.search(page)  # an inline style the policy would block (unstyled page)
    _assert_security_headers(response, "csrf failure")


def test_a_form_from_an_address_not_the_sites_says_what_the_operator_must_configure(operator):
    """Behind a proxy that does not pass Host, or at an address not in CSRF_TRUSTED_ORIGINS."""
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.get(LOGIN)
    token = client.cookies["csrftoken"].value
    data = {"username": "operator", "password": PASSWORD, "csrfmiddlewaretoken": token}
    response = client.post(LOGIN, data, secure=True, headers={"Origin": "https://nova-admin.example.org"})
    assert response.status_code == 403 and not _signed_in(client)
    page = response.content.decode()
    assert "CSRF_TRUSTED_ORIGINS" in page and "<code>Host</code>" in page and "reload the page" not in page
    assert "Origin checking failed - https://nova-admin.example.org does not match any trusted origins." in page


# --- templates ------------------------------------------------------------------------------

INLINE_SCRIPT = re.compile(r"<script\b(?![^>]*\bsrc=)[^>]*>", re.I)
EVENT_HANDLER = re.compile(r"<[^>]+\son[a-z]+\s*=", re.I)
STYLE_ATTRIBUTE = re.compile(r"<[^>]+\sstyle\s*=", re.I)
STYLE_WITHOUT_NONCE = re.compile(r"<style\b(?![^>]*\bnonce=)[^>]*>", re.I)
#: Pages that are not served by the app under its CSP: a self-contained HTML file written to disk.
STANDALONE = {"schema/standalone.html"}


def test_templates_have_no_inline_script_handler_style_attribute_or_style_without_nonce():
    root = REPO_ROOT / "templates"
    found = []
    for path in sorted(root.rglob("*.html")):
        name = str(path.relative_to(root))
        if name in STANDALONE:
            continue
        text = Path(path).read_text()
        for pattern in (INLINE_SCRIPT, EVENT_HANDLER, STYLE_ATTRIBUTE, STYLE_WITHOUT_NONCE):
            found += [f"{name}: {m.group(0)[:60]}" for m in pattern.finditer(text)]
    assert found == []
