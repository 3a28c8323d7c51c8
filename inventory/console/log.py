"""Write the query log: one row per statement the console ran or refused."""

from __future__ import annotations

from datetime import datetime

from .models import QueryLog


def record(
    request,
    sql: str,
    kind: str,
    *,
    started_at: datetime,
    duration_ms: int = 0,
    rows: int = 0,
    truncated: bool = False,
    error: str = "",
    report: str = "",
) -> QueryLog:
    user = request.user
    return QueryLog.objects.create(
        user=user if user.is_authenticated else None,
        username=user.get_username(),
        started_at=started_at,
        duration_ms=duration_ms,
        rows=rows,
        truncated=truncated,
        kind=kind,
        report=report,
        sql=sql,
        error=error,
    )
