"""Names read from a database, written out as text.

A table, column or index name can hold anything its server allows: quotes,
backticks, slashes, spaces, ``%``, markup, newlines and other control
characters (SQLite and MariaDB accept them), unicode. Each output has one
function here; SQL identifiers are the dialect's (``Dialect.quote``).

- :func:`printable`: for a terminal, a diagram label or a one-line message:
  control and format characters (newlines, ANSI escapes, bidi overrides)
  shown as escapes, so a name cannot break a line, a table or an SQL comment.
- :func:`sql_comment`: a line of SQL comment (a dry run's script) that a name
  cannot end early: what follows a newline in a name would run.
- :func:`shell_word`: a name as one word to paste into a shell command.
- :func:`html_id`: an identifier safe in an HTML ``id``, a URL fragment, a URL
  path segment and a Graphviz node id; distinct names give distinct ids, and
  a plain name (``fixed_ips``) is its own id.
"""

from __future__ import annotations

import re
import shlex

_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
_ID_SAFE = re.compile(r"[A-Za-z0-9_]")


def _escape(char: str) -> str:
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def printable(text) -> str:
    """``text`` on one line, every non-printing character written as a Python-style escape.

    Non-printing as Python's ``str.isprintable`` has it: controls, format
    characters (bidi overrides, zero-width), separators other than the space.
    """
    text = "" if text is None else str(text)
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else _escape(c) for c in text)


def sql_comment(text) -> str:
    """``-- text`` on one line, whatever ``text`` holds."""
    return f"-- {printable(text)}"


def shell_word(name: str) -> str:
    """``name`` quoted for a POSIX shell (bash's ``$'...'`` when it holds a non-printing character)."""
    if name.isprintable():
        return shlex.quote(name)
    escaped = printable(name.replace("\\", "\\\\").replace("'", "\\'"))
    return f"$'{escaped}'"


def html_id(name: str) -> str:
    """``name`` with every character but ``[A-Za-z0-9_]`` written as ``-`` and two hex digits per UTF-8 byte.

    Injective (``-`` only ever starts an escape), and matches Django's ``slug``
    path converter; the empty name (SQLite allows it) is ``-``.
    """
    if not name:
        return "-"
    return "".join(
        c if _ID_SAFE.match(c) else "".join(f"-{b:02x}" for b in c.encode("utf-8", "surrogatepass")) for c in name
    )
