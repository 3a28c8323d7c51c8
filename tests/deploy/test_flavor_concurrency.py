"""Flavor writes at the same instant, against a real server: gunicorn with several workers (issue 17, point 6).

Four logged-in browsers post the same form at once (a barrier releases them
together), round after round: the add form with one name, the add form with
one flavorid, "clone with new sizing" of one flavor, and the change form of one
flavor adding the same extra-spec key from the same page. The database is then
counted through its own driver: exactly one live row each time, and every
other browser got the duplicate message (or the stale-page one).
"""

from __future__ import annotations

import http.cookiejar
import os
import secrets
import threading
import urllib.error
import urllib.parse
import urllib.request
from html.parser import HTMLParser

import pytest

from tests.inventory.test_flavors import flavor_post
from tests.support.gunicorn import Gunicorn

BROWSERS = 4
ROUNDS = 4
PASSWORD = secrets.token_urlsafe(16)


class FormInputs(HTMLParser):
    """The ``name -> value`` pairs a browser would submit from a page's inputs (no buttons, no unchecked boxes)."""

    def __init__(self, html):
        super().__init__()
        self.values = {}
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag != "input" or "name" not in attrs or attrs.get("type") in ("submit", "button"):
            return
        if attrs.get("type") == "checkbox" and "checked" not in attrs:
            return
        self.values[attrs["name"]] = attrs.get("value") or ""


class Browser:
    """One logged-in session: its own cookies, no redirects followed."""

    class _NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    def __init__(self, base):
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), self._NoRedirect
        )

    def request(self, path, data=None):
        body = None if data is None else urllib.parse.urlencode(data).encode()
        try:
            with self.opener.open(self.base + path, body, timeout=60) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()

    def form(self, path):
        """The inputs of the page at ``path`` (csrf token and, on a change page, the version)."""
        status, html = self.request(path)
        assert status == 200, html[:500]
        return FormInputs(html).values

    def login(self, username):
        token = self.form("/admin/login/")["csrfmiddlewaretoken"]
        status, html = self.request(
            "/admin/login/?next=/admin/",
            {"csrfmiddlewaretoken": token, "username": username, "password": PASSWORD, "next": "/admin/"},
        )
        assert status == 302, html[:500]
        return self


def at_once(browsers, path, forms):
    """Browser ``i`` posts ``forms[i]`` to ``path``, one thread each, released together; their (status, html)."""
    barrier = threading.Barrier(len(browsers))
    results = [None] * len(browsers)

    def run(i):
        barrier.wait()
        results[i] = browsers[i].request(path, forms[i])

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(browsers))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def one_winner(results, refusal):
    """Exactly one save (a redirect); every other browser saw ``refusal`` on its re-shown form."""
    statuses = sorted(status for status, _ in results)
    assert statuses == [200] * (len(results) - 1) + [302], statuses
    for status, html in results:
        assert status == 302 or refusal in html, html[-3000:]


@pytest.fixture
def server(make_db, run_manage, tmp_path):
    db = make_db("dump")
    for args in (("migrate", "--noinput"), ("createsuperuser", "--noinput", "--username", "op", "--email", "op@x.org")):
        proc = run_manage(*args, env={"DJANGO_SUPERUSER_PASSWORD": PASSWORD})
        assert proc.returncode == 0, proc.stderr
    env = {key: value for key, value in os.environ.items() if key != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env.update(
        DJANGO_SETTINGS_MODULE="novaweb.settings",  # plain HTTP; the production settings would redirect to HTTPS
        DATABASE_URL=f"sqlite:///{tmp_path / 'django.sqlite3'}",  # where run_manage put Django's tables
        NOVA_DATABASE_URL=db.url,
        NOVA_REPLICA_DATABASE_URL="",
        DEBUG="0",
        LOG_LEVEL="WARNING",
    )
    gunicorn = Gunicorn(env, tmp_path / "gunicorn.log", workers=BROWSERS)
    try:
        gunicorn.wait_ready()
        yield db, gunicorn
    finally:
        gunicorn.stop()


def count(db, where, params=()):
    return db.fetchall(f"SELECT COUNT(*) FROM instance_types WHERE {where}", list(params))[0][0]


def live(db):
    return "deleted = false" if db.backend == "postgresql" else "deleted = 0"


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["mysql", "postgresql", "sqlite"])
def test_simultaneous_flavor_writes_leave_exactly_one_live_row(server):
    db, gunicorn = server
    browsers = [Browser(gunicorn.base).login("op") for _ in range(BROWSERS)]
    add = "/admin/inventory/flavor/add/"
    p = db.placeholder
    for r in range(ROUNDS):
        # the add form, one name, different flavorids
        tokens = [{"csrfmiddlewaretoken": b.form(add)["csrfmiddlewaretoken"]} for b in browsers]
        name = f"race-{r}"
        forms = [{**flavor_post(name=name, flavorid=f"{name}-{i}"), **tokens[i]} for i in range(BROWSERS)]
        one_winner(at_once(browsers, add, forms), f"Flavor with name {name} already exists.")
        assert count(db, f"name = {p} AND {live(db)}", [name]) == 1

        # the add form, one flavorid, different names
        flavorid = f"fid-{r}"
        forms = [{**flavor_post(name=f"{flavorid}-{i}", flavorid=flavorid), **tokens[i]} for i in range(BROWSERS)]
        one_winner(at_once(browsers, add, forms), f"Flavor with ID {flavorid} already exists.")
        assert count(db, f"flavorid = {p}", [flavorid]) == 1

        # clone with new sizing, every browser from its page of the flavor made above
        source = db.fetchall(f"SELECT id FROM instance_types WHERE name = {p} AND {live(db)}", [name])[0][0]
        clone = f"/admin/inventory/flavor/{source}/clone/"
        forms = [{**b.form(clone), "flavorid": "", "memory_mb": "4096"} for b in browsers]
        one_winner(at_once(browsers, clone, forms), f"Flavor with name {name} already exists.")
        assert count(db, f"name = {p} AND {live(db)}", [name]) == 1
        assert count(db, f"name = {p}", [name]) == 2  # the source, soft-deleted, and one clone
        assert count(db, f"name = {p} AND {live(db)} AND memory_mb = 4096", [name]) == 1

        # the same extra-spec key added from the same change page
        change = f"/admin/inventory/flavor/{r + 1}/change/"
        forms = [
            {**b.form(change), "extra_specs-0-key": "k1", "extra_specs-0-value": str(i)} for i, b in enumerate(browsers)
        ]
        results = at_once(browsers, change, forms)
        assert sorted(status for status, _ in results) == [302] * BROWSERS  # the losers go back to the page
        specs = db.fetchall(
            f"SELECT value FROM instance_type_extra_specs WHERE instance_type_id = {p} AND {live(db)}", [r + 1]
        )
        assert len(specs) == 1, specs
        pages = [b.request(change)[1] for b in browsers]
        assert sum("since you opened it" in html for html in pages) == BROWSERS - 1
