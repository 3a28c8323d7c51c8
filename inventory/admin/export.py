"""The admin's "Export CSV": exactly the rows of the filtered list, all pages, as a file with a length.

The model admin's own ``ChangeList`` is built from the request's query string
(filters, search, ordering; checked by ``query_string``), so the export and
the list can never disagree; its columns are the list's columns
(``inventory.exports.columns``), so nothing the list hides (a user's
``secret_key``) can appear. ``?raw=1`` turns off the formula rule
(``inventory.exports.sql``) for scripts that want the text as stored.

The CSV is written to a temporary file first (the database builds the rows:
about a million a few seconds), then served with its ``Content-Length``: a
download cut short (a worker killed, a proxy timing out) is one every HTTP
client and browser reports as failed, never a shorter file that looks whole.
``X-Export-Rows`` says how many rows it holds.
"""

from __future__ import annotations

import tempfile

from django.db import connections, router
from django.http import FileResponse
from django.utils.text import slugify

from inventory.exports import columns as export_columns
from inventory.exports.query import export_query
from inventory.exports.writers import write

from .query_string import QueryStringError

RAW_VAR = "raw"


def pop_raw(request) -> bool:
    """Take ``raw`` out of the query string (the list itself does not know it): whether it is ``1``."""
    request.GET = request.GET.copy()
    values = request.GET.pop(RAW_VAR, ["0"])
    if values[-1] not in ("0", "1"):
        raise QueryStringError({RAW_VAR: f"raw={values[-1][:40]!r}: expected 0 or 1."})
    return values[-1] == "1"


def changelist_export(model_admin, request, *, raw: bool):
    """The export query of the list ``request`` asks for, on the Nova database."""
    changelist = model_admin.get_changelist_instance(request)
    connection = connections[router.db_for_read(model_admin.model)]
    columns = export_columns.list_columns(model_admin, request)
    return export_query(changelist.queryset, columns, connection, raw=raw), connection


def export_csv(model_admin, request):
    raw = pop_raw(request)
    query, connection = changelist_export(model_admin, request, raw=raw)
    out = tempfile.TemporaryFile()  # noqa: SIM115 (the response closes it; then it is gone)
    try:
        rows = write(query, connection, out, "csv")
        out.seek(0)
    except BaseException:
        out.close()
        raise
    filename = slugify(model_admin.model._meta.verbose_name_plural) or "export"
    response = FileResponse(out, as_attachment=True, filename=f"{filename}.csv", content_type="text/csv; charset=utf-8")
    response["X-Export-Rows"] = str(rows)
    return response
