"""The schema docs as HTML (templates under ``templates/schema/``), Markdown, JSON and DOT.

The admin page and ``db_schema_doc --format html`` share the same partial
templates; the standalone HTML inlines its CSS and SVG, so it is one file
with no external assets.
"""

from __future__ import annotations

import html
import json
import re

from django.template.loader import render_to_string

from ..names import printable
from .document import SchemaDoc, TableDoc
from .drift import DriftStatus
from .erd import Rendered, dot_source, render_many, render_svg
from .lint import CHECK_TITLES, LintReport


def table_items(doc: SchemaDoc, report: LintReport, *, diagrams=None, url=None) -> list[dict]:
    """Per area, per table: what the table partial shows."""
    findings: dict[str, list] = {}
    for f in report.findings:
        findings.setdefault(f.table, []).append(f)
    return [
        {
            "area": area,
            "title": title,
            "tables": [
                {
                    "doc": t,
                    "findings": findings.get(t.name, []),
                    "diagram": (diagrams or {}).get(t.name),
                    "url": url(t) if url else None,
                }
                for t in tables
            ],
        }
        for area, title, tables in doc.areas()
    ]


def lint_sections(report: LintReport) -> list[dict]:
    return [{"check": c, "title": title, "findings": report.by_check(c)} for c, title in CHECK_TITLES.items()]


def context(doc, report, drift, diagram: Rendered, *, diagrams=None, url=None, database="") -> dict:
    return {
        "doc": doc,
        "report": report,
        "drift": drift,
        "diagram": diagram,
        "areas": table_items(doc, report, diagrams=diagrams, url=url),
        "lint_sections": lint_sections(report),
        "database": database,
        "table_count": len(doc.tables),
        "relation_count": len(doc.relations),
    }


def neighbourhood_diagrams(doc: SchemaDoc) -> dict[str, Rendered]:
    """Every table's neighbourhood diagram, from one run of ``dot``."""
    names = list(doc.tables)
    rendered = render_many(tuple(dot_source(doc, n) for n in names))
    return dict(zip(names, rendered, strict=True))


def to_html(doc: SchemaDoc, report: LintReport, drift: DriftStatus | None, *, database="") -> str:
    """One self-contained HTML page: inline CSS, inline SVG, no external assets."""
    diagram = render_svg(dot_source(doc))
    ctx = context(doc, report, drift, diagram, diagrams=neighbourhood_diagrams(doc), database=database)
    return render_to_string("schema/standalone.html", ctx)


def to_json(doc: SchemaDoc, report: LintReport, drift: DriftStatus | None, *, database="") -> str:
    data = {
        "database": database,
        **doc.as_dict(),
        "drift": drift.as_dict() if drift else None,
        "lint": report.as_dict(),
        "dot": dot_source(doc),
    }
    return json.dumps(data, indent=2, default=str)


#: Markdown punctuation that could start emphasis, code, links, images or strike-through, or split a table cell.
_MD_PUNCTUATION = re.compile(r"([\\`*\[\]!|~])")
#: ``_`` that could open or close emphasis (CommonMark ignores one between two letters or digits).
_MD_UNDERSCORE = re.compile(r"(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])")


def _md(text) -> str:
    """``text`` (a name from the database, a message) as literal Markdown text, on one line.

    Markup characters are entities (``<`` cannot open a tag, ``&`` an entity),
    punctuation that Markdown reads is backslash-escaped, control characters
    are visible escapes (:func:`~schema.names.printable`).
    """
    escaped = html.escape(printable(text), quote=False)
    return _MD_UNDERSCORE.sub(r"\\_", _MD_PUNCTUATION.sub(r"\\\1", escaped))


