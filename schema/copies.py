"""Tables that hold copies of another table's rows: archive shadows and backups.

A copy has the columns of its source, with the SQL types (and on MySQL the
character sets) the live database reports (so ``INSERT INTO copy (...) SELECT
... FROM source`` keeps every value), all nullable, without defaults, auto-increment, indexes or foreign
keys, plus an auto-increment primary key of its own. Galera needs a primary
key on every table (row-based replication finds rows by it), and the
source's own key cannot serve: the same source row may be copied twice.
"""

from __future__ import annotations

from dataclasses import replace

from .schema import Column, Table


def keyed_copy(source: Table, name: str, key: str, dialect, columns=None) -> Table:
    """The definition of a copy of ``source`` (or of its ``columns``) named ``name``, keyed by ``key``."""
    key_column = Column(key, "int", nullable=False, autoincrement=True, ddl_type=dialect.AUTOINCREMENT_TYPE)
    copied = {key: key_column}
    for column_name in columns or source.columns:
        copied[column_name] = replace(source.columns[column_name], nullable=True, default=None, autoincrement=False)
    return Table(name, copied, primary_key=(key,))
