"""The first run, as the README has it: ``./scripts/demo.sh``, then the admin in Chromium.

One demo server for the module: ``scripts/demo.sh --instances 40 --port P`` itself,
as a subprocess in its own process group, on throwaway SQLite files
(``DATABASE_URL`` / ``NOVA_DATABASE_URL``), serving with ``runserver`` and DEBUG
off exactly as a new user gets it. Not Django's live test server, which serves
static files itself and so hid an unstyled admin once.

One browser page for the module visits every admin page: each must be styled
(the stylesheet's header colour computed, the theme toggle's icons at their
size), load no static file that fails, raise no Content-Security-Policy
violation (``securitypolicyviolation`` events, reported to the test), and is
saved as ``var/screenshots/demo_<page>.png`` at 1400 px wide.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from tests.browser.conftest import SCREENSHOT_DIR
from tests.support.backends import REPO_ROOT
from tests.support.gunicorn import free_port

pytestmark = pytest.mark.browser

#: ``--header-bg`` of Django's admin stylesheet (``var(--secondary)``, #417690).
HEADER_BG = "rgb(65, 118, 144)"
LOGIN_LINE = re.compile(r"^\s*username (\S+)  password (\S+)\s*$", re.M)
START_TIMEOUT = 240

LISTS = [
    "inventory/instance",
    "inventory/computenode",
    "inventory/service",
    "inventory/network",
    "inventory/fixedip",
    "inventory/floatingip",
    "inventory/flavor",
    "inventory/project",
    "inventory/user",
    "schema/migrateversion",
    "auth/user",
    "auth/group",
]

CSP_LISTENER = """
document.addEventListener("securitypolicyviolation", (event) => {
  window.novawebCspViolation({
    page: location.pathname,
    directive: event.violatedDirective,
    blocked: event.blockedURI,
    source: event.sourceFile,
    line: event.lineNumber,
    sample: event.sample,
  });
});
"""


class DemoServer:
    """``scripts/demo.sh`` in its own process group; ``stop()`` ends the group (runserver and its reloader)."""

    def __init__(self, tmp: Path, instances: int = 40):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = tmp / "demo.log"
        env = {k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE")}
        env.pop("DEBUG", None)  # the README's command: DEBUG off
        env.update(
            {
                "DATABASE_URL": f"sqlite:///{tmp / 'novaweb.sqlite3'}",
                "NOVA_DATABASE_URL": f"sqlite:///{tmp / 'nova.sqlite3'}",
                "NOVA_REPLICA_DATABASE_URL": "",
                "PYTHONUNBUFFERED": "1",
            }
        )
        self.env = env
        with self.log_path.open("w") as log:
            self.proc = subprocess.Popen(
                ["./scripts/demo.sh", "--instances", str(instances), "--port", str(self.port)],
                cwd=REPO_ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: stop() reaches runserver's reloader child too
            )

    def output(self) -> str:
        return self.log_path.read_text()

    def wait_ready(self) -> tuple[str, str]:
        """The login the script printed, once the server answers."""
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if self.proc.poll() is not None:
                raise AssertionError(f"demo.sh exited {self.proc.returncode}:\n{self.output()}")
            login = LOGIN_LINE.search(self.output())
            if login:
                try:
                    with urllib.request.urlopen(f"{self.base}/admin/login/", timeout=5) as response:
                        if response.status == 200:
                            return login[1], login[2]
                except OSError:
                    pass
            if time.monotonic() > deadline:
                raise AssertionError(f"demo.sh did not serve within {START_TIMEOUT} s:\n{self.output()}")
            time.sleep(0.5)

    def stop(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=15)

    def group_alive(self) -> bool:
        try:
            os.killpg(self.proc.pid, 0)
        except ProcessLookupError:
            return False
        return True


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    server = DemoServer(tmp_path_factory.mktemp("demo"))
    try:
        server.login = server.wait_ready()
        yield server
    finally:
        server.stop()
        deadline = time.monotonic() + 10
        while server.group_alive() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not server.group_alive(), "demo.sh left processes behind"


@pytest.fixture(scope="module")
def session(browser, demo):
    """One page for the module, with what went wrong on it collected: CSP violations, failed static files."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    problems = {"csp": [], "static": [], "console": []}
    context.expose_function("novawebCspViolation", lambda report: problems["csp"].append(report))
    context.add_init_script(CSP_LISTENER)
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.on(
        "response",
        lambda r: r.status >= 400 and "/static/" in r.url and problems["static"].append(f"{r.status} {r.url}"),
    )
    page.on("console", lambda m: m.type == "error" and problems["console"].append(m.text))
    page.problems = problems
    yield page
    context.close()


def _styled(page) -> dict:
    return page.evaluate(
        """() => {
          const header = getComputedStyle(document.querySelector("#header"));
          const hidden = document.querySelector("svg.base-svgs");
          const icons = [...document.querySelectorAll(".theme-toggle svg")]
            .map((svg) => svg.getBoundingClientRect())
            .filter((box) => box.width > 0);
          return {
            header: header.backgroundColor,
            font: getComputedStyle(document.body).fontFamily,
            svgSprites: hidden ? getComputedStyle(hidden).display : "none",
            icons: icons.map((box) => [Math.round(box.width), Math.round(box.height)]),
          };
        }"""
    )


