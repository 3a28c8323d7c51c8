"""Every name a database can hold is text: quoted and escaped in SQL, escaped in every output.

A Nova database with hostile table, column, index and constraint names
(``tests.support.hostile_names``) next to Nova's tables, on each backend:
``db_drift``, ``db_sync``, ``db_schema_doc`` (HTML, Markdown, JSON, DOT),
archive and purge, and the admin schema page all work, report each name
exactly, and never write one as SQL or markup.
"""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
from html.parser import HTMLParser

import pytest
from markdown_it import MarkdownIt

from schema.names import html_id, printable
from tests.support import backends
from tests.support.backends import BACKENDS, catalog, quote, rows
from tests.support.commands import call
from tests.support.hostile_names import (
    C_BACKTICK,
    C_NEWLINE,
    C_PERCENT,
    C_XSS,
    EXTRA_TABLES,
    I_QUOTES,
    I_XSS,
    T_NEWLINE,
    T_SHADOW,
    T_SLASH,
    T_SQL,
    T_XSS,
    TABLES,
    add_hostile_tables,
    injected,
)


@pytest.fixture(scope="module", params=BACKENDS, ids=BACKENDS)
def hostile_db(request, _dump_templates, tmp_path_factory):
    """Nova's reference dump plus the hostile tables, shared by the read-only tests of a backend."""
    db = backends.clone(_dump_templates.get(request.param), tmp_path_factory.mktemp("hostile"))
    try:
        add_hostile_tables(db)
        yield db
    finally:
        db.drop()


def _catalog_tables(db) -> set[str]:
    return set(catalog(db))


# ---- db_drift ----------------------------------------------------------------------------------


def test_drift_reports_each_hostile_table_by_its_exact_name(hostile_db, nova_db_alias):
    alias = nova_db_alias(hostile_db)
    result = call("db_drift", "--format", "json", database=alias)
    assert result.code == 1, result.err
    data = json.loads(result.out)
    extra = {d["table"] for d in data["differences"] if d["kind"] == "extra_table"}
    assert extra == set(EXTRA_TABLES)
    assert {d["kind"] for d in data["differences"]} == {"extra_table"}  # Nova's own tables: no drift
    assert T_SHADOW in {i["table"] for i in data["ignored"]}

    text = call("db_drift", database=alias)
    assert text.code == 1
    rows = text.out.splitlines()
    for name in EXTRA_TABLES:
        # one row per table, whatever the name holds (newlines are shown as \n)
        assert sum(line.startswith(printable(name) + " ") for line in rows) == 1, name
    assert len(rows) == 2 + len(EXTRA_TABLES) + 1
    assert all(line.isprintable() for line in rows)


# ---- db_sync -----------------------------------------------------------------------------------


def test_sync_keeps_hostile_tables_and_drops_one_only_by_name(backend, make_db, nova_db_alias):
    db = make_db("dump")
    add_hostile_tables(db)
    alias = nova_db_alias(db)
    before = catalog(db)

    dry = call("db_sync", "--dry-run", database=alias)
    assert dry.code == 0, dry.err
    synced = call("db_sync", database=alias)
    assert synced.code == 0, synced.err
    assert catalog(db) == before  # nothing dropped, nothing changed
    assert call("db_drift", "--format", "json", database=alias).code == 1  # still reported

    dropped = call("db_sync", "--drop-table", T_SQL, "--allow-destructive", "--format", "json", database=alias)
    assert dropped.code == 0, dropped.err
    after = catalog(db)
    own = {t for t in after if t.startswith("novaweb_")}  # backups, sync history
    assert set(after) == (set(before) - {T_SQL}) | own
    assert "instances" in after and after["instances"] == before["instances"]
    backup = [t for t in own if t.startswith("novaweb_backup_")]
    assert len(backup) == 1  # the dropped table's row, kept
    q = lambda name: quote(backend, name)  # noqa: E731
    assert db.fetchall(f"SELECT {q(C_BACKTICK)}, {q(C_PERCENT)} FROM {q(backup[0])}") == [("kept", 7)]


