"""Every MySQL/MariaDB session novaweb opens runs in a strict SQL mode.

Essex-era servers often run with ``sql_mode=''``, where the server cuts a
too-long string and clamps an out-of-range number with a warning instead of
failing. novaweb's promise that nothing is cut silently rests on the server
refusing, so each new connection (whatever its URL's ``init_command`` or the
server's default said) gets ``STRICT_ALL_TABLES`` added to its mode, and
``NO_BACKSLASH_ESCAPES`` removed (novaweb's SQL literals use the default escaping).
"""

from __future__ import annotations

STRICT = "STRICT_ALL_TABLES"
DROPPED = {"NO_BACKSLASH_ESCAPES"}


def strict_mode(current: str) -> str:
    """The session mode novaweb runs in, given the one the connection started with."""
    modes = [m for m in current.split(",") if m and m not in DROPPED]
    if STRICT not in modes:
        modes.append(STRICT)
    return ",".join(modes)


def make_strict(sender, connection, **kwargs) -> None:
    """``connection_created`` receiver: put a new MySQL session in strict mode."""
    if connection.vendor != "mysql":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT @@SESSION.sql_mode")
        (current,) = cursor.fetchone()
        wanted = strict_mode(current or "")
        if wanted != current:
            cursor.execute("SET SESSION sql_mode = %s", [wanted])
    # Django caches the mode it read for its own checks: let it read it again.
    connection.__dict__.pop("sql_mode", None)
