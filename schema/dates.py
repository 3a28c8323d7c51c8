"""Dates as an operator types them on a command line, as naive UTC.

``--before`` accepts what nova-manage's (dateutil) parser is mostly given:
``2026-01-31``, ``2026-01-31 12:00``, ``2026-01-31T12:00:00Z``, any ISO 8601
that :meth:`datetime.datetime.fromisoformat` reads, and month-name forms
(``Jan 31 2026``, ``31 Jan 2026``, ``January 31, 2026 12:00``). A time zone,
when given, is converted to UTC and dropped: Nova stores naive UTC.
"""

from __future__ import annotations

import datetime

#: Formats tried after ISO 8601; month names are English, as Nova's logs print them.
_FORMATS = tuple(
    f"{day}{time}"
    for day in ("%b %d %Y", "%B %d %Y", "%b %d, %Y", "%B %d, %Y", "%d %b %Y", "%d %B %Y", "%Y/%m/%d")
    for time in ("", " %H:%M", " %H:%M:%S")
)

EXAMPLES = "2026-01-31, '2026-01-31 12:00', 'Jan 31 2026' or ISO 8601"


class InvalidDate(ValueError):
    pass


def parse_date(text: str) -> datetime.datetime:
    """The naive UTC datetime ``text`` names, or :class:`InvalidDate` saying what is accepted."""
    value = " ".join(str(text).split())
    if not value:
        raise InvalidDate(f"an empty date (use {EXAMPLES})")
    try:
        parsed = datetime.datetime.fromisoformat(value)
    except ValueError:
        parsed = _parse_formats(value)
    if parsed.tzinfo is not None:
        try:
            parsed = parsed.astimezone(datetime.UTC).replace(tzinfo=None)
        except OverflowError:  # 9999-12-31T23:59:59-01:00 is past the last datetime in UTC
            raise InvalidDate(f"'{value}' is out of range in UTC (years 1 to 9999)") from None
    return parsed


def _parse_formats(value: str) -> datetime.datetime:
    for fmt in _FORMATS:
        try:
            return datetime.datetime.strptime(value, fmt)
        except ValueError:
            continue
    raise InvalidDate(f"'{value}' is not a date (use {EXAMPLES})")
