"""``manage.py seed_demo [--instances N] [--seed S] [--database ALIAS]``: fill a Nova database with a demo cloud.

Deterministic: the same ``--instances`` and ``--seed`` give the same rows.
Refuses (exit 1) when the database already has instances: it adds a cloud to
an empty Nova schema, never to a real one; exit 2 without Nova's schema (run
``db_sync`` first).
"""

from __future__ import annotations

import time

from django.core.management.base import CommandError

from inventory.demo_cloud import DemoCloud
from inventory.models import Instance
from schema.management.base import EXIT_FLOW, EXIT_USAGE, NovaCommand
from schema.progress import Progress


class Command(NovaCommand):
    help = "Fill an empty Nova database with a realistic, deterministic demo cloud."
    json_output = True

    def add_arguments(self, parser):
        parser.add_argument("--instances", type=int, default=2000, help="Instances to create (default: %(default)s).")
        parser.add_argument("--seed", type=int, default=42, help="Random seed (default: %(default)s).")

    def handle(self, *args, **options):
        alias = options["database"]
        count = options["instances"]
        if count < 1:
            raise CommandError("--instances must be at least 1", returncode=EXIT_USAGE)
        connection = self.connect(alias)
        self.require_nova_schema(connection)
        existing = Instance.objects.using(alias).exists()
        if existing:
            raise CommandError(
                f"the '{alias}' database already has instances: seed_demo fills an empty one", returncode=EXIT_FLOW
            )
        started = time.monotonic()
        with Progress(count, "instances", stream=self.stderr._out) as bar:
            cloud = DemoCloud(connection, instances=count, seed=options["seed"], progress=bar)
            counts = cloud.build()
        elapsed = time.monotonic() - started
        if cloud.load_note:
            self.stderr.write(f"note: {cloud.load_note}")
        if options.get("format") == "json":
            report = {"database": alias, "seconds": round(elapsed, 2), "method": cloud.load_method, "rows": counts}
            self.emit_json(report)
        else:
            total = sum(counts.values())
            tables = len(counts)
            self.stdout.write(
                f"seeded {counts['instances']} instances ({total} rows, {tables} tables) in {elapsed:.1f}s"
                f" ({cloud.load_method})"
            )
