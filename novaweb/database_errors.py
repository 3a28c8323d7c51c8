"""What a request gets when a database fails: 503 when it is unavailable, 400 when it refused the input.

- **Unavailable** (an unreachable server, a database without Nova's schema, a
  replica that lost a table): 503.
- **Bad input** (a ``DataError``: a NUL byte on PostgreSQL, a value out of a
  column's range; a SQLite LIKE pattern "too complex"; MySQL's "Incorrect
  string value"; an ``IntegrityError``): 400 with the reason. The database is
  fine; the request was not.

Either way the error goes to the log (``novaweb.database``) with a reference
id. Anonymous visitors see only "unavailable" (or "refused") and that
reference: no driver message, no user, host or database name. Logged-in staff
see which database failed (Django's own ``default`` or the Nova database), its
location without the password, the driver's first line, and what to check.
Django's own debug page still shows with ``DEBUG``.
"""

from __future__ import annotations

import logging
import secrets
import traceback

from django.conf import settings
from django.db import DatabaseError, DataError, IntegrityError
from django.db.backends.base.base import BaseDatabaseWrapper

logger = logging.getLogger("novaweb.database")

#: SQLite's messages for a statement its limits refuse (the input is too big, not the server down).
SQLITE_BAD_INPUT = ("pattern too complex", "string or blob too big", "too many sql variables", "expression tree")
#: MySQL/MariaDB error codes that mean the input was refused: out of range, too long, bad string,
#: illegal mix of collations, truncated/incorrect value, division by zero.
MYSQL_BAD_INPUT = frozenset({1264, 1267, 1270, 1271, 1292, 1365, 1366, 1406})


def first_line(exc) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def new_reference() -> str:
    """A short id tying what a visitor sees to the log line with the details."""
    return secrets.token_hex(6)


def bad_input_reason(exc: DatabaseError) -> str | None:
    """The database's reason when ``exc`` means it refused the input, None when it means unavailable."""
    if isinstance(exc, (DataError, IntegrityError)):
        return first_line(exc)
    cause = exc.__cause__
    code = cause.args[0] if cause is not None and cause.args and isinstance(cause.args[0], int) else None
    if code in MYSQL_BAD_INPUT:
        return first_line(exc)
    if any(text in str(exc).lower() for text in SQLITE_BAD_INPUT):
        return first_line(exc)
    return None


def failed_alias(exc: BaseException) -> str | None:
    """The alias of the connection that raised ``exc``, read from the innermost Django frame that knows it."""
    for frame, _ in reversed(list(traceback.walk_tb(exc.__traceback__))):
        owner = frame.f_locals.get("self")
        for candidate in (owner, getattr(owner, "db", None), getattr(owner, "wrapper", None)):
            if isinstance(candidate, BaseDatabaseWrapper):
                return candidate.alias
    return None


def describe_alias(alias: str | None) -> str:
    if alias is None:
        return "a database"
    if alias == "default":
        return "novaweb's own database (DATABASE_URL: users, sessions, admin history)"
    if alias == getattr(settings, "NOVA_REPLICA_ALIAS", None):
        return "the Nova database replica (NOVA_REPLICA_DATABASE_URL)"
    return "the Nova database (NOVA_DATABASE_URL)"


def is_staff(request) -> bool:
    """Whether the visitor is logged-in staff; False when that cannot be known (Django's database is down)."""
    try:
        user = request.user
        return bool(user.is_authenticated and user.is_active and user.is_staff)
    except (AttributeError, DatabaseError):
        return False


def log_database_error(exc, alias: str | None, reference: str, what: str, path: str) -> None:
    logger.error(
        "%s [ref %s] %s on %s: %s",
        what,
        reference,
        alias or "unknown database",
        path,
        first_line(exc),
        extra={"reference": reference, "database": alias},
    )


class NovaDatabaseErrorMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, DatabaseError) or settings.DEBUG:
            return None
        from schema.management.base import describe_database

        reference = new_reference()
        alias = failed_alias(exception)
        request.novaweb_failed_alias = alias  # the replica's failure: ReplicaPinningMiddleware reads the primary
        reason = bad_input_reason(exception)
        status = 503 if reason is None else 400
        what = "unavailable" if reason is None else "refused input"
        log_database_error(exception, alias, reference, what, request.path)
        context = {"status": status, "reference": reference, "staff": is_staff(request)}
        if context["staff"]:
            context.update(
                database=describe_alias(alias),
                nova=alias not in (None, "default"),
                location=describe_database(alias) if alias else "",
                error=reason or first_line(exception),
            )
        from django.template.response import TemplateResponse  # commands import first_line(), not the HTTP side

        return TemplateResponse(request, "novaweb/database_error.html", context, status=status).render()
