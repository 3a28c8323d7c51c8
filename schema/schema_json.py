"""A :class:`schema.schema.Schema` as plain JSON data, and back.

Snapshots keep the schema of the tables they hold (so a restore can be
compared with the engine's own diff), and the sync history keeps the schema a
sync started from (so ``db_undo`` can plan the way back with the engine).
"""

from __future__ import annotations

import dataclasses

from .schema import Check, Column, ForeignKey, Index, Schema, Table, UniqueConstraint


def schema_to_dict(schema: Schema, tables=None) -> dict:
    """``{"vendor": ..., "tables": {name: {...}}}`` for every table (or only ``tables``)."""
    names = sorted(schema.tables) if tables is None else [t for t in sorted(tables) if t in schema.tables]
    return {"vendor": schema.vendor, "tables": {name: dataclasses.asdict(schema.tables[name]) for name in names}}


def schema_from_dict(data: dict) -> Schema:
    schema = Schema(data["vendor"])
    for name, table in data["tables"].items():
        schema.add_table(_table(name, table))
    return schema


def _table(name: str, data: dict) -> Table:
    return Table(
        name,
        columns={c: Column(**column) for c, column in data["columns"].items()},
        primary_key=tuple(data["primary_key"]),
        primary_key_name=data.get("primary_key_name"),
        uniques=[UniqueConstraint(tuple(u["columns"]), u.get("name")) for u in data.get("uniques", [])],
        indexes={
            i: Index(index["name"], tuple(index["columns"]), index["unique"], index.get("partial", False))
            for i, index in data["indexes"].items()
        },
        foreign_keys=[
            ForeignKey(tuple(f["columns"]), f["ref_table"], tuple(f["ref_columns"]), f.get("name"))
            for f in data.get("foreign_keys", [])
        ],
        checks=[Check(tuple(c["columns"]), c.get("name")) for c in data.get("checks", [])],
        sequences=dict(data.get("sequences", {})),
    )
