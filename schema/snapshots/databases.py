"""Connections the snapshot commands open besides the Nova one: ``--into URL`` and scratch databases."""

from __future__ import annotations

import contextlib
import itertools
import os
import secrets

import environ
from django.db import DEFAULT_DB_ALIAS, connections

from .backends import snapshot_backend

_counter = itertools.count(1)


class BadDatabaseURL(ValueError):
    """An ``--into`` URL that cannot be parsed (exit 2)."""


def config_from_url(url: str) -> dict:
    """Django settings for a database URL, as novaweb's settings make them."""
    try:
        config = environ.Env.db_url_config(url)
    except Exception as exc:  # noqa: BLE001 -- django-environ raises several kinds
        raise BadDatabaseURL(f"not a valid database URL ({url!r}): {exc}") from None
    engine = config.get("ENGINE", "")
    if engine.rsplit(".", 1)[-1] not in ("mysql", "postgresql", "sqlite3"):
        raise BadDatabaseURL(f"unsupported database URL {url!r}: use mysql://, postgres:// or sqlite:///")
    if engine.endswith("mysql"):
        config.setdefault("OPTIONS", {}).setdefault("charset", "utf8")
    return config


@contextlib.contextmanager
def temporary_alias(config: dict):
    """A Django connection for ``config`` under a fresh alias, closed and forgotten afterwards."""
    alias = f"novaweb_tmp_{os.getpid()}_{next(_counter)}"
    full = connections.configure_settings(
        {DEFAULT_DB_ALIAS: connections.settings[DEFAULT_DB_ALIAS], alias: dict(config)}
    )[alias]
    connections.settings[alias] = full
    try:
        yield connections[alias]
    finally:
        connections[alias].close()
        with contextlib.suppress(AttributeError):
            del connections[alias]
        del connections.settings[alias]


@contextlib.contextmanager
def scratch_database(connection):
    """A new, empty database on ``connection``'s server, dropped afterwards; yields its connection."""
    backend = snapshot_backend(connection)
    name = f"novaweb_scratch_{os.getpid()}_{secrets.token_hex(3)}"
    config = backend.create_database(name)
    try:
        with temporary_alias(config) as scratch:
            yield scratch
    finally:
        backend.drop_database(config)