def _visit(page, demo, path: str, name: str, *, signed_in: bool = True):
    if path:
        page.goto(demo.base + path)
    page.wait_for_load_state("networkidle")
    style = _styled(page)
    assert style["header"] == HEADER_BG, (path, style)
    assert style["svgSprites"] == "none", (path, style)  # without the CSS the icon sprites draw as black boxes
    assert "serif" not in style["font"].split(",")[0], (path, style)
    if signed_in:
        assert style["icons"] == [[24, 24]], (path, style)  # the theme toggle: one icon, 1.5rem
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    shot = SCREENSHOT_DIR / f"demo_{name}.png"
    page.screenshot(path=str(shot))
    assert shot.stat().st_size > 10_000
    problems = page.problems
    assert problems["csp"] == [], problems["csp"]
    assert problems["static"] == [], problems["static"]
    assert [m for m in problems["console"] if "Content Security Policy" in m] == []


def test_demo_prints_a_login_and_serves_a_styled_login_page(demo, session):
    assert "novaweb demo: " + demo.base + "/admin/" in demo.output()
    with urllib.request.urlopen(f"{demo.base}/static/admin/css/base.css", timeout=10) as response:
        assert response.status == 200 and response.headers["Content-Type"].startswith("text/css")
    _visit(session, demo, "/admin/login/", "login", signed_in=False)
    assert session.locator("#site-name").inner_text() == "novaweb"


def test_login_with_an_unsafe_next_lands_on_the_index(demo, session):
    username, password = demo.login
    session.goto(f"{demo.base}/admin/login/?next=https://evil.example/")
    session.fill("#id_username", username)
    session.fill("#id_password", password)
    session.click("input[type=submit]")
    session.wait_for_url(f"{demo.base}/admin/")
    header = session.locator("#site-name").inner_text()
    assert header.startswith("novaweb · nova: SQLite at ") and header.endswith(", schema 82"), header
    _visit(session, demo, "", "index")


def test_every_admin_page_is_styled_without_csp_violations(demo, session):
    for model in LISTS:
        _visit(session, demo, f"/admin/{model}/", "list_" + model.replace("/", "_"))
        assert session.locator("#result_list, .paginator").count() > 0, model

    # an instance: titled by its name, not "Instance object (N)"
    session.goto(f"{demo.base}/admin/inventory/instance/")
    session.locator("#result_list th.field-uuid a").first.click()
    session.wait_for_url(re.compile(r".*/admin/inventory/instance/\d+/change/$"))
    _visit(session, demo, "", "instance")
    assert "object (" not in session.title() and "object (" not in session.locator(".breadcrumbs").inner_text()

    # the host drop-down filter (a static script, no inline handler) reloads the list
    session.goto(f"{demo.base}/admin/inventory/instance/")
    host = session.locator("select[aria-label='host'] option").nth(1)
    label = host.inner_text()
    session.select_option("select[aria-label='host']", label=label)
    session.wait_for_url(re.compile(r".*host=.*"))
    _visit(session, demo, "", "list_instances_by_host")

    # a flavor edited with an error
    session.goto(f"{demo.base}/admin/inventory/flavor/1/change/")
    session.fill("#id_memory_mb", "0")
    session.click("input[name=_save]")
    session.locator(".errornote").wait_for()
    _visit(session, demo, "", "flavor_error")
    assert session.locator(".field-memory_mb .errorlist").inner_text() == "ram must be >= 1"

    _visit(session, demo, "/admin/inventory/dashboard/", "dashboard")
    assert session.locator(".dashboard-grid svg").count() >= 3
    assert session.locator(".dashboard-grid").evaluate("e => getComputedStyle(e).display") == "flex"

    _visit(session, demo, "/admin/schema/", "schema")
    session.locator("#schema-diagram svg").wait_for()
    session.locator("#schema-diagram svg g#node-instances a, #schema-diagram svg a").first.wait_for()
    table_link = session.locator("a[href^='/admin/schema/table/']").first
    table_link.click()
    session.wait_for_url(re.compile(r".*/admin/schema/table/[^/]+/$"))
    _visit(session, demo, "", "schema_table")


def test_a_viewer_made_by_demo_user_sees_the_inventory_but_not_djangos_users(demo, browser):
    made = subprocess.run(
        [str(REPO_ROOT / ".venv/bin/python"), "manage.py", "demo_user", "--role", "viewer"],
        cwd=REPO_ROOT,
        env=demo.env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert made.returncode == 0, made.stderr
    username, password = LOGIN_LINE.search(made.stdout.replace("demo user created:", "")).groups()
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    try:
        page.goto(f"{demo.base}/admin/login/?next=/admin/")
        page.fill("#id_username", username)
        page.fill("#id_password", password)
        page.click("input[type=submit]")
        page.wait_for_url(f"{demo.base}/admin/")
        content = page.locator("#content").inner_text().lower()  # captions are drawn upper-case
        assert "instances" in content and "nova database schema" in content
        assert "authentication and authorization" not in content and "axes" not in content
        SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOT_DIR / "demo_viewer_index.png"))
        assert page.goto(f"{demo.base}/admin/auth/user/").status == 403
    finally:
        context.close()