#: A table whose name closes a string literal (PostgreSQL's undo names it in pg_get_serial_sequence('...')).
T_UNDO = "u'); DROP TABLE instances; --"
SERIAL_KEY = {
    "sqlite": "INTEGER NOT NULL PRIMARY KEY",
    "mysql": "INT NOT NULL AUTO_INCREMENT PRIMARY KEY",
    "postgresql": "serial PRIMARY KEY",
}


def test_a_dropped_hostile_table_comes_back_with_db_undo(backend, make_db, nova_db_alias):
    db = make_db("dump")
    q = lambda name: quote(backend, name)  # noqa: E731
    db.execute(f"CREATE TABLE {q(T_UNDO)} (id {SERIAL_KEY[backend]}, {q(C_BACKTICK)} VARCHAR(20))")
    db.execute(f"INSERT INTO {q(T_UNDO)} ({q(C_BACKTICK)}) VALUES ('one'), ('two')")
    alias = nova_db_alias(db)
    before = catalog(db)[T_UNDO]

    dropped = call("db_sync", "--drop-table", T_UNDO, "--allow-destructive", database=alias)
    assert dropped.code == 0, dropped.err
    assert T_UNDO not in catalog(db)
    undo = call("db_undo", database=alias)
    assert undo.code == 0, undo.out + undo.err
    assert catalog(db)[T_UNDO] == before and "instances" in catalog(db)
    assert db.fetchall(f"SELECT id, {q(C_BACKTICK)} FROM {q(T_UNDO)} ORDER BY id") == [(1, "one"), (2, "two")]
    db.execute(f"INSERT INTO {q(T_UNDO)} ({q(C_BACKTICK)}) VALUES ('three')")  # the key goes on after the rows
    assert db.fetchall(f"SELECT id FROM {q(T_UNDO)} WHERE {q(C_BACKTICK)} = 'three'") == [(3,)]


#: A name whose second line is SQL: a dry run's comment that kept it whole would run it.
T_COMMENT = "x\nCREATE TABLE pwned (id INT); --"


def _run_script(db, script: str) -> None:
    """Run an SQL script the way an operator would: the backend's own client, stopping at an error."""
    if db.backend == "sqlite":
        conn = sqlite3.connect(db.path)
        try:
            conn.executescript(script)
        finally:
            conn.close()
        return
    if db.backend == "mysql":
        cmd = ["mariadb", f"-u{backends.MYSQL_USER}", f"-h{backends.MYSQL_HOST}", f"-P{backends.MYSQL_PORT}", db.name]
    else:
        cmd = backends.psql_command(backends.PG_HOST, backends.PG_PORT, backends.PG_USER, db.name)
    proc = subprocess.run(cmd, input=script, text=True, capture_output=True, timeout=60)
    assert proc.returncode == 0, proc.stderr


def test_a_dry_run_script_does_what_it_prints(backend, make_db, nova_db_alias):
    db = make_db("dump")
    db.execute(f"CREATE TABLE {quote(backend, T_COMMENT)} (id INT)")
    alias = nova_db_alias(db)
    dry = call("db_sync", "--dry-run", "--allow-destructive", "--drop-table", T_COMMENT, database=alias)
    assert dry.code == 0, dry.err
    _run_script(db, dry.out)
    after = catalog(db)
    assert "pwned" not in after  # nothing but the printed statements ran
    assert T_COMMENT not in after and "instances" in after  # and they did what they say


def test_the_dry_run_script_from_empty_gives_what_db_sync_gives(backend, make_db, nova_db_alias):
    """The script of ``db_sync --dry-run`` on an empty database, run by hand, makes the schema and
    the default flavors that ``db_sync`` makes; ``db_sync`` afterwards only puts it at version 82."""
    by_hand, synced = make_db("empty"), make_db("empty")
    dry = call("db_sync", "--dry-run", database=nova_db_alias(by_hand))
    assert dry.code == 0, dry.err
    _run_script(by_hand, dry.out)
    assert call("db_sync", database=nova_db_alias(synced)).code == 0
    assert len(rows(by_hand, "instance_types", "id")) == 5
    assert rows(by_hand, "instance_types", "id") == rows(synced, "instance_types", "id")

    after = call("db_sync", database=nova_db_alias(by_hand))
    assert after.code == 0, after.err
    assert call("db_version", database=nova_db_alias(by_hand)).out.strip() == "82"
    mine = {t: shape for t, shape in catalog(by_hand).items() if not t.startswith("novaweb_")}
    assert mine == {t: shape for t, shape in catalog(synced).items() if not t.startswith("novaweb_")}
    assert rows(by_hand, "instance_types", "id") == rows(synced, "instance_types", "id")  # not inserted twice


