"""Throwaway databases on SQLite, MariaDB/MySQL and PostgreSQL for tests.

Everything here talks to the servers through their own DB-API drivers,
command-line clients and catalogs, and never through novaweb's schema engine:
it is the independent yardstick the engine is measured against.

Servers (see ``scripts/services.sh``): MariaDB as ``root`` without a password
at 127.0.0.1:3306 and PostgreSQL as ``postgres`` with trust auth at
127.0.0.1:5432. ``NOVATEST_MYSQL_HOST``/``_PORT``/``_USER`` and
``NOVATEST_PG_HOST``/``_PORT``/``_USER`` override them.

Parameters of :meth:`TestDatabase.execute` / :meth:`TestDatabase.fetchall` use
the driver's own paramstyle: ``?`` on SQLite, ``%s`` on MySQL and PostgreSQL
(``TestDatabase.placeholder`` holds the right one).
"""

from __future__ import annotations

import contextlib
import itertools
import os
import re
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

BACKENDS = ("sqlite", "mysql", "postgresql")

REPO_ROOT = Path(__file__).resolve().parents[2]
# In CI the shared folder sits next to the checkout, as it does on a workstation.
SHARED_DIR = Path(os.environ.get("NOVAWEB_SHARED_DIR", REPO_ROOT.parent / "shared"))
REFERENCE_DIR = SHARED_DIR / "reference" / "nova-essex"
DUMP_FILES = {
    "sqlite": REFERENCE_DIR / "sqlite.sql",
    "mysql": REFERENCE_DIR / "mysql.sql",
    "postgresql": REFERENCE_DIR / "postgresql.sql",
}

MYSQL_HOST = os.environ.get("NOVATEST_MYSQL_HOST", "127.0.0.1")
MYSQL_PORT = int(os.environ.get("NOVATEST_MYSQL_PORT", "3306"))
MYSQL_USER = os.environ.get("NOVATEST_MYSQL_USER", "root")
PG_HOST = os.environ.get("NOVATEST_PG_HOST", "127.0.0.1")
PG_PORT = int(os.environ.get("NOVATEST_PG_PORT", "5432"))
PG_USER = os.environ.get("NOVATEST_PG_USER", "postgres")

NAME_PREFIX = "novatest_"
_counter = itertools.count(1)


def _worker_id():
    """``gw0``, ``gw1``... under pytest-xdist, ``main`` otherwise."""
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


def unique_name():
    """``novatest_<worker>_<pid>_<n>``: unique per process and xdist worker."""
    return f"{NAME_PREFIX}{_worker_id()}_{os.getpid()}_{next(_counter)}"


_NAME_RE = re.compile(r"^[a-z0-9_]+$")


def _check_name(name):
    # Database names are interpolated into DDL; only our own safe names get there.
    if not _NAME_RE.match(name):
        raise ValueError(f"unsafe database name: {name!r}")
    return name


def quote(backend, identifier):
    """Quote a table or column name for ``backend``."""
    if backend == "mysql":
        return "`" + identifier.replace("`", "``") + "`"
    return '"' + identifier.replace('"', '""') + '"'


# --- raw connections -------------------------------------------------------------


def _mysql_connect(database=None):
    import MySQLdb

    kwargs = {"host": MYSQL_HOST, "port": MYSQL_PORT, "user": MYSQL_USER, "charset": "utf8"}
    if database:
        kwargs["database"] = database
    conn = MySQLdb.connect(**kwargs)
    conn.autocommit(True)
    return conn


def _pg_connect(database="postgres"):
    import psycopg

    return psycopg.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, dbname=database, autocommit=True)


def _admin(backend, sql, params=None):
    """Run one statement on the server's administrative connection."""
    conn = _mysql_connect() if backend == "mysql" else _pg_connect()
    try:
        cur = conn.cursor()
        cur.execute(sql, params)
        rows = cur.fetchall() if cur.description else []
        cur.close()
        return rows
    finally:
        conn.close()


