"""Run a management command in-process and get what a shell would: exit code, stdout, stderr."""

from __future__ import annotations

from dataclasses import dataclass
from io import StringIO

from django.core.management import call_command


@dataclass
class Result:
    code: int
    out: str
    err: str


def call(name: str, *args, **options) -> Result:
    out, err = StringIO(), StringIO()
    try:
        call_command(name, *args, stdout=out, stderr=err, **options)
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    return Result(code, out.getvalue(), err.getvalue())
