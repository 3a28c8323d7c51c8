"""Identifiers and literals in SQL that novaweb writes itself."""

from __future__ import annotations


def quote_identifier(name: str, quote_char: str = '"') -> str:
    """``name`` quoted as an identifier, every embedded quote character doubled.

    Django's ``connection.ops.quote_name`` neither doubles an embedded quote
    nor quotes a name that already starts and ends with one (``x"; DROP TABLE
    instances; --`` or ``"a"`` would escape it), so novaweb never uses it for a
    name it did not write itself. The result is for SQL executed without
    parameters; :meth:`Dialect.quote_for_params` is for SQL with them.
    """
    if "\x00" in name:
        raise ValueError(f"an identifier cannot contain a NUL character: {name!r}")
    return quote_char + name.replace(quote_char, quote_char * 2) + quote_char


def quote_literal(text: str) -> str:
    """``text`` as a standard SQL string literal (quotes doubled), for a name a catalog function reads."""
    if "\x00" in text:
        raise ValueError(f"a string literal cannot contain a NUL character: {text!r}")
    return "'" + text.replace("'", "''") + "'"