@dataclass
class TestDatabase:
    """One throwaway database; ``url`` is a django-environ database URL."""

    __test__ = False  # not a pytest test class, despite its name

    backend: str
    name: str
    url: str
    path: Path | None = field(default=None, repr=False)  # SQLite only

    @property
    def placeholder(self):
        return "?" if self.backend == "sqlite" else "%s"

    def connect(self):
        """A new raw DB-API connection in autocommit mode; the caller closes it."""
        if self.backend == "sqlite":
            return sqlite3.connect(self.path, isolation_level=None)
        if self.backend == "mysql":
            return _mysql_connect(self.name)
        return _pg_connect(self.name)

    @contextlib.contextmanager
    def cursor(self):
        conn = self.connect()
        try:
            cur = conn.cursor()
            try:
                yield cur
            finally:
                cur.close()
        finally:
            conn.close()

    def execute(self, sql, params=None):
        with self.cursor() as cur:
            if params is None:
                cur.execute(sql)
            else:
                cur.execute(sql, params)

    def fetchall(self, sql, params=None):
        with self.cursor() as cur:
            if params is None:
                cur.execute(sql)
            else:
                cur.execute(sql, params)
            return [tuple(row) for row in cur.fetchall()]

    def drop(self):
        """Remove the database; dropping one that is already gone is fine."""
        if self.backend == "sqlite":
            for suffix in ("", "-journal", "-wal", "-shm"):
                Path(f"{self.path}{suffix}").unlink(missing_ok=True)
        elif self.backend == "mysql":
            _admin("mysql", f"DROP DATABASE IF EXISTS `{_check_name(self.name)}`")
        else:
            _admin("postgresql", f'DROP DATABASE IF EXISTS "{_check_name(self.name)}" WITH (FORCE)')


def _make(backend, name, tmp_dir):
    if backend == "sqlite":
        path = Path(tmp_dir).resolve() / f"{name}.sqlite3"
        return TestDatabase(backend, name, f"sqlite:///{path}", path)
    if backend == "mysql":
        return TestDatabase(backend, name, f"mysql://{MYSQL_USER}@{MYSQL_HOST}:{MYSQL_PORT}/{name}")
    if backend == "postgresql":
        return TestDatabase(backend, name, f"postgres://{PG_USER}@{PG_HOST}:{PG_PORT}/{name}")
    raise ValueError(f"unknown backend {backend!r}; expected one of {BACKENDS}")


def create_empty(backend, tmp_dir):
    """A new, empty database on ``backend`` (SQLite files go under ``tmp_dir``)."""
    db = _make(backend, unique_name(), tmp_dir)
    if backend == "sqlite":
        sqlite3.connect(db.path).close()
    elif backend == "mysql":
        _drop_stale_once("mysql")
        _admin("mysql", f"CREATE DATABASE `{_check_name(db.name)}` CHARACTER SET utf8")
    else:
        _drop_stale_once("postgresql")
        _admin("postgresql", f'CREATE DATABASE "{_check_name(db.name)}"')
    return db


def psql_command(host, port, user, dbname) -> list[str]:
    """psql as an operator runs a script: no ~/.psqlrc, quiet, stopping at the first error."""
    return ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", host, "-p", str(port), "-U", user, "-d", dbname]


def load_reference_dump(db):
    """Load the Nova Essex reference dump of ``db.backend`` into ``db``."""
    dump = DUMP_FILES[db.backend]
    if db.backend == "sqlite":
        conn = sqlite3.connect(db.path)
        try:
            conn.executescript(dump.read_text())
        finally:
            conn.close()
        return
    if db.backend == "mysql":
        cmd = ["mariadb", f"-u{MYSQL_USER}", f"-h{MYSQL_HOST}", f"-P{MYSQL_PORT}", db.name]
    else:
        cmd = psql_command(PG_HOST, PG_PORT, PG_USER, db.name)
    with dump.open("rb") as stdin:
        proc = subprocess.run(cmd, stdin=stdin, capture_output=True, timeout=120)
    if proc.returncode != 0:
        raise RuntimeError(
            f"loading {dump} into {db.backend} database {db.name} failed "
            f"({proc.returncode}): {proc.stderr.decode(errors='replace').strip()}"
        )


def clone(db, tmp_dir):
    """A new, independent copy of ``db`` (schema and rows)."""
    new = _make(db.backend, unique_name(), tmp_dir)
    if db.backend == "sqlite":
        shutil.copyfile(db.path, new.path)
    elif db.backend == "postgresql":
        _check_name(db.name)
        conn = _pg_connect()
        try:
            # CREATE DATABASE ... TEMPLATE refuses while anyone is connected to the source.
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                (db.name,),
            )
            conn.execute(f'CREATE DATABASE "{_check_name(new.name)}" TEMPLATE "{db.name}"')
        finally:
            conn.close()
    else:
        _clone_mysql(db, new)
    return new


