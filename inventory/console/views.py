"""The console's pages in the admin: run a statement, explain it, download it as CSV; the saved reports.

Staff with ``console.run_sql`` only (anyone else: the login page or 403). Every
statement, refused or run, is written to the query log. A CSV follows the
exports' formula rule (``inventory.exports.sql.neutralise``): a text cell a
spreadsheet would run (``=HYPERLINK(...)`` in a display name) gets a leading
``'``, unless ``raw=1`` asks for the text as stored.
"""

from __future__ import annotations

import csv
import time
from datetime import datetime

from django import forms
from django.conf import settings
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db import connections
from django.http import Http404, StreamingHttpResponse
from django.template.response import TemplateResponse
from sqlglot import exp

from inventory.exports.sql import neutralise

from . import guard, reports, runner
from .database import READONLY_ALIAS
from .log import record
from .models import RUN_SQL_PERMISSION, QueryLog


class QueryForm(forms.Form):
    sql = forms.CharField(
        label="SQL",
        max_length=100_000,
        strip=True,
        widget=forms.Textarea(attrs={"rows": 8, "cols": 110, "spellcheck": "false", "class": "vLargeTextField"}),
    )
    raw = forms.BooleanField(
        label="CSV: text as stored",
        required=False,
        help_text="without it, a text cell starting with = + - @ tab or CR gets a leading ' (spreadsheet formulas)",
    )


#: Characters of one value the page shows (a 64 KiB ``user_data`` on each of 10,000 rows would be
#: a 640 MB page); the CSV has every value whole.
PAGE_CELL_CHARS = 1000


def _limits() -> dict:
    return {
        "timeout": settings.NOVA_CONSOLE_TIMEOUT,
        "max_rows": settings.NOVA_CONSOLE_MAX_ROWS,
        "csv_max_rows": settings.NOVA_CONSOLE_CSV_MAX_ROWS,
        "cell_chars": PAGE_CELL_CHARS,
    }


def _require_permission(request) -> None:
    if not request.user.has_perm(RUN_SQL_PERMISSION):
        raise PermissionDenied("the SQL console needs the console.run_sql permission")


def _vendor() -> str:
    return connections[READONLY_ALIAS].vendor


def _context(request, title: str, **extra) -> dict:
    return {**admin.site.each_context(request), "title": title, "limits": _limits(), **extra}


def _now() -> datetime:
    return datetime.utcnow().replace(microsecond=0)


def _run(request, sql: str, kind: str, *, is_query: bool, report: str = "") -> tuple[runner.Result | None, str]:
    """Run and log one statement; ``(result, "")`` or ``(None, error message)``."""
    started_at, started = _now(), time.monotonic()
    try:
        result = runner.run(
            sql, max_rows=settings.NOVA_CONSOLE_MAX_ROWS, max_cell_chars=PAGE_CELL_CHARS, is_query=is_query
        )
    except runner.QueryFailed as exc:
        duration = int((time.monotonic() - started) * 1000)
        record(request, sql, kind, started_at=started_at, duration_ms=duration, error=str(exc), report=report)
        return None, str(exc)
    record(
        request,
        sql,
        kind,
        started_at=started_at,
        duration_ms=result.duration_ms,
        rows=len(result.rows),
        truncated=result.truncated,
        report=report,
    )
    return result, ""


class _Echo:
    """A file-like object for csv.writer that hands each line back instead of storing it."""

    def write(self, value):
        return value


def _cells(row: tuple, raw: bool) -> tuple:
    """A row as the CSV writes it: text cells under the formula rule unless ``raw`` (numbers never)."""
    if raw:
        return row
    return tuple(neutralise(value) if isinstance(value, str) else value for value in row)


def _csv_response(request, sql: str, filename: str, *, is_query: bool, raw: bool, report: str = ""):
    """Stream ``sql``'s rows as CSV (up to the CSV cap); the log row is written when the stream ends.

    The statement runs before the response starts, so a refusal or an error is
    shown on the page; an error part-way through ends the file with a ``# stopped`` line.
    """
    started_at, started = _now(), time.monotonic()

    def logged(rows, truncated, error):
        record(
            request,
            sql,
            QueryLog.Kind.CSV,
            started_at=started_at,
            rows=rows,
            truncated=truncated,
            duration_ms=int((time.monotonic() - started) * 1000),
            error=str(error or ""),
            report=report,
        )

    rows = runner.stream(sql, max_rows=settings.NOVA_CONSOLE_CSV_MAX_ROWS, is_query=is_query, on_close=logged)
    header = next(rows)  # runs the statement: QueryFailed reaches the caller
    writer = csv.writer(_Echo())

    def lines():
        yield writer.writerow(header)
        try:
            for row in rows:
                yield writer.writerow(_cells(row, raw))
        except runner.QueryFailed as exc:
            yield writer.writerow([f"# stopped: {exc}"])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def console_view(request):
    _require_permission(request)
    form = QueryForm(request.POST or None)
    context = _context(request, "SQL console", form=form, reports=reports.all_reports())
    if request.method != "POST" or not form.is_valid():
        return TemplateResponse(request, "console/console.html", context)
    sql = form.cleaned_data["sql"]
    action = request.POST.get("action", "run")
    try:
        statement = guard.check(sql, _vendor())
    except guard.Refused as exc:
        record(request, sql, QueryLog.Kind.QUERY, started_at=_now(), error=f"refused: {exc}")
        context["error"] = f"Refused: {exc}"
        return TemplateResponse(request, "console/console.html", context, status=400)
    is_query = isinstance(statement, exp.Query)
    if action == "csv":
        try:
            return _csv_response(request, sql, "query.csv", is_query=is_query, raw=form.cleaned_data["raw"])
        except runner.QueryFailed as exc:
            context["error"] = str(exc)
            return TemplateResponse(request, "console/console.html", context, status=400)
    if action == "explain":
        result, error = _run(request, runner.explain_sql(sql, _vendor()), QueryLog.Kind.EXPLAIN, is_query=False)
        context["explain"] = True
    else:
        result, error = _run(request, sql, QueryLog.Kind.QUERY, is_query=is_query)
    context.update(result=result, error=error)
    return TemplateResponse(request, "console/console.html", context, status=400 if error else 200)


def reports_view(request):
    _require_permission(request)
    return TemplateResponse(
        request, "console/reports.html", _context(request, "Saved reports", reports=reports.all_reports())
    )


def _report(slug: str) -> reports.Report:
    try:
        return reports.get(slug)
    except KeyError:
        raise Http404(f"no report named {slug!r}") from None


def report_view(request, slug):
    _require_permission(request)
    report = _report(slug)
    sql = report.sql_for(_vendor())
    explain = request.GET.get("explain") == "1"
    if explain:
        result, error = _run(
            request, runner.explain_sql(sql, _vendor()), QueryLog.Kind.EXPLAIN, is_query=False, report=slug
        )
    else:
        result, error = _run(request, sql, QueryLog.Kind.REPORT, is_query=True, report=slug)
    context = _context(request, report.title, report=report, sql=sql, result=result, error=error, explain=explain)
    return TemplateResponse(request, "console/report.html", context, status=400 if error else 200)


def report_csv_view(request, slug):
    _require_permission(request)
    report = _report(slug)
    sql = report.sql_for(_vendor())
    try:
        return _csv_response(request, sql, f"{slug}.csv", is_query=True, raw=request.GET.get("raw") == "1", report=slug)
    except runner.QueryFailed as exc:
        context = _context(request, report.title, report=report, sql=sql, result=None, error=str(exc), explain=False)
        return TemplateResponse(request, "console/report.html", context, status=400)
