"""One dialect per backend: see :mod:`schema.dialects.base`."""

from .base import Dialect
from .mysql import MySQLDialect, MySQLTypes
from .postgresql import PostgreSQLDialect, PostgreSQLTypes
from .sqlite import SQLiteDialect, SQLiteTypes
from .types import TypeRules

DIALECTS = {cls.vendor: cls for cls in (MySQLDialect, PostgreSQLDialect, SQLiteDialect)}
#: The type rules alone (the model side and value checks): no connection.
TYPE_RULES = {cls.vendor: cls for cls in (MySQLTypes, PostgreSQLTypes, SQLiteTypes)}


def dialect_for(connection) -> Dialect:
    try:
        return DIALECTS[connection.vendor](connection)
    except KeyError:
        raise NotImplementedError(f"novaweb does not support the {connection.vendor} backend") from None