def _clone_mysql(db, new):
    # CREATE TABLE ... LIKE drops foreign keys, so replay SHOW CREATE TABLE instead.
    conn = _mysql_connect()
    try:
        cur = conn.cursor()
        cur.execute(f"CREATE DATABASE `{_check_name(new.name)}` CHARACTER SET utf8")
        cur.execute("SET SESSION FOREIGN_KEY_CHECKS = 0")
        cur.execute("SET SESSION sql_mode = CONCAT(@@sql_mode, ',NO_AUTO_VALUE_ON_ZERO')")
        cur.execute(
            "SELECT TABLE_NAME FROM information_schema.TABLES "
            "WHERE TABLE_SCHEMA = %s AND TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_NAME",
            (db.name,),
        )
        tables = [row[0] for row in cur.fetchall()]
        cur.execute(f"USE `{_check_name(db.name)}`")
        ddl = []
        for table in tables:
            cur.execute(f"SHOW CREATE TABLE {quote('mysql', table)}")
            ddl.append(cur.fetchone()[1])
        cur.execute(f"USE `{new.name}`")
        for statement in ddl:
            cur.execute(statement)
        for table in tables:
            t = quote("mysql", table)
            cur.execute(f"INSERT INTO `{new.name}`.{t} SELECT * FROM `{db.name}`.{t}")
        cur.close()
    except BaseException:
        conn.close()
        new.drop()
        raise
    conn.close()


def rows(db, table, order_by):
    """All rows of ``table`` as tuples, ordered by a column name or a sequence of them."""
    if isinstance(order_by, str):
        order_by = (order_by,)
    order = ", ".join(quote(db.backend, c) for c in order_by)
    return db.fetchall(f"SELECT * FROM {quote(db.backend, table)} ORDER BY {order}")


# --- stale databases from killed runs ---------------------------------------------

_stale_checked = set()
_STALE_RE = re.compile(rf"^{NAME_PREFIX}[a-z0-9]+_(\d+)_\d+$")


def _pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _drop_stale_once(backend):
    """Drop ``novatest_*`` databases whose creating process is gone (once per process)."""
    if backend in _stale_checked:
        return
    _stale_checked.add(backend)
    if backend == "mysql":
        names = [r[0] for r in _admin("mysql", "SHOW DATABASES LIKE 'novatest\\_%'")]
    else:
        names = [
            r[0] for r in _admin("postgresql", "SELECT datname FROM pg_database WHERE datname LIKE 'novatest\\_%'")
        ]
    for name in names:
        match = _STALE_RE.match(name)
        if match and not _pid_alive(int(match.group(1))):
            with contextlib.suppress(Exception):
                _make(backend, name, "/nonexistent").drop()


# --- catalog -----------------------------------------------------------------------


def catalog(db):
    """The schema of ``db`` as its own catalog describes it, types unnormalized.

    ``{table: {"columns": [(name, type, nullable, default), ...],   # ordinal order
               "primary_key": (cols...),
               "indexes": {name: (unique, (cols...))},               # not the PK's
               "unique_constraints": {name: (cols...)},              # PG / MySQL
               "autounique": [(cols...), ...],                      # SQLite's sqlite_autoindex_*
               "foreign_keys": [((cols...), ref_table, (ref_cols...)), ...],  # sorted
               "fk_names": [names...],                               # sorted; SQLite has none
               "extra": {column: text}}}   # MySQL EXTRA (auto_increment...), PG identity/generated

    CHECK constraints are deliberately left out (SQLAlchemy's boolean CHECKs are
    a known, ignored difference).
    """
    with db.cursor() as cur:
        if db.backend == "sqlite":
            return _catalog_sqlite(cur)
        if db.backend == "mysql":
            return _catalog_mysql(cur, db.name)
        return _catalog_postgresql(cur)


def _empty_entry():
    return {
        "columns": [],
        "primary_key": (),
        "indexes": {},
        "unique_constraints": {},
        "autounique": [],
        "foreign_keys": [],
        "fk_names": [],
        "extra": {},
    }


def _grouped(rows):
    """[(key, col), ...] in order -> {key: (cols...)}"""
    out = {}
    for key, col in rows:
        out.setdefault(key, []).append(col)
    return {k: tuple(v) for k, v in out.items()}


