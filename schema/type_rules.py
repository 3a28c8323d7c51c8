"""What a column type can hold, and which live values a type change would not keep.

Types here are the dialects' *normalized* types (``int``, ``varchar(255)``,
``text``, ``float``, ``int unsigned``, ``mediumtext`` ...). Their meaning
depends on the backend (a MySQL ``float`` is single precision, PostgreSQL's
``double precision`` normalizes to ``float``; MySQL's ``text`` holds 65,535
bytes, PostgreSQL's is unbounded), so each dialect states those facts as data
(``FLOAT_BITS``, ``TEXT_BYTES``, ``BOOL_RANGE``) and this module reads them: no
connection, no vendor test.

:func:`type_change` says whether every value of one type fits the other
(``widen``), whether values may not fit (``narrow``, same family), or whether
the change crosses families (``change``). :func:`lost_values_condition` is the
SQL condition, true for a live value that the change would cut, clamp, round
or fail to parse: ``db_sync`` counts those rows before any DDL and refuses
when there is one, whatever the flag.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

INTEGER_RANGES = {
    "tinyint": (-(2**7), 2**7 - 1),
    "smallint": (-(2**15), 2**15 - 1),
    "mediumint": (-(2**23), 2**23 - 1),
    "int": (-(2**31), 2**31 - 1),
    "integer": (-(2**31), 2**31 - 1),
    "bigint": (-(2**63), 2**63 - 1),
}
#: Per character, the most bytes a utf8mb4 value takes: a ``varchar(n)`` fits ``4 * n`` bytes.
MAX_BYTES_PER_CHAR = 4


@dataclass(frozen=True)
class TypeInfo:
    """What a type holds: its family and its limits (``None``: no limit)."""

    family: str  # integer, float, text, char, datetime, or the type itself (decimal(10,2), date...)
    low: int | None = None
    high: int | None = None
    chars: int | None = None
    bytes: int | None = None
    bits: int | None = None  # a float's mantissa bits: 24 single, 53 double


def type_info(dialect, normalized: str) -> TypeInfo:
    """Parse a normalized type the way ``dialect``'s backend understands it."""
    text = normalized.strip().lower()
    if text == "bool":
        low, high = dialect.BOOL_RANGE
        return TypeInfo("integer", low, high)
    match = re.fullmatch(r"(tinyint|smallint|mediumint|int|integer|bigint)( unsigned)?( zerofill)?", text)
    if match:
        low, high = INTEGER_RANGES[match.group(1)]
        if match.group(2):
            low, high = 0, high * 2 + 1
        return TypeInfo("integer", low, high)
    if text in dialect.FLOAT_BITS:
        return TypeInfo("float", bits=dialect.FLOAT_BITS[text])
    match = re.fullmatch(r"(?:varchar|character varying|nvarchar)(?:\s*\((\d+)\))?", text)
    if match:
        return TypeInfo("text", chars=int(match.group(1)) if match.group(1) else None)
    if text in dialect.TEXT_BYTES:
        return TypeInfo("text", bytes=dialect.TEXT_BYTES[text])
    match = re.fullmatch(r"(?:char|character|bpchar)(?:\s*\((\d+)\))?", text)
    if match:
        return TypeInfo("char", chars=int(match.group(1) or 1))
    if text in dialect.NAIVE_DATETIME_TYPES:
        return TypeInfo("datetime")
    return TypeInfo(text)


def _fits(have: TypeInfo, want: TypeInfo) -> bool:
    """Whether every value of ``have`` is a value of ``want``, unchanged."""
    if have.family != want.family:
        return False
    if have.family == "integer":
        return want.low <= have.low and have.high <= want.high
    if have.family == "float":
        # a single-precision value read as a double shows digits it never had (0.1 -> 0.10000000149...)
        return have.bits == want.bits
    if have.family == "text":
        if want.chars is not None and (have.chars is None or have.chars > want.chars):
            return False
        if want.bytes is not None:
            have_bytes = (
                have.bytes
                if have.bytes is not None
                else (have.chars * MAX_BYTES_PER_CHAR if have.chars is not None else None)
            )
            return have_bytes is not None and have_bytes <= want.bytes
        return True
    return have == want


def type_change(dialect, old: str, new: str) -> str:
    """``widen`` (every value fits), ``narrow`` (same family, values may not fit) or ``change``."""
    have, want = type_info(dialect, old), type_info(dialect, new)
    if _fits(have, want):
        return "widen"
    return "narrow" if have.family == want.family else "change"


#: Conversions across families that novaweb checks value by value; every other
#: cross-family change with a non-null value is refused (a value would read back changed).
_CHECKED_ACROSS = {("integer", "text"), ("text", "integer")}


def lost_values_condition(dialect, column_sql: str, old: str, new: str) -> str | None:
    """SQL true for a non-null value of ``column_sql`` (type ``old``) that type ``new`` would not keep.

    ``None`` when nothing can be lost (a widening). The caller adds ``IS NOT NULL``.
    """
    have, want = type_info(dialect, old), type_info(dialect, new)
    if _fits(have, want):
        return None
    c = column_sql
    if have.family != want.family and (have.family, want.family) not in _CHECKED_ACROSS:
        return "1 = 1"
    if want.family == "integer":
        if have.family == "text":
            number = dialect.SQL_TO_NUMBER.format(c)
            canonical = dialect.regex_sql(c, r"^(0|-?[1-9][0-9]{0,19})")
            return f"(CASE WHEN {canonical} THEN ({number} < {want.low} OR {number} > {want.high}) ELSE 1 = 1 END)"
        return f"({c} < {want.low} OR {c} > {want.high})"
    if want.family == "float":
        if have.family == "float" and have.bits < want.bits:
            # widening: kept where the double is the number the single-precision value reads as
            return f"{dialect.SQL_TO_DOUBLE.format(c)} <> {dialect.SQL_TO_DOUBLE.format(dialect.SQL_TO_TEXT.format(c))}"
        if dialect.SQL_FLOAT32_LOST and want.bits == 24:
            return dialect.SQL_FLOAT32_LOST.format(c)
        return "1 = 1"
    if want.family == "text":
        value = c if have.family == "text" else dialect.SQL_TO_TEXT.format(c)
        conditions = []
        if want.chars is not None:
            conditions.append(f"{dialect.char_length_sql(value)} > {want.chars}")
        if want.bytes is not None:
            conditions.append(f"{dialect.SQL_OCTET_LENGTH.format(value)} > {want.bytes}")
        return "(" + " OR ".join(conditions) + ")" if conditions else None
    return "1 = 1"


def assignment_cast(dialect, old: str, new: str) -> bool:
    """Whether the server converts ``old`` to ``new`` on its own (same family, or to text),
    failing on a value that does not fit rather than cutting it."""
    have, want = type_info(dialect, old), type_info(dialect, new)
    return have.family == want.family or want.family == "text"
