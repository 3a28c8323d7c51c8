"""One dialect per backend: see :mod:`schema.dialects.base`."""

from .base import Dialect
from .mysql import MySQLDialect
from .postgresql import PostgreSQLDialect
from .sqlite import SQLiteDialect

DIALECTS = {cls.vendor: cls for cls in (MySQLDialect, PostgreSQLDialect, SQLiteDialect)}


def dialect_for(connection) -> Dialect:
    try:
        return DIALECTS[connection.vendor](connection)
    except KeyError:
        raise NotImplementedError(f"novaweb does not support the {connection.vendor} backend") from None