def _catalog_sqlite(cur):
    cur.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name"
    )
    tables = [r[0] for r in cur.fetchall()]
    result = {}
    for table in tables:
        entry = result[table] = _empty_entry()
        q = quote("sqlite", table)
        cur.execute(f"PRAGMA table_info({q})")
        info = cur.fetchall()  # cid, name, type, notnull, dflt_value, pk
        entry["columns"] = [(name, type_, not notnull, dflt) for _, name, type_, notnull, dflt, _ in info]
        entry["primary_key"] = tuple(r[1] for r in sorted((r for r in info if r[5]), key=lambda r: r[5]))
        cur.execute(f"PRAGMA index_list({q})")
        for _, name, unique, origin, _partial in cur.fetchall():
            if origin == "pk":
                continue
            cur.execute(f"PRAGMA index_info({quote('sqlite', name)})")
            cols = tuple(r[2] for r in sorted(cur.fetchall()))
            if name.startswith("sqlite_autoindex_"):
                entry["autounique"].append(cols)
            else:
                entry["indexes"][name] = (bool(unique), cols)
        entry["autounique"].sort()
        cur.execute(f"PRAGMA foreign_key_list({q})")
        fks = {}
        for fk_id, seq, ref_table, from_col, to_col, *_ in cur.fetchall():
            fk = fks.setdefault(fk_id, [ref_table, []])
            fk[1].append((seq, from_col, to_col))
        entry["foreign_keys"] = sorted(
            (tuple(c[1] for c in sorted(cols)), ref_table, tuple(c[2] for c in sorted(cols)))
            for ref_table, cols in fks.values()
        )
    return result


def _catalog_mysql(cur, schema):
    result = {}
    cur.execute(
        "SELECT TABLE_NAME FROM information_schema.TABLES "
        "WHERE TABLE_SCHEMA = %s AND TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_NAME",
        (schema,),
    )
    for (table,) in cur.fetchall():
        result[table] = _empty_entry()

    cur.execute(
        "SELECT TABLE_NAME, COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE, COLUMN_DEFAULT, EXTRA "
        "FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = %s "
        "ORDER BY TABLE_NAME, ORDINAL_POSITION",
        (schema,),
    )
    for table, name, type_, nullable, default, extra in cur.fetchall():
        if table not in result:
            continue  # a view
        result[table]["columns"].append((name, type_, nullable == "YES", default))
        if extra:
            result[table]["extra"][name] = extra

    cur.execute(
        "SELECT TABLE_NAME, INDEX_NAME, NON_UNIQUE, COLUMN_NAME "
        "FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = %s "
        "ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX",
        (schema,),
    )
    indexes = {}
    for table, index, non_unique, column in cur.fetchall():
        indexes.setdefault((table, index), [not int(non_unique), []])[1].append(column)
    for (table, index), (unique, cols) in indexes.items():
        if index == "PRIMARY":
            result[table]["primary_key"] = tuple(cols)
        else:
            result[table]["indexes"][index] = (unique, tuple(cols))

    cur.execute(
        "SELECT tc.TABLE_NAME, tc.CONSTRAINT_NAME, k.COLUMN_NAME "
        "FROM information_schema.TABLE_CONSTRAINTS tc "
        "JOIN information_schema.KEY_COLUMN_USAGE k "
        "  ON k.CONSTRAINT_SCHEMA = tc.CONSTRAINT_SCHEMA AND k.TABLE_NAME = tc.TABLE_NAME "
        "  AND k.CONSTRAINT_NAME = tc.CONSTRAINT_NAME "
        "WHERE tc.CONSTRAINT_SCHEMA = %s AND tc.CONSTRAINT_TYPE = 'UNIQUE' "
        "ORDER BY tc.TABLE_NAME, tc.CONSTRAINT_NAME, k.ORDINAL_POSITION",
        (schema,),
    )
    for (table, name), cols in _grouped(((t, n), c) for t, n, c in cur.fetchall()).items():
        result[table]["unique_constraints"][name] = cols

    cur.execute(
        "SELECT k.TABLE_NAME, k.CONSTRAINT_NAME, k.COLUMN_NAME, "
        "       k.REFERENCED_TABLE_NAME, k.REFERENCED_COLUMN_NAME "
        "FROM information_schema.KEY_COLUMN_USAGE k "
        "JOIN information_schema.REFERENTIAL_CONSTRAINTS r "
        "  ON r.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA AND r.TABLE_NAME = k.TABLE_NAME "
        "  AND r.CONSTRAINT_NAME = k.CONSTRAINT_NAME "
        "WHERE k.CONSTRAINT_SCHEMA = %s "
        "ORDER BY k.TABLE_NAME, k.CONSTRAINT_NAME, k.ORDINAL_POSITION",
        (schema,),
    )
    fks = {}
    for table, name, col, ref_table, ref_col in cur.fetchall():
        fk = fks.setdefault((table, name), [ref_table, [], []])
        fk[1].append(col)
        fk[2].append(ref_col)
    _store_fks(result, fks)
    return result


def _store_fks(result, fks):
    for (table, name), (ref_table, cols, ref_cols) in fks.items():
        result[table]["foreign_keys"].append((tuple(cols), ref_table, tuple(ref_cols)))
        result[table]["fk_names"].append(name)
    for entry in result.values():
        entry["foreign_keys"].sort()
        entry["fk_names"].sort()