# ---- db_schema_doc -----------------------------------------------------------------------------


def _texts(html: str) -> str:
    """The text a browser shows for ``html`` (character references decoded)."""

    class Text(HTMLParser):
        def __init__(self):
            super().__init__(convert_charrefs=True)
            self.parts = []

        def handle_data(self, data):
            self.parts.append(data)

    parser = Text()
    parser.feed(html)
    return "".join(parser.parts)


def test_schema_doc_html_keeps_names_as_text(hostile_db, nova_db_alias, tmp_path):
    alias = nova_db_alias(hostile_db)
    out = tmp_path / "schema.html"
    result = call("db_schema_doc", "--format", "html", "--output", str(out), database=alias)
    assert result.code == 0, result.err
    html = out.read_text()
    assert injected(html) == []
    text = _texts(html)
    for name in TABLES:
        assert name in text or printable(name) in text, name
    # the diagram: one node per table, each linking to its section by a safe id
    assert html.count('class="node"') >= len(_catalog_tables(hostile_db))
    for name in TABLES:
        assert f'id="table-{html_id(name)}"' in html, name
        assert f'xlink:href="#table-{html_id(name)}"' in html, name


def test_schema_doc_markdown_renders_names_as_text(hostile_db, nova_db_alias):
    alias = nova_db_alias(hostile_db)
    result = call("db_schema_doc", "--format", "markdown", database=alias)
    assert result.code == 0, result.err
    rendered = MarkdownIt("commonmark").enable("table").render(result.out)
    assert injected(rendered) == []
    headings = re.findall(r'<h3><a id="table-([\w-]+)"></a>(.*?)</h3>', rendered, re.S)
    shown = {anchor: _texts(title) for anchor, title in headings}
    for name in TABLES:
        assert shown.get(html_id(name)) == printable(name), name
    # the DOT source stays inside its code block
    assert '<pre><code class="language-dot">digraph &quot;nova_schema&quot;' in rendered
    assert rendered.count("<pre>") == 1


def test_schema_doc_json_and_dot_hold_every_name(hostile_db, nova_db_alias):
    alias = nova_db_alias(hostile_db)
    result = call("db_schema_doc", "--format", "json", database=alias)
    assert result.code == 0, result.err
    data = json.loads(result.out)
    tables = {t["name"]: t for t in data["tables"]}
    assert set(tables) == _catalog_tables(hostile_db)
    assert [c["name"] for c in tables[T_XSS]["columns"]] == ["id", C_XSS]
    assert I_XSS in {i["name"] for i in tables[T_XSS]["indexes"]}
    assert C_NEWLINE in {c["name"] for c in tables[T_NEWLINE]["columns"]}
    unique = {i["name"] for i in tables[T_SQL]["indexes"]} | {u["name"] for u in tables[T_SQL]["unique_constraints"]}
    assert I_QUOTES in unique
    assert (T_SLASH, T_XSS) in {(r["table"], r["ref_table"]) for r in data["relations"]}
    assert (T_SQL, "instances") in {(r["table"], r["ref_table"]) for r in data["relations"]}

    dot = call("db_schema_doc", "--format", "dot", database=alias)
    assert dot.code == 0
    nodes = re.findall(r'^\s*"([^"]+)" \[id="node-', dot.out, re.M)
    assert sorted(nodes) == sorted(html_id(t) for t in tables)
    assert all(re.fullmatch(r"[\w-]+", n) for n in nodes)
    assert f'"{html_id(T_SLASH)}" -> "{html_id(T_XSS)}"' in dot.out
    assert call("db_schema_doc", "--format", "dot", "--table", T_XSS, database=alias).code == 0


