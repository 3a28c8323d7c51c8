"""The schema engine's front door: models vs. live database, for one connection."""

from __future__ import annotations

from dataclasses import dataclass

from .dialects import dialect_for
from .diff import SchemaDiff, diff
from .introspect import introspect
from .model_schema import model_schema
from .schema import Schema


def own_tables(live: Schema) -> set[str]:
    """Live tables novaweb itself created (shadow tables of archived rows, backups)."""
    return {name for name in live.tables if name.startswith(("shadow_", "novaweb_"))}


@dataclass
class Comparison:
    expected: Schema
    live: Schema
    result: SchemaDiff


def compare(connection) -> Comparison:
    expected = model_schema(connection.vendor)
    live = introspect(connection)
    result = diff(expected, live, dialect_for(connection), own_tables=own_tables(live))
    return Comparison(expected, live, result)