_PG_TABLES = """
    SELECT c.oid, c.relname FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p')
    ORDER BY c.relname
"""
_PG_COLUMNS = """
    SELECT a.attrelid, a.attname, format_type(a.atttypid, a.atttypmod), NOT a.attnotnull,
           pg_get_expr(d.adbin, d.adrelid), a.attidentity, a.attgenerated
    FROM pg_attribute a
    LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
    WHERE a.attrelid = ANY(%s::oid[]) AND a.attnum > 0 AND NOT a.attisdropped
    ORDER BY a.attrelid, a.attnum
"""
_PG_INDEXES = """
    SELECT i.indrelid, ic.relname, i.indisunique, k.n, pg_get_indexdef(i.indexrelid, k.n, true)
    FROM pg_index i
    JOIN pg_class ic ON ic.oid = i.indexrelid
    CROSS JOIN LATERAL generate_series(1, i.indnkeyatts) AS k(n)
    WHERE i.indrelid = ANY(%s::oid[]) AND NOT i.indisprimary
    ORDER BY i.indrelid, ic.relname, k.n
"""
_PG_CONSTRAINTS = """
    SELECT con.conrelid, con.conname, con.contype, k.ord, a.attname,
           ref.relname, ra.attname
    FROM pg_constraint con
    CROSS JOIN LATERAL unnest(con.conkey) WITH ORDINALITY AS k(attnum, ord)
    JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum
    LEFT JOIN pg_class ref ON ref.oid = con.confrelid
    LEFT JOIN pg_attribute ra ON ra.attrelid = con.confrelid AND ra.attnum = con.confkey[k.ord::int]
    WHERE con.conrelid = ANY(%s::oid[]) AND con.contype IN ('p', 'u', 'f')
    ORDER BY con.conrelid, con.conname, k.ord
"""
_PG_IDENTITY = {"a": "identity always", "d": "identity by default"}
_PG_GENERATED = {"s": "generated stored"}


def _catalog_postgresql(cur):
    cur.execute(_PG_TABLES)
    names = dict(cur.fetchall())
    oids = list(names)
    result = {name: _empty_entry() for name in sorted(names.values())}

    cur.execute(_PG_COLUMNS, (oids,))
    for oid, name, type_, nullable, default, identity, generated in cur.fetchall():
        entry = result[names[oid]]
        entry["columns"].append((name, type_, nullable, default))
        extra = _PG_IDENTITY.get(identity) or _PG_GENERATED.get(generated)
        if extra:
            entry["extra"][name] = extra

    cur.execute(_PG_INDEXES, (oids,))
    indexes = {}
    for oid, index, unique, _, column in cur.fetchall():
        indexes.setdefault((oid, index), [unique, []])[1].append(column)
    for (oid, index), (unique, cols) in indexes.items():
        result[names[oid]]["indexes"][index] = (unique, tuple(cols))

    cur.execute(_PG_CONSTRAINTS, (oids,))
    fks = {}
    for oid, name, kind, _, col, ref_table, ref_col in cur.fetchall():
        entry = result[names[oid]]
        if kind == "p":
            entry["primary_key"] += (col,)
        elif kind == "u":
            entry["unique_constraints"][name] = entry["unique_constraints"].get(name, ()) + (col,)
        else:
            fk = fks.setdefault((names[oid], name), [ref_table, [], []])
            fk[1].append(col)
            fk[2].append(ref_col)
    _store_fks(result, fks)
    return result


@contextlib.contextmanager
def read_only_user(db):
    """``db`` as a user who may only SELECT (a reporting account pointed at the command by mistake)."""
    user = f"novatest_reader_{os.getpid()}"
    if db.backend == "mysql":
        _admin("mysql", f"CREATE USER '{user}'@'%'")
        _admin("mysql", f"GRANT SELECT ON `{db.name}`.* TO '{user}'@'%'")
        url = f"mysql://{user}@{MYSQL_HOST}:{MYSQL_PORT}/{db.name}"
    else:
        _admin("postgresql", f"CREATE ROLE {user} LOGIN")
        db.execute(f"GRANT CONNECT ON DATABASE {db.name} TO {user}")
        db.execute(f"GRANT USAGE ON SCHEMA public TO {user}")
        db.execute(f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {user}")
        url = f"postgres://{user}@{PG_HOST}:{PG_PORT}/{db.name}"
    try:
        yield TestDatabase(db.backend, db.name, url)
    finally:
        if db.backend == "mysql":
            _admin("mysql", f"DROP USER '{user}'@'%'")
        else:
            db.execute(f"DROP OWNED BY {user}")
            _admin("postgresql", f"DROP ROLE {user}")
