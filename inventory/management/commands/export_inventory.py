"""``manage.py export_inventory MODEL [--filter NAME=VALUE ...] [--format csv|jsonl] [--output FILE] [--raw]``.

The admin's "Export CSV" for scripts and cron: the same list (MODEL: ``instance``,
``instances``, ``inventory.instance``, ``fixedip``...), the same query parameters
(``--filter`` takes what the list's query string takes: ``host=compute-001``,
``vm_state=active``, ``deleted=all``, ``q=<search>``, ``o=<sort>``), the same
columns and cell rules (``inventory.exports``). JSON lines: one object per
row, keyed by the CSV's headers.

``--output FILE`` is written next to FILE and renamed over it when complete:
FILE is never a partial export. A row count goes to a terminal while it runs.
Exit 2 (one line) on an unknown model, a filter the list does not offer, or a
value its column cannot hold.
"""

from __future__ import annotations

import io
import os
import sys
import tempfile
from pathlib import Path

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.core.management.base import CommandError
from django.test import RequestFactory

from inventory.admin.base import ReadOnlyAdmin
from inventory.admin.query_string import QueryStringError
from inventory.exports.columns import list_columns
from inventory.exports.query import export_query
from inventory.exports.writers import FORMATS, write
from novaweb.router import nova_alias
from schema.management.base import EXIT_FLOW, EXIT_USAGE, NovaCommand


def exportable_admins() -> dict[str, ReadOnlyAdmin]:
    """Every exportable list by the names the command accepts."""
    names = {}
    for model, model_admin in admin.site._registry.items():
        if isinstance(model_admin, ReadOnlyAdmin):
            opts = model._meta
            for name in (opts.model_name, opts.label_lower, str(opts.verbose_name_plural).replace(" ", "")):
                names[name.lower()] = model_admin
    return names


def find_admin(name: str) -> ReadOnlyAdmin:
    admins = exportable_admins()
    key = name.lower().replace(" ", "").replace("_", "")
    found = admins.get(key) or admins.get(name.lower())
    if found is None:
        choices = sorted({a.model._meta.model_name for a in admins.values()})
        raise CommandError(f"unknown model {name!r}; one of: {', '.join(choices)}", returncode=EXIT_USAGE)
    return found


def parse_filters(filters: list[str]) -> list[tuple[str, str]]:
    pairs = []
    for item in filters:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise CommandError(f"--filter {item!r}: expected NAME=VALUE", returncode=EXIT_USAGE)
        pairs.append((name, value))
    return pairs


def list_request(pairs):
    """A GET of the list with ``pairs`` as its query string, by a superuser (the command's user sees all)."""
    request = RequestFactory().get("/", pairs)
    request.user = get_user_model()(username="export_inventory", is_active=True, is_staff=True, is_superuser=True)
    return request


class TerminalCount:
    """``exported N rows`` redrawn on a terminal; nothing otherwise."""

    def __init__(self, stream):
        self.stream = stream
        self.enabled = bool(getattr(stream, "isatty", None) and stream.isatty())

    def __call__(self, rows: int) -> None:
        if self.enabled:
            self.stream.write(f"\rexported {rows} rows")
            self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self.stream.write("\n")


class Command(NovaCommand):
    help = "Export an inventory list (the admin's columns, filters and cell rules) as CSV or JSON lines."

    def add_arguments(self, parser):
        parser.add_argument("model", help="The list: instance, network, fixedip, floatingip, computenode, ...")
        parser.add_argument(
            "--filter",
            action="append",
            default=[],
            metavar="NAME=VALUE",
            help="A query parameter of the list (its filters, q=search, o=sort); repeatable.",
        )
        parser.add_argument("--format", choices=FORMATS, default="csv")
        parser.add_argument("--output", help="Write to this file (renamed into place when complete); default stdout.")
        parser.add_argument("--raw", action="store_true", help="Text as stored: no leading ' on formula-like cells.")

    def handle(self, *args, **options):
        with nova_alias(options["database"]):  # the list's queryset reads the database named here
            self.export(options)

    def export(self, options):
        model_admin = find_admin(options["model"])
        request = list_request(parse_filters(options["filter"]))
        connection = self.connect(options["database"])
        self.require_nova_schema(connection)
        try:
            changelist = model_admin.get_changelist_instance(request)
        except QueryStringError as exc:
            raise CommandError(f"refused: {exc}", returncode=EXIT_USAGE) from None
        columns = list_columns(model_admin, request)
        query = export_query(changelist.queryset, columns, connection, raw=options["raw"])
        progress = TerminalCount(sys.stderr)
        if options["output"]:
            rows = self.write_file(Path(options["output"]), query, connection, options["format"], progress)
            self.stderr.write(f"exported {rows} rows to {options['output']}")
        else:
            self.write_stdout(query, connection, options["format"], progress)
        progress.close()

    def write_file(self, target: Path, query, connection, fmt, progress) -> int:
        fd, partial = tempfile.mkstemp(dir=target.parent or ".", prefix=f".{target.name}.", suffix=".partial")
        try:
            with os.fdopen(fd, "wb") as out:
                rows = write(query, connection, out, fmt, progress)
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(partial, 0o666 & ~umask)  # as a plain open() would have made it
            os.replace(partial, target)
        except BaseException:
            Path(partial).unlink(missing_ok=True)
            raise
        return rows

    def write_stdout(self, query, connection, fmt, progress) -> int:
        stream = getattr(self.stdout._out, "buffer", None)
        if stream is not None:
            self.stdout.flush()
            try:
                rows = write(query, connection, stream, fmt, progress)
                stream.flush()
            except BrokenPipeError:  # ``| head``: the reader has what it wanted
                os.dup2(os.open(os.devnull, os.O_WRONLY), stream.fileno())
                raise CommandError("stdout closed before the export ended", returncode=EXIT_FLOW) from None
            return rows
        buffer = io.BytesIO()  # a text stream (call_command(stdout=StringIO()))
        rows = write(query, connection, buffer, fmt, progress)
        self.stdout.write(buffer.getvalue().decode(), ending="")
        return rows
