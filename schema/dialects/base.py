"""What differs between backends: one dialect class per backend, composed the way Django
composes a backend (operations, introspection, schema editor, features):

- :mod:`.types` (``TypeRules``): the model side and type normalization, no connection;
- :mod:`.catalog` (``CatalogReader``): reading the live schema, and the benign differences;
- :mod:`.templates` (``DDLTemplates``): the DDL, as ``sql_*`` templates where only text differs;
- :mod:`.locks` (``SyncLocking``): the database-wide sync lock (Galera's lives in :mod:`.galera`);
- :mod:`.bulk` (``BulkLoad``): bulk loading.

A backend's module (``mysql.py``...) holds its ``...Types`` and its dialect.
"""

from __future__ import annotations

from .bulk import BulkLoad
from .catalog import CatalogReader
from .locks import SyncLocking
from .quoting import quote_identifier, quote_literal
from .templates import DDLTemplates
from .types import TypeRules

__all__ = ["Dialect", "quote_identifier", "quote_literal"]


class Dialect(TypeRules, CatalogReader, DDLTemplates, SyncLocking, BulkLoad):
    """A backend's dialect on a live connection (``None`` where only DDL is written)."""

    def __init__(self, connection):
        self.connection = connection
