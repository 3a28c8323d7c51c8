"""Reading a ``--plan FILE``: JSON made by ``--dry-run --format json``, checked against its JSON Schema.

Whatever the file holds, the answer is a plan dict whose fields have the
types :func:`schema.plan.verify_plan_file` reads, or :class:`PlanError` with
one line saying where the file is wrong (the command exits 2 with it).
"""

from __future__ import annotations

import functools
import json

from .plan import PLAN_FORMAT, PlanError

STATEMENT = {
    "type": "object",
    "required": ["sql"],
    "properties": {
        "sql": {"type": "string", "minLength": 1},
        "transactional": {"type": "boolean"},
        "fallback": {"type": ["string", "null"]},
    },
}
OPERATION = {
    "type": "object",
    "required": ["phase", "statements"],
    "properties": {"phase": {"type": "string"}, "statements": {"type": "array", "items": STATEMENT}},
}
PLAN_SCHEMA = {
    "type": "object",
    "required": ["format", "vendor", "fingerprint", "operations"],
    "properties": {
        "format": {"const": PLAN_FORMAT},
        "vendor": {"type": "string"},
        "fingerprint": {"type": "string", "pattern": "^sha256:[0-9a-f]{64}$"},
        "phases": {"type": "array", "items": {"type": "string"}},
        "operations": {"type": "array", "items": OPERATION},
    },
}


@functools.cache
def _validator():
    """jsonschema costs 45 ms to import: only a run given ``--plan FILE`` pays for it."""
    import jsonschema

    return jsonschema.Draft202012Validator(PLAN_SCHEMA)


def load_plan_file(path: str) -> dict:
    """The plan in ``path``, or :class:`PlanError` naming what is wrong with it."""
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except OSError as exc:
        raise PlanError(f"cannot read plan file {path}: {exc.strerror or exc}") from None
    except (ValueError, RecursionError) as exc:  # not JSON, not UTF-8, nested too deep
        raise PlanError(f"plan file {path} is not JSON: {_first_line(exc)}") from None
    check_plan(data, path)
    return data


def check_plan(data, path: str = "the plan") -> None:
    if not isinstance(data, dict) or data.get("format") != PLAN_FORMAT:
        raise PlanError(f"plan file {path} is not a novaweb plan (made by --dry-run --format json)")
    import jsonschema

    error = jsonschema.exceptions.best_match(_validator().iter_errors(data))
    if error is not None:
        where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path) or "the top level"
        raise PlanError(
            f"plan file {path} is not a valid novaweb plan at {where.lstrip('.')}: {_first_line(error.message)} "
            "(make a new one with --dry-run --format json)"
        )


def _first_line(error) -> str:
    text = str(error).strip()
    line = text.splitlines()[0] if text else type(error).__name__
    return line if len(line) <= 200 else line[:197] + "..."
