"""Tables, columns, indexes and constraints whose names try to escape every output.

``add_hostile_tables(db)`` creates them next to Nova's tables through the
database's own driver, quoting with :func:`tests.support.backends.quote`
(the yardstick, never novaweb's quoting). Names hold what a server lets a
name hold: quotes of each kind, markup that runs a script if written
unescaped into HTML or SVG, SQL that runs if a quote is not doubled, ``/``,
``%``, ``?``, ``#``, spaces, newlines, backslashes (Graphviz's ``\\N``),
entities, unicode, a name at PostgreSQL's 63-byte limit; on SQLite an index
named with ``"`` (which broke Django's SQLite introspection).

``injected(html)`` lists the elements and attributes that would mean a name
was written as markup: what the tests assert is empty.
"""

from __future__ import annotations

from html.parser import HTMLParser

from tests.support.backends import quote

#: Each runs ``alert`` (a dialog in a browser) if written into a page as markup.
T_XSS = 'x"><img src=x onerror=alert(document.domain)>'
T_SQL = 'x"; DROP TABLE instances; --'
T_BACKTICK = "y`; DROP TABLE instances; -- `"
T_SLASH = "a/b"
T_URL = "100% done?#frag"
T_NEWLINE = "new\nline<script>alert(4)</script>"
T_UNICODE = "ünïcødé 表 'quoted'"
T_BACKSLASH = "back\\slash \\N &lt;b&gt; javascript:alert(5)"
T_SVG = "<svg onload=alert(6)>"
#: 63 bytes: PostgreSQL's limit (MySQL's is 64 characters).
T_LONG = ("long'\"`<i>&amp;" + "z" * 63)[:63]
#: A shadow table by its prefix (``db_purge`` deletes from every ``shadow_*`` table), with ``%`` in it.
T_SHADOW = 'shadow_100% "purged"'

C_XSS = 'c"><img src=x onerror=alert(2)>'
C_BACKTICK = "b`; DROP TABLE instances; --"
C_PERCENT = "%s"
C_NEWLINE = "col\nnl"
I_XSS = 'ix"><svg onload=alert(3)>'
I_QUOTES = "u\"q`'"
FK_SQL = 'fk"; DROP TABLE instances; --'

#: Every hostile table, and the unmodelled ones ``db_drift`` reports (shadow tables are novaweb's own).
TABLES = (T_XSS, T_SQL, T_BACKTICK, T_SLASH, T_URL, T_NEWLINE, T_UNICODE, T_BACKSLASH, T_SVG, T_LONG, T_SHADOW)
EXTRA_TABLES = tuple(t for t in TABLES if not t.startswith("shadow_"))

_TYPES = {
    "sqlite": {"int": "INTEGER", "pk": "INTEGER NOT NULL PRIMARY KEY", "text": "VARCHAR(40)", "time": "DATETIME"},
    "mysql": {"int": "INT", "pk": "INT NOT NULL PRIMARY KEY", "text": "VARCHAR(40)", "time": "DATETIME"},
    "postgresql": {"int": "INTEGER", "pk": "INTEGER NOT NULL PRIMARY KEY", "text": "VARCHAR(40)", "time": "TIMESTAMP"},
}


def hostile_ddl(backend: str) -> list[str]:
    """The statements that create the hostile tables on ``backend``."""
    q = lambda name: quote(backend, name)  # noqa: E731
    t = _TYPES[backend]
    fk_name = "" if backend == "sqlite" else f"CONSTRAINT {q(FK_SQL)} "
    statements = [
        f"CREATE TABLE {q(T_XSS)} (id {t['pk']}, {q(C_XSS)} {t['text']})",
        f"CREATE INDEX {q(I_XSS)} ON {q(T_XSS)} ({q(C_XSS)})",
        f"CREATE TABLE {q(T_SQL)} (id {t['pk']}, {q(C_BACKTICK)} {t['text']}, {q(C_PERCENT)} {t['int']}, "
        f"instance_id {t['int']}, {fk_name}FOREIGN KEY (instance_id) REFERENCES instances (id))",
        f"CREATE UNIQUE INDEX {q(I_QUOTES)} ON {q(T_SQL)} ({q(C_BACKTICK)})",
        f"CREATE TABLE {q(T_SLASH)} (id {t['pk']}, {q('ref id')} {t['int']}, "
        f"FOREIGN KEY ({q('ref id')}) REFERENCES {q(T_XSS)} (id))",
        f"CREATE TABLE {q(T_NEWLINE)} (id {t['pk']}, {q(C_NEWLINE)} {t['int']})",
        f"CREATE TABLE {q(T_SHADOW)} (id {t['pk']}, deleted_at {t['time']})",
    ]
    statements += [f"CREATE TABLE {q(name)} (id {t['pk']})" for name in (T_BACKTICK, T_URL, T_UNICODE, T_BACKSLASH)]
    statements += [f"CREATE TABLE {q(name)} (id {t['pk']})" for name in (T_SVG, T_LONG)]
    return statements


def add_hostile_tables(db) -> None:
    """Create the hostile tables in ``db`` (a TestDatabase holding Nova's schema), with a few rows.

    No statement has parameters: the drivers would read a ``%`` in a name as a placeholder.
    """
    q = lambda name: quote(db.backend, name)  # noqa: E731
    old, new = OLD_AND_NEW
    with db.cursor() as cur:
        for sql in hostile_ddl(db.backend):
            cur.execute(sql)
        cur.execute(f"INSERT INTO {q(T_XSS)} (id, {q(C_XSS)}) VALUES (1, '<b>row</b>')")
        cur.execute(f"INSERT INTO {q(T_SQL)} (id, {q(C_BACKTICK)}, {q(C_PERCENT)}) VALUES (1, 'kept', 7)")
        cur.execute(f"INSERT INTO {q(T_SHADOW)} (id, deleted_at) VALUES (1, '{old}'), (2, '{new}')")


#: ``deleted_at`` of the two rows in T_SHADOW: one before 2020, one after.
OLD_AND_NEW = ("2012-03-01 00:00:00", "2025-06-01 00:00:00")


class _Elements(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._tag = None

    def handle_starttag(self, tag, attrs):
        self._tag = tag
        if tag in ("img", "iframe", "object", "embed"):
            self.found.append(f"<{tag}>")
        self.found += [f"<{tag} {name}=...>" for name, _ in attrs if name.startswith("on")]
        self.found += [
            f"<{tag} {name}={value!r}>"
            for name, value in attrs
            if name in ("href", "src", "xlink:href") and (value or "").strip().lower().startswith("javascript:")
        ]

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)

    def handle_data(self, data):
        if self._tag == "script" and "alert(" in data:
            self.found.append(f"<script>{data[:40]}")


def injected(html: str) -> list[str]:
    """Elements or attributes in ``html`` that only a name written as markup could have put there."""
    parser = _Elements()
    parser.feed(html)
    parser.close()
    return parser.found
