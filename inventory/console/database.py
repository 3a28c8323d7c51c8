"""The ``nova_readonly`` alias: a connection to the Nova database that cannot write.

Built from the Nova database's URL (the replica's when one is configured) or
from ``NOVA_READONLY_DATABASE_URL`` (an account with read-only grants), and
locked down when it connects, so that a write fails *at the server* whatever
text the console sends:

- PostgreSQL: ``options=-c default_transaction_read_only=on -c statement_timeout=...``
  (startup parameters of the session);
- MySQL/MariaDB: ``init_command=SET SESSION TRANSACTION READ ONLY``, no
  multi-statement strings (``multi_statements=False``), and on connect
  ``max_statement_time`` (MariaDB, seconds) or ``max_execution_time`` (MySQL, ms);
- SQLite: the file opened with ``mode=ro`` (a URI), plus an authorizer that
  refuses ``ATTACH`` (which could open another file read-write) and reading a
  hidden column; the time limit is a progress handler set per statement by
  :mod:`inventory.console.runner`.

The router never sends a model's reads or writes here: only the console's
runner uses this alias, by name.
"""

from __future__ import annotations

import copy
import sqlite3
from urllib.parse import quote

READONLY_ALIAS = "nova_readonly"

#: Defaults of the console's limits (settings ``NOVA_CONSOLE_*`` override them).
DEFAULT_TIMEOUT_SECONDS = 10.0


def readonly_database(config: dict, *, timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS) -> dict:
    """The ``DATABASES`` entry of a read-only, time-limited copy of the database ``config``."""
    config = copy.deepcopy(config)
    options = config.setdefault("OPTIONS", {})
    engine = config["ENGINE"]
    if engine.endswith("postgresql"):
        milliseconds = max(int(timeout_seconds * 1000), 1)
        settings = f"-c default_transaction_read_only=on -c statement_timeout={milliseconds}"
        options["options"] = f"{options['options']} {settings}" if options.get("options") else settings
    elif engine.endswith("mysql"):
        options["init_command"] = "SET SESSION TRANSACTION READ ONLY"
        options["multi_statements"] = False
    elif engine.endswith("sqlite3"):
        name = str(config["NAME"])
        if not name.startswith("file:"):
            config["NAME"] = f"file:{quote(name)}?mode=ro"
        elif "mode=" not in name:
            config["NAME"] = f"{name}{'&' if '?' in name else '?'}mode=ro"
    config["CONN_MAX_AGE"] = 0
    config["ATOMIC_REQUESTS"] = False
    config["NOVAWEB_TIMEOUT_SECONDS"] = timeout_seconds
    return config


def timeout_seconds(connection) -> float:
    """The time limit the alias of ``connection`` was configured with."""
    return float(connection.settings_dict.get("NOVAWEB_TIMEOUT_SECONDS", DEFAULT_TIMEOUT_SECONDS))


def is_readonly(connection) -> bool:
    return "NOVAWEB_TIMEOUT_SECONDS" in connection.settings_dict


def lock_down(sender, connection, **kwargs) -> None:
    """``connection_created`` receiver: what the read-only alias sets up once connected."""
    if not is_readonly(connection):
        return
    if connection.vendor == "mysql":
        seconds = timeout_seconds(connection)
        with connection.cursor() as cursor:
            if connection.mysql_is_mariadb:
                cursor.execute("SET SESSION max_statement_time = %s", [seconds])
            else:
                cursor.execute("SET SESSION max_execution_time = %s", [max(int(seconds * 1000), 1)])
    elif connection.vendor == "sqlite":
        connection.connection.set_authorizer(_sqlite_authorizer)


def _sqlite_authorizer(action, table, column, database, trigger):
    """SQLite's own access control: no ATTACH/DETACH, no read of a hidden column (in any table)."""
    from .guard import hidden_column_names

    if action in (sqlite3.SQLITE_ATTACH, sqlite3.SQLITE_DETACH):
        return sqlite3.SQLITE_DENY
    if action == sqlite3.SQLITE_READ and (column or "").lower() in hidden_column_names():
        return sqlite3.SQLITE_DENY
    return sqlite3.SQLITE_OK
