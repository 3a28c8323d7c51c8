"""A column given another type by hand, the way an operator or another tool would on each backend."""

from __future__ import annotations

import re


def set_column_type(db, table, column, type_sql):
    if db.backend == "mysql":
        db.execute(f"ALTER TABLE `{table}` MODIFY `{column}` {type_sql} NULL")
    elif db.backend == "postgresql":
        db.execute(f'ALTER TABLE "{table}" ALTER COLUMN "{column}" TYPE {type_sql} USING "{column}"::{type_sql}')
    else:
        # SQLite keeps the declared type only in the table's SQL: rewrite it there (data untouched).
        (sql,) = db.fetchall("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,))[0]
        pattern = re.compile(rf'((?:^|[(,]\s*)"?{column}"?\s+)([A-Za-z]+(?:\s*\(\d+(?:,\s*\d+)?\))?)')
        new_sql, count = pattern.subn(lambda m: m.group(1) + type_sql, sql, count=1)
        assert count == 1, sql
        conn = db.connect()
        try:
            (version,) = conn.execute("PRAGMA schema_version").fetchone()
            conn.execute("PRAGMA writable_schema = ON")
            conn.execute("UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = ?", (new_sql, table))
            conn.execute(f"PRAGMA schema_version = {version + 1}")  # other connections re-read the schema
            conn.execute("PRAGMA writable_schema = OFF")
        finally:
            conn.close()
