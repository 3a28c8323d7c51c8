"""A page that says what is wrong when the Nova database cannot answer, instead of a 500.

An unreachable server, a database without Nova's schema, a replica that
lost a table: the operator gets a 503 naming the database (without its
password) and what to do, and the error goes to the log. Django's own
debug page still shows with ``DEBUG``.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import DatabaseError
from django.template.response import TemplateResponse

from schema.management.base import describe_database

logger = logging.getLogger("novaweb.database")


class NovaDatabaseErrorMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, DatabaseError) or settings.DEBUG:
            return None
        logger.error("database error on %s: %s", request.path, exception)
        aliases = [a for a in (settings.NOVA_DB_ALIAS, settings.NOVA_REPLICA_ALIAS) if a in settings.DATABASES]
        first_line = str(exception).strip().splitlines()[0] if str(exception).strip() else type(exception).__name__
        response = TemplateResponse(
            request,
            "novaweb/database_error.html",
            {"error": first_line, "databases": [describe_database(a) for a in aliases]},
            status=503,
        )
        return response.render()
