"""What a Nova column can actually hold, read from the live database, for form validation.

A form must refuse what the column would refuse or change, rather than let
the server fail (a 503) or store something else:

- text: the characters the column's character set can store. MySQL/MariaDB:
  the column's own charset from ``information_schema.COLUMNS`` (Essex tables
  are often ``utf8``, MySQL's 3-byte ``utf8mb3``, which has no emoji; older
  ones ``latin1``), and the session's (``character_set_client``: novaweb
  connects with ``utf8`` unless the URL says otherwise); PostgreSQL: the database's ``server_encoding``, and never
  a NUL character; SQLite stores any text.
- floats: a single-precision column (MySQL's ``FLOAT``, PostgreSQL's ``real``)
  holds 6 significant digits (``FLT_DIG``) between 1.17549e-38 and
  3.40282e+38; a value it would store as 0.0, or as a number that differs
  from it by more than one part in a million (a tiny value stored as a
  subnormal), is refused.
  Double-precision columns (PostgreSQL's Essex ``rxtx_factor``, SQLite's
  ``REAL``) hold any finite float.

The catalog is read at most once a minute per database and table
(:data:`CACHE_SECONDS`); a converted table is seen within that minute.
"""

from __future__ import annotations

import codecs
import struct
import time
import unicodedata
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import connections, router

CACHE_SECONDS = 60.0
#: How far the stored float may be from the value entered, relatively: 6 significant digits.
FLOAT_TOLERANCE = 1e-6

#: MySQL charsets whose range is the Basic Multilingual Plane (no 4-byte UTF-8 characters).
MYSQL_BMP_ONLY = {"utf8", "utf8mb3", "ucs2"}
#: MySQL charsets holding every character.
MYSQL_ANY = {"utf8mb4", "utf16", "utf16le", "utf32", "binary"}
#: Database charset name -> Python codec, where the names differ.
CODECS = {"latin1": "cp1252", "win1252": "cp1252", "sql_ascii": None, "utf8": "utf-8"}


@dataclass(frozen=True)
class ColumnStorage:
    table: str
    column: str
    #: The charset's name as the database says it (None: any text).
    charset: str | None = None
    #: Only characters of the Basic Multilingual Plane.
    bmp_only: bool = False
    #: A Python codec the text must encode with (None: no such limit).
    codec: str | None = None
    nul_allowed: bool = True
    single_precision: bool = False

    def unstorable_character(self, text: str) -> str | None:
        """The first character of ``text`` this column cannot store, or None."""
        for char in text:
            if (char == "\x00" and not self.nul_allowed) or (self.bmp_only and ord(char) > 0xFFFF):
                return char
            if self.codec is not None:
                try:
                    char.encode(self.codec)
                except UnicodeEncodeError:
                    return char
        return None

    def stored_float(self, value: float) -> float:
        """What the column would hold for ``value``."""
        if not self.single_precision:
            return value
        try:
            return struct.unpack("f", struct.pack("f", value))[0]
        except OverflowError:
            return float("inf")


_cache: dict = {}


def column_storage(model, field_name: str, *, using: str | None = None) -> ColumnStorage:
    """The storage facts of ``model.field_name``'s column in the database ``using`` (the primary by default)."""
    using = using or router.db_for_write(model)
    table, column = model._meta.db_table, model._meta.get_field(field_name).column
    connection = connections[using]
    key = (using, str(connection.settings_dict.get("NAME")), connection.settings_dict.get("HOST"), table)
    cached = _cache.get(key)
    if cached is None or time.monotonic() - cached[0] > CACHE_SECONDS:
        cached = (time.monotonic(), _read_catalog(connection, table))
        _cache[key] = cached
    return cached[1].get(column) or ColumnStorage(table, column)


def _codec(name: str | None) -> str | None:
    if name is None:
        return None
    name = name.lower()
    codec = CODECS.get(name, name)
    if codec is None:
        return None
    try:
        return codecs.lookup(codec).name
    except LookupError:
        return None  # a charset Python does not know: the server's own error is the last word


def _read_catalog(connection, table: str) -> dict[str, ColumnStorage]:
    with connection.cursor() as cursor:
        if connection.vendor == "mysql":
            cursor.execute("SELECT @@character_set_client")
            client_bmp_only = cursor.fetchone()[0].lower() in MYSQL_BMP_ONLY
            cursor.execute(
                "SELECT column_name, data_type, character_set_name FROM information_schema.columns "
                "WHERE table_schema = DATABASE() AND table_name = %s",
                [table],
            )
            return {
                name: _mysql_column(table, name, data_type.lower(), charset, client_bmp_only)
                for name, data_type, charset in cursor.fetchall()
            }
        if connection.vendor == "postgresql":
            cursor.execute("SHOW server_encoding")
            encoding = cursor.fetchone()[0]
            cursor.execute(
                "SELECT column_name, data_type FROM information_schema.columns "
                "WHERE table_schema = current_schema() AND table_name = %s",
                [table],
            )
            codec = None if encoding.upper() == "UTF8" else _codec(encoding)
            return {
                name: ColumnStorage(
                    table, name, charset=encoding, codec=codec, nul_allowed=False, single_precision=data_type == "real"
                )
                for name, data_type in cursor.fetchall()
            }
    return {}


def _mysql_column(table, name, data_type, charset, client_bmp_only) -> ColumnStorage:
    if charset is None:
        return ColumnStorage(table, name, single_precision=data_type == "float")
    charset = charset.lower()
    if charset in MYSQL_ANY:
        if client_bmp_only:  # the session cannot send what the column could hold
            return ColumnStorage(table, name, charset=f"{charset}, over a utf8mb3 connection", bmp_only=True)
        return ColumnStorage(table, name, charset=charset)
    if charset in MYSQL_BMP_ONLY:
        return ColumnStorage(table, name, charset=charset, bmp_only=True)
    return ColumnStorage(table, name, charset=charset, codec=_codec(charset), bmp_only=client_bmp_only)


# --- validators --------------------------------------------------------------------------


def describe_character(char: str) -> str:
    """``'😀' (U+1F600 GRINNING FACE)``; control characters shown escaped."""
    shown = repr(char) if not char.isprintable() else f"'{char}'"
    return f"{shown} (U+{ord(char):04X} {unicodedata.name(char, 'unnamed character')})"


def validate_text(value: str, model, field_name: str, label: str, *, using: str | None = None) -> str:
    """``value`` or a ValidationError naming the first character the column cannot store."""
    if not value:
        return value
    storage = column_storage(model, field_name, using=using)
    char = storage.unstorable_character(value)
    if char is not None:
        charset = f" ({storage.charset})" if storage.charset else ""
        raise ValidationError(
            f"{label} contains {describe_character(char)}, which the column "
            f"{storage.table}.{storage.column}{charset} cannot store.",
            code="unstorable_character",
        )
    return value


def validate_float(value: float, model, field_name: str, label: str, *, using: str | None = None) -> float:
    """``value`` or a ValidationError when the column would store something else (0.0, a rounded tiny value)."""
    storage = column_storage(model, field_name, using=using)
    stored = storage.stored_float(value)
    # A normal single-precision value is within 2**-24 of the original; a small subnormal or zero is not.
    if stored == 0.0 or abs(stored - value) > abs(value) * FLOAT_TOLERANCE:
        raise ValidationError(
            f"{label} {value:g} cannot be stored: the column {storage.table}.{storage.column} is a "
            f"single-precision FLOAT (about 1.17549e-38 to 3.40282e+38) and would hold {stored:g}.",
            code="unstorable_float",
        )
    return value