def _md_code(text) -> str:
    """``text`` as a Markdown code span: fenced by more backticks than any run inside it."""
    text = printable(text)
    fence = "`" * (max((len(run) for run in re.findall(r"`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or not text.strip() else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _md_fence(text: str) -> str:
    """A code-block fence longer than any backtick run in ``text`` (at least three)."""
    return "`" * max(3, max((len(run) for run in re.findall(r"`+", text)), default=0) + 1)


def _md_table(headers, rows) -> list[str]:
    out = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    out += ["| " + " | ".join(_md(v) for v in row) + " |" for row in rows]
    return out + [""]


def _md_relation(r, other: str) -> tuple:
    kind = f"FOREIGN KEY {r.name or ''}".strip() if r.constrained else "relation, no constraint"
    return (", ".join(r.columns), other, ", ".join(r.ref_columns), kind)


def _md_table_doc(t: TableDoc) -> list[str]:
    out = [f'### <a id="{t.anchor}"></a>{_md(t.name)}', ""]
    facts = [f"area: {t.area_title}", f"model: `{t.model_label}`" if t.model_label else "no model"]
    if t.admin_url:
        facts.append(f"admin: [{t.admin_url}]({t.admin_url})")
    facts.append("estimated rows: " + ("unknown" if t.estimated_rows is None else f"{t.estimated_rows:,}"))
    if t.status != "ok":
        facts.append(f"status: **{t.status}**")
    out += ["; ".join(facts), ""]
    out += _md_table(
        ("column", "type", "null", "default", "key"),
        [
            (c.name, c.ddl_type or c.type, "yes" if c.nullable else "no", c.default or "", _key_mark(t, c.name))
            for c in t.columns
        ],
    )
    if t.all_keys():
        out += _md_table(
            ("key / index", "columns", "unique"),
            [(n, ", ".join(cols), "yes" if u else "") for n, cols, u in t.all_keys()],
        )
    relations = [_md_relation(r, r.ref_table) for r in t.relations_out]
    relations += [
        (", ".join(r.ref_columns), f"{r.table} ({', '.join(r.columns)})", "<- in", _md_relation(r, "")[3])
        for r in t.relations_in
    ]
    if relations:
        out += _md_table(("columns", "table", "ref columns", "kind"), relations)
    return out


def _key_mark(t: TableDoc, column: str) -> str:
    if column in t.primary_key:
        return "PK"
    return ", ".join(name for name, cols, _ in t.all_keys() if column in cols)


def to_markdown(doc: SchemaDoc, report: LintReport, drift: DriftStatus | None, *, database="") -> str:
    out = [f"# Nova database schema ({doc.vendor}{', ' + _md(database) if database else ''})", ""]
    if drift:
        out += [f"**Drift:** {_md(drift.summary)}", ""]
        if drift.differences:
            out += _md_table(
                ("phase", "table", "difference", "object", "expected", "found"),
                [(p, d.table, d.kind, d.object, d.expected or "-", d.found or "-") for p, d in drift.differences],
            )
    dot = dot_source(doc)
    fence = _md_fence(dot)
    out += [f"{len(doc.tables)} tables, {len(doc.relations)} relations.", "", f"{fence}dot", dot, fence, ""]
    for _area, title, tables in doc.areas():
        out += [f"## {title}", ""]
        for t in tables:
            out += _md_table_doc(t)
    out += ["## Lint", ""]
    for section in lint_sections(report):
        out += [f"### {section['title']} ({len(section['findings'])})", ""]
        out += [f"- {_md_code(f.table)} {_md(f.message)}" for f in section["findings"]] + [""]
    out += ["### Admin lists: does an index serve each filter, search and sort?", ""]
    out += _md_table(
        ("admin", "feature", "entry", "table", "index", "suggestion"),
        [(a.admin, a.feature, a.entry, a.table, a.index or "**none**", a.suggestion or a.note) for a in report.admin],
    )
    out += ["### Load order (FK-safe)", "", ", ".join(map(_md, report.load_order)), ""]
    out += ["### Delete order", "", ", ".join(map(_md, report.delete_order)), ""]
    return "\n".join(out)
