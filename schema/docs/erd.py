"""The entity-relationship diagram: DOT source from a :class:`SchemaDoc`, SVG from Graphviz.

One node per table (grouped in a cluster per area), one edge per relation:
solid for a foreign-key constraint, dashed for a relation Nova uses without
one. Each node links to the table's documentation. A table's node id, HTML id
and link are its :func:`~schema.names.html_id` (Graphviz writes a URL into
the SVG unescaped), and every name in a label or tooltip is a DOT string
escaped by :func:`_q`. SVG comes from Graphviz's ``dot`` (Debian package
``graphviz``), run as a subprocess with a timeout; when it is missing the
caller gets the DOT source and how to install it.
"""

from __future__ import annotations

import functools
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass

from ..names import html_id, printable
from .document import Relation, SchemaDoc, TableDoc

#: The Graphviz executable; tests point it elsewhere to see the "missing" path.
DOT_BINARY = "dot"
DOT_TIMEOUT = 20
INSTALL_HINT = "Graphviz is not installed: install it with `apt-get install graphviz` (Debian/Ubuntu)."

AREA_COLOURS = {
    "compute": "#dbeafe",
    "network": "#dcfce7",
    "identity": "#fef3c7",
    "volume": "#fce7f3",
    "hosts": "#ede9fe",
    "schema": "#e5e7eb",
}


def _q(text: str) -> str:
    """A DOT quoted string that Graphviz shows as ``text``, on one line.

    Backslashes doubled (Graphviz expands ``\\N``, ``\\G``... in labels, tooltips and URLs),
    quotes escaped, ``&`` written as ``&amp;`` (Graphviz passes entities such as
    ``&lt;`` through to the SVG, where they would display as markup characters).
    """
    return f'"{_dot_text(text)}"'


def _dot_text(text) -> str:
    return printable(text).replace("\\", "\\\\").replace('"', '\\"').replace("&", "&amp;")


def node_id(name: str) -> str:
    """The Graphviz node of a table: its :func:`~schema.names.html_id`, so no name reaches an id or a URL."""
    return html_id(name)


def _rows(table: TableDoc) -> str:
    if table.estimated_rows is None:
        return ""
    return f"~{table.estimated_rows:,} rows"


def _node(table: TableDoc, url: Callable[[TableDoc], str], focus: bool = False) -> str:
    label = f'"{_dot_text(table.name)}' + (f"\\n{_rows(table)}" if _rows(table) else "") + '"'
    attrs = {
        "id": _q(f"node-{node_id(table.name)}"),
        "label": label,
        "URL": _q(url(table)),
        "tooltip": _q(f"{table.name} ({table.area_title})"),
        "fillcolor": _q("#fde68a" if focus else AREA_COLOURS.get(table.area, "#ffffff")),
        "penwidth": _q("2" if focus else "1"),
    }
    rendered = ", ".join(f"{k}={v}" for k, v in attrs.items())
    return f"  {_q(node_id(table.name))} [{rendered}];"


def _edge(n: int, r: Relation) -> str:
    label = f"{r.table}.{', '.join(r.columns)} -> {r.ref_table}.{', '.join(r.ref_columns)}"
    style = "solid" if r.constrained else "dashed"
    tooltip = label + ("" if r.constrained else " (no constraint)")
    return (
        f"  {_q(node_id(r.table))} -> {_q(node_id(r.ref_table))} "
        f"[id={_q(f'edge-{n}')}, style={style}, tooltip={_q(tooltip)}"
        + ("" if r.constrained else ', color="#6b7280", arrowhead=empty')
        + "];"
    )


def _anchor(table: TableDoc) -> str:
    return f"#{table.anchor}"  # safe: TableDoc.anchor is built from html_id


def dot_source(doc: SchemaDoc, focus: str | None = None, *, url: Callable[[TableDoc], str] = _anchor) -> str:
    """DOT for the whole schema, or for ``focus`` and the tables one relation away."""
    names = doc.neighbours(focus) if focus else set(doc.tables)
    relations = [r for r in doc.relations if focus in (r.table, r.ref_table)] if focus else list(doc.relations)
    lines = [
        f"digraph {_q(f'nova_{node_id(focus)}' if focus else 'nova_schema')} {{",
        '  graph [rankdir=LR, fontname="Helvetica", fontsize=11, nodesep=0.25, ranksep=0.7, bgcolor="transparent"];',
        '  node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=10, height=0.3];',
        '  edge [fontname="Helvetica", fontsize=8, arrowsize=0.6];',
    ]
    if focus:
        lines += [_node(doc.tables[n], url, focus=n == focus) for n in sorted(names)]
    else:
        for area, title, tables in doc.areas():
            lines.append(f"  subgraph {_q(f'cluster_{area}')} {{")
            lines.append(f'    label={_q(title)}; style="rounded"; color="#9ca3af";')
            lines += ["  " + _node(t, url) for t in tables]
            lines.append("  }")
    lines += [_edge(n, r) for n, r in enumerate(relations, 1)]
    lines.append("}")
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class Rendered:
    """An SVG diagram, or why there is none; the DOT source either way."""

    dot: str
    svg: str | None = None
    error: str | None = None


def render_svg(source: str) -> Rendered:
    """``dot -Tsvg`` of ``source`` (cached per source text)."""
    return render_many((source,))[0]


def render_many(sources: tuple[str, ...]) -> list[Rendered]:
    """Several diagrams in one run of ``dot`` (it accepts many graphs in one input)."""
    return list(_render_many(tuple(sources), DOT_BINARY))


@functools.lru_cache(maxsize=32)
def _render_many(sources: tuple[str, ...], binary: str) -> tuple[Rendered, ...]:
    executable = shutil.which(binary)
    if executable is None:
        return tuple(Rendered(s, error=INSTALL_HINT) for s in sources)
    try:
        proc = subprocess.run(
            [executable, "-Tsvg"], input="".join(sources), capture_output=True, text=True, timeout=DOT_TIMEOUT
        )
    except subprocess.TimeoutExpired:
        return tuple(Rendered(s, error=f"Graphviz took longer than {DOT_TIMEOUT} s") for s in sources)
    svgs = _split_svgs(proc.stdout)
    if proc.returncode != 0 or len(svgs) != len(sources):
        reason = (proc.stderr.strip().splitlines() or [f"exit code {proc.returncode}"])[0]
        return tuple(Rendered(s, error=f"Graphviz failed: {reason}") for s in sources)
    return tuple(Rendered(s, svg=svg) for s, svg in zip(sources, svgs, strict=True))


def _split_svgs(output: str) -> list[str]:
    """The ``<svg>...</svg>`` elements of dot's output, without XML prolog or DOCTYPE, for inlining."""
    svgs = []
    for chunk in output.split("</svg>")[:-1]:
        start = chunk.find("<svg")
        if start >= 0:
            svgs.append(chunk[start:] + "</svg>")
    return svgs
