"""Write the schema docs and diagram of a Nova database: HTML, Markdown, DOT or JSON."""

from pathlib import Path

from django.core.management.base import CommandError

from schema.docs.document import document
from schema.docs.drift import drift_status
from schema.docs.erd import dot_source
from schema.docs.lint import lint
from schema.docs.render import to_html, to_json, to_markdown
from schema.management.base import EXIT_USAGE, NovaCommand, describe_database

FORMATS = ("html", "markdown", "dot", "json")


class Command(NovaCommand):
    help = (
        "Write the Nova database's schema docs: tables by area, columns, keys, relations (with and without "
        "constraints), estimated rows, drift, lint and an ERD. HTML is one self-contained file (inline SVG)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--format", choices=FORMATS, default="html", help="Output format (default: html).")
        parser.add_argument("--output", metavar="PATH", help="Write to PATH instead of standard output.")
        parser.add_argument("--table", help="dot only: the diagram of this table and its neighbours.")

    def handle(self, *args, **options):
        if options["output"] == "":
            raise CommandError("--output needs a path (without it: standard output)", returncode=EXIT_USAGE)
        if options["table"] is not None and options["format"] != "dot":
            raise CommandError(
                f"--table draws one table's diagram: use it with --format dot, not {options['format']}",
                returncode=EXIT_USAGE,
            )
        output = Path(options["output"]) if options["output"] else None
        if output is not None and not output.parent.is_dir():
            raise CommandError(f"cannot write {output}: no directory {output.parent}", returncode=EXIT_USAGE)
        connection = self.connect(options["database"])
        doc, snap = document(connection)
        table = options["table"]
        if table and table not in doc.tables:
            raise CommandError(
                f"unknown table '{table}' (see db_schema_doc --format json for the list)", returncode=EXIT_USAGE
            )
        fmt = options["format"]
        if fmt == "dot":
            text = dot_source(doc, table)
        else:
            render = {"html": to_html, "markdown": to_markdown, "json": to_json}[fmt]
            text = render(doc, lint(doc), drift_status(snap), database=describe_database(options["database"]))
        if output is None:
            self.stdout.write(text, ending="" if text.endswith("\n") else "\n")
            return
        try:
            output.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise CommandError(f"cannot write {output}: {exc.strerror or exc}", returncode=EXIT_USAGE) from None
        self.stderr.write(f"Wrote {fmt} docs of {len(doc.tables)} tables to {output}.")
