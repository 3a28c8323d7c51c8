"""Run a management command in-process and get what a shell would: exit code, stdout, stderr."""

from __future__ import annotations

from dataclasses import dataclass
from io import StringIO

from django.core.management import CommandError, call_command

from schema.management.base import failure_line


@dataclass
class Result:
    code: int
    out: str
    err: str


def call(name: str, *args, **options) -> Result:
    """``call_command``, with a ``CommandError`` turned into its exit code and its line on stderr."""
    out, err = StringIO(), StringIO()
    try:
        call_command(name, *args, stdout=out, stderr=err, **options)
        code = 0
    except CommandError as exc:
        code = exc.returncode
        line = failure_line(exc)
        if line:
            err.write(line + "\n")
    return Result(code, out.getvalue(), err.getvalue())


def backups_made(result: Result) -> list[str]:
    """The backup tables a sync's output names ("Backed up N rows for '...' into TABLE")."""
    return [line.split(" into ")[1] for line in result.out.splitlines() if line.startswith("Backed up")]
