"""Fixtures shared by every novaweb test suite.

Throwaway databases (see ``tests/support/backends.py``):

- ``backend``: parametrizes a test over sqlite / mysql / postgresql.
  ``@pytest.mark.parametrize("backend", ["mysql"])`` on a test narrows it.
- ``make_db(source="empty", *, backend=None)``: a fresh ``TestDatabase`` on the
  test's backend (or the one named); ``source="dump"`` gives a copy of the Nova
  Essex reference dump, cloned from a per-session template. Dropped after the test.
- ``db_factory(backend, source="empty")``: the same without the parametrization.
- ``nova_db_alias(db, alias=None) -> alias``: registers ``db`` as a Django
  connection alias for the test and unblocks Django database access.
  ``alias="nova"`` temporarily points the router's Nova alias at ``db``.
- ``run_manage(*args, db=None, env=None, timeout=120, input=None)``: runs
  ``python manage.py ...`` from the repository root; returns the CompletedProcess.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import subprocess
import sys

import environ
import pytest

from tests.support import backends
from tests.support.backends import BACKENDS, REPO_ROOT


class _DumpTemplates:
    """One dump-loaded database per backend and session, cloned for each test."""

    def __init__(self, tmp_dir):
        self.tmp_dir = tmp_dir
        self._templates = {}

    def get(self, backend):
        if backend not in self._templates:
            db = backends.create_empty(backend, self.tmp_dir)
            try:
                backends.load_reference_dump(db)
            except BaseException:
                db.drop()
                raise
            self._templates[backend] = db
        return self._templates[backend]

    def drop_all(self):
        for db in self._templates.values():
            db.drop()
        self._templates.clear()


@pytest.fixture(scope="session")
def _dump_templates(tmp_path_factory):
    templates = _DumpTemplates(tmp_path_factory.mktemp("templates"))
    yield templates
    templates.drop_all()


@pytest.fixture(params=BACKENDS, ids=BACKENDS)
def backend(request):
    """The database backend under test: "sqlite", "mysql" or "postgresql"."""
    return request.param


@pytest.fixture
def db_factory(_dump_templates, tmp_path_factory):
    """``db_factory(backend, source="empty"|"dump") -> TestDatabase``, dropped after the test."""
    created = []
    tmp_dir = tmp_path_factory.mktemp("db")

    def factory(backend, source="empty"):
        if backend not in BACKENDS:
            raise ValueError(f"unknown backend {backend!r}; expected one of {BACKENDS}")
        if source == "empty":
            db = backends.create_empty(backend, tmp_dir)
        elif source == "dump":
            db = backends.clone(_dump_templates.get(backend), tmp_dir)
        else:
            raise ValueError(f"unknown source {source!r}; expected 'empty' or 'dump'")
        created.append(db)
        return db

    yield factory
    errors = []
    for db in reversed(created):
        try:
            db.drop()
        except Exception as exc:  # drop the others anyway
            errors.append(f"{db.backend} {db.name}: {exc}")
    if errors:
        raise RuntimeError("could not drop test databases: " + "; ".join(errors))


@pytest.fixture
def make_db(backend, db_factory):
    """``make_db(source="empty"|"dump", *, backend=None) -> TestDatabase`` on the test's backend."""

    def make(source="empty", *, backend=backend):
        return db_factory(backend, source)

    return make


_alias_counter = itertools.count(1)


def django_db_config(db):
    """The Django DATABASES entry for a TestDatabase, as novaweb.settings builds it."""
    config = environ.Env.db_url_config(db.url)
    if config["ENGINE"] == "django.db.backends.mysql":
        config.setdefault("OPTIONS", {}).setdefault("charset", "utf8")
        config["OPTIONS"].setdefault("local_infile", False)
    return config


@pytest.fixture
def nova_db_alias(db_factory, django_db_blocker):
    """``nova_db_alias(db, alias=None) -> alias``: ``db`` as a Django connection alias.

    Without ``alias`` a new one (``nova_<backend>_<n>``) is registered; with an
    existing alias (``"nova"``) its settings are replaced for the test and
    restored afterwards. Django database access is unblocked for the whole test.
    Connections are closed before the databases are dropped.
    """
    from django.db import DEFAULT_DB_ALIAS, connections

    originals = {}  # alias -> its settings before the test (None: it did not exist)

    def _forget_connection(alias):
        if alias in connections.settings:
            connections[alias].close()
        with contextlib.suppress(AttributeError):  # never connected in this thread
            del connections[alias]

    def register(db, alias=None):
        if alias is None:
            alias = f"nova_{db.backend}_{next(_alias_counter)}"
        if alias == DEFAULT_DB_ALIAS:
            raise ValueError("nova_db_alias does not replace Django's default database")
        config = connections.configure_settings(
            {DEFAULT_DB_ALIAS: connections.settings[DEFAULT_DB_ALIAS], alias: django_db_config(db)}
        )[alias]
        originals.setdefault(alias, connections.settings.get(alias))
        _forget_connection(alias)
        connections.settings[alias] = config
        return alias

    with django_db_blocker.unblock():
        yield register
        for alias, original in originals.items():
            _forget_connection(alias)
            if original is None:
                del connections.settings[alias]
            else:
                connections.settings[alias] = original


@pytest.fixture
def run_manage(tmp_path):
    """``run_manage(*args, db=None, env=None, timeout=120, input=None)`` -> CompletedProcess.

    Runs ``manage.py`` with this interpreter from the repository root. Django's
    own tables go to a fresh SQLite file under the test's tmp_path; ``db`` (a
    TestDatabase) becomes ``NOVA_DATABASE_URL`` (otherwise an empty SQLite file
    there, never the developer's ``var/``); ``env`` entries override all of them.
    """

    def run(*args, db=None, env=None, timeout=120, input=None):
        full_env = dict(os.environ)
        full_env.pop("DJANGO_SETTINGS_MODULE", None)
        # Browser tests allow async-unsafe calls in this process; a child process must not inherit that.
        full_env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        full_env.update(
            {
                "DATABASE_URL": f"sqlite:///{tmp_path / 'django.sqlite3'}",
                "NOVA_DATABASE_URL": f"sqlite:///{tmp_path / 'nova.sqlite3'}",
                "NOVA_REPLICA_DATABASE_URL": "",
                "PYTHONUNBUFFERED": "1",
            }
        )
        if db is not None:
            full_env["NOVA_DATABASE_URL"] = db.url
        full_env.update(env or {})
        return subprocess.run(
            [sys.executable, str(REPO_ROOT / "manage.py"), *map(str, args)],
            cwd=REPO_ROOT,
            env=full_env,
            input=input,
            text=True,
            capture_output=True,
            timeout=timeout,
        )

    return run
