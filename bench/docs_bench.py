#!/usr/bin/env python
"""Time building the schema docs and the SVG diagram of the full Nova schema (target: under 1 s).

    .venv/bin/python bench/docs_bench.py [--backends sqlite,mysql,postgresql] [--repeat 5]

- ``models, cold``: docs from the models alone with every cache cleared, DOT,
  and ``dot -Tsvg`` (what the first page view after a restart pays beyond the catalog).
- per backend, on a throwaway database synced with ``db_sync``: one admin page's
  work (``document()``: introspection + drift + row estimates + version, lint,
  drift phases, the whole-schema SVG rendered afresh), median of ``--repeat``;
  and ``db_schema_doc --format html`` (adds every table's neighbourhood SVG).
"""

import argparse
import statistics
import sys
import tempfile
import time
from io import StringIO
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from django.core.management import call_command  # noqa: E402
from django.db import connections  # noqa: E402
from schema_bench import create, drop, register  # noqa: E402  (sets Django up)

from schema import model_schema as model_schema_module  # noqa: E402
from schema.docs import document as document_module  # noqa: E402
from schema.docs import erd  # noqa: E402
from schema.docs.document import build, document  # noqa: E402
from schema.docs.drift import drift_status  # noqa: E402
from schema.docs.erd import dot_source, render_svg  # noqa: E402
from schema.docs.lint import lint  # noqa: E402
from schema.docs.render import to_html  # noqa: E402


def clear_caches():
    model_schema_module._model_schema.cache_clear()
    document_module._model_facts.cache_clear()
    erd._render_many.cache_clear()


def seconds(fn):
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def models_cold():
    clear_caches()
    doc = build("postgresql")
    rendered = render_svg(dot_source(doc))
    assert rendered.svg, rendered.error
    return doc


def page_work(alias):
    erd._render_many.cache_clear()
    doc, snap = document(connections[alias])
    lint(doc)
    drift_status(snap)
    assert render_svg(dot_source(doc)).svg
    return doc


def standalone_html(alias):
    erd._render_many.cache_clear()
    doc, snap = document(connections[alias])
    return to_html(doc, lint(doc), drift_status(snap))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", default="sqlite,mysql,postgresql")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    cold, doc = seconds(models_cold)
    print(f"models, cold: {len(doc.tables)} tables, {len(doc.relations)} relations: docs + SVG {cold * 1000:.0f} ms")

    with tempfile.TemporaryDirectory() as tmp:
        for backend in args.backends.split(","):
            name = f"novabench_docs_{backend}"
            drop(backend, name)
            url = create(backend, name, tmp)
            alias = f"bench_{backend}"
            register(alias, url)
            try:
                call_command("db_sync", database=alias, stdout=StringIO(), stderr=StringIO())
                times = [seconds(lambda a=alias: page_work(a))[0] for _ in range(args.repeat)]
                html_time, html = seconds(lambda a=alias: standalone_html(a))
                print(
                    f"{backend:<10} page (live catalog + docs + lint + drift + SVG): "
                    f"median {statistics.median(times) * 1000:.0f} ms, max {max(times) * 1000:.0f} ms; "
                    f"standalone HTML with {html.count('<svg')} SVGs: {html_time * 1000:.0f} ms "
                    f"({len(html) // 1024} KiB)"
                )
            finally:
                connections[alias].close()
                drop(backend, name)


if __name__ == "__main__":
    main()