# ---- the admin schema page ---------------------------------------------------------------------


@pytest.mark.django_db
def test_schema_page_and_every_table_page_with_hostile_names(hostile_db, nova_db_alias, admin_client):
    nova_db_alias(hostile_db, alias="nova")
    response = admin_client.get("/admin/schema/")
    assert response.status_code == 200
    page = response.content.decode()
    assert injected(page) == []
    links = set(re.findall(r'xlink:href="(/admin/schema/table/[^"]+/)"', page))
    links |= set(re.findall(r'href="(/admin/schema/table/[^"]+/)"', page))
    for name in TABLES:
        url = f"/admin/schema/table/{html_id(name)}/"
        assert url in links, name
        table_page = admin_client.get(url)
        assert table_page.status_code == 200, name
        body = table_page.content.decode()
        assert injected(body) == [], name
        assert name in _texts(body) or printable(name) in _texts(body), name
    assert admin_client.get("/admin/schema/table/a/b/").status_code == 404  # not a route
    assert admin_client.get("/admin/schema/table/a-2f/").status_code == 404  # a table that is not there


# ---- archive and purge -------------------------------------------------------------------------


def test_archive_and_purge_work_beside_hostile_names(hostile_db, nova_db_alias):
    alias = nova_db_alias(hostile_db)
    before = catalog(hostile_db)
    archived = call("db_archive_deleted_rows", "--max_rows", "100", database=alias)
    assert archived.code == 0, archived.err  # nothing soft-deleted in the dump
    assert catalog(hostile_db) == before

    shadow = quote(hostile_db.backend, T_SHADOW)
    purged = call("db_purge", "--before", "2020-01-01", "--verbose", database=alias)
    assert purged.code == 0, purged.err
    assert f"Deleted 1 rows from {T_SHADOW}" in purged.out
    assert [r[0] for r in hostile_db.fetchall(f"SELECT id FROM {shadow}")] == [2]
    assert {name: catalog(hostile_db)[name] for name in EXTRA_TABLES} == {name: before[name] for name in EXTRA_TABLES}


# ---- snapshots ----------------------------------------------------------------------------------


def test_snapshot_and_restore_carry_hostile_tables(hostile_db, nova_db_alias, db_factory, tmp_path):
    alias = nova_db_alias(hostile_db)
    snap = call("db_snapshot", database=alias, output=str(tmp_path))
    assert snap.code == 0, snap.err
    fresh = db_factory(hostile_db.backend, "empty")
    restored = call("db_restore", snap.out.strip(), into=fresh.url)
    assert restored.code == 0, restored.out + restored.err
    assert "verified equal" in restored.out
    assert catalog(fresh) == catalog(hostile_db)
    q = lambda name: quote(hostile_db.backend, name)  # noqa: E731
    assert fresh.fetchall(f"SELECT {q(C_BACKTICK)}, {q(C_PERCENT)} FROM {q(T_SQL)}") == [("kept", 7)]


@pytest.mark.django_db
def test_sqlite_table_with_an_empty_name(db_factory, nova_db_alias, admin_client):
    db = db_factory("sqlite", "dump")
    db.execute('CREATE TABLE "" ("" INTEGER PRIMARY KEY, " " TEXT)')
    db.execute('CREATE INDEX "ix " ON "" (" ")')
    alias = nova_db_alias(db, alias="nova")
    drift = call("db_drift", "--format", "json", database=alias)
    assert [d["table"] for d in json.loads(drift.out)["differences"]] == [""]
    assert call("db_sync", database=alias).code == 0 and "" in catalog(db)
    assert call("db_schema_doc", "--format", "markdown", database=alias).code == 0
    page = admin_client.get("/admin/schema/")
    assert page.status_code == 200 and 'href="/admin/schema/table/-/"' in page.content.decode()
    table = admin_client.get("/admin/schema/table/-/")
    assert table.status_code == 200 and "ix " in table.content.decode()
