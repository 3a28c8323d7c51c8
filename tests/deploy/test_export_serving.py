"""Exports served the production way (gunicorn with deploy/gunicorn.conf.py): complete, or a cut the client sees.

A download that lasts longer than gunicorn's ``timeout`` (here 2 s: a slow
reader over a 10 MB export) arrives whole: the shipped worker class (gthread)
is not killed mid-stream. When a worker dies mid-download anyway (SIGKILL
here: an OOM kill, a redeploy), the response had announced its
Content-Length, so the client gets fewer bytes than announced: an error, not
a shorter file that looks whole.
"""

from __future__ import annotations

import csv
import http.client
import io
import os
import signal
import socket
import time
from pathlib import Path

import pytest

from tests.deploy.test_flavor_concurrency import PASSWORD, Browser
from tests.support.gunicorn import Gunicorn

pytestmark = pytest.mark.slow

INSTANCES = 50_000
TIMEOUT = 2
EXPORT = "/admin/inventory/instance/export.csv"


class SlowReader(http.client.HTTPConnection):
    """A connection with a small receive buffer: the server can only send as fast as the test reads."""

    def connect(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 * 1024)
        self.sock.settimeout(60)
        self.sock.connect((self.host, self.port))


@pytest.fixture(scope="module")
def served(tmp_path_factory, _dump_templates):
    """gunicorn (1 worker, timeout 2 s) over a SQLite Nova database with 50,000 instances; a logged-in cookie."""
    import subprocess
    import sys

    from tests.support import backends

    tmp = tmp_path_factory.mktemp("export_serving")
    db = backends.clone(_dump_templates.get("sqlite"), tmp)
    env = {key: value for key, value in os.environ.items() if key != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env.update(
        DJANGO_SETTINGS_MODULE="novaweb.settings",  # plain HTTP; the production settings would redirect to HTTPS
        DATABASE_URL=f"sqlite:///{tmp / 'django.sqlite3'}",
        NOVA_DATABASE_URL=db.url,
        NOVA_REPLICA_DATABASE_URL="",
        DEBUG="0",
        LOG_LEVEL="WARNING",
        DJANGO_SUPERUSER_PASSWORD=PASSWORD,
    )
    for args in (
        ("migrate", "--noinput"),
        ("createsuperuser", "--noinput", "--username", "op", "--email", "op@x.org"),
        ("seed_demo", "--instances", str(INSTANCES)),
    ):
        proc = subprocess.run(
            [sys.executable, "manage.py", *args], cwd=backends.REPO_ROOT, env=env, capture_output=True, text=True
        )
        assert proc.returncode == 0, proc.stderr
    server = Gunicorn({**env, "GUNICORN_TIMEOUT": str(TIMEOUT)}, tmp / "gunicorn.log", workers=1)
    try:
        server.wait_ready()
        yield server, Browser(server.base).login("op")
    finally:
        server.stop()
        db.drop()


def session_cookie(browser) -> str:
    for handler in browser.opener.handlers:
        jar = getattr(handler, "cookiejar", None)
        if jar is not None:
            return "; ".join(f"{c.name}={c.value}" for c in jar)
    raise AssertionError("no cookie jar")


def start_download(server, browser):
    connection = SlowReader("127.0.0.1", server.port)
    connection.request("GET", EXPORT + "?deleted=all", headers={"Cookie": session_cookie(browser)})
    response = connection.getresponse()
    assert response.status == 200, response.read()[:500]
    return connection, response


def worker_pids(server) -> list[int]:
    children = Path(f"/proc/{server.proc.pid}/task/{server.proc.pid}/children").read_text().split()
    return [int(pid) for pid in children]


def test_a_download_longer_than_the_timeout_arrives_whole(served):
    server, browser = served
    started = time.monotonic()
    connection, response = start_download(server, browser)
    length = int(response.headers["Content-Length"])
    assert length > 8 * 1024 * 1024  # more than the socket buffers hold: the server waits for the reader
    body = bytearray()
    while chunk := response.read(64 * 1024):  # about 6 s for 10 MB
        body += chunk
        time.sleep(0.04)
    connection.close()
    assert time.monotonic() - started > 2 * TIMEOUT  # the premise: the response outlived gunicorn's timeout
    assert len(body) == length
    rows = list(csv.reader(io.StringIO(body.decode(), newline="")))
    assert len(rows) - 1 == int(response.headers["X-Export-Rows"]) == INSTANCES
    assert "WORKER TIMEOUT" not in server.log_path.read_text()


def test_a_worker_killed_mid_download_is_a_failed_download(served):
    server, browser = served
    connection, response = start_download(server, browser)
    length = int(response.headers["Content-Length"])
    first = response.read(256 * 1024)
    (worker,) = worker_pids(server)
    os.kill(worker, signal.SIGKILL)
    with pytest.raises(http.client.IncompleteRead) as cut:  # what urllib, requests, curl... report
        response.read()
    connection.close()
    assert len(first) + len(cut.value.partial) < length
    server.wait_ready()  # gunicorn starts a new worker
