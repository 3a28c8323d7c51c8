"""Plain-text output shared by the commands: aligned columns, no dependencies."""

from __future__ import annotations

from .names import printable


def format_rows(headers, rows) -> str:
    # a name from the database may hold newlines or terminal escapes: one row stays one line
    rows = [tuple(printable(v) for v in row) for row in rows]
    widths = [max(len(str(h)), *(len(r[i]) for r in rows)) if rows else len(str(h)) for i, h in enumerate(headers)]

    def line(values):
        return " | ".join(str(v).ljust(w) for v, w in zip(values, widths, strict=True)).rstrip()

    out = [line(headers), "-+-".join("-" * w for w in widths)]
    out += [line(r) for r in rows]
    return "\n".join(out)
