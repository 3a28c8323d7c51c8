"""Bring the Nova database to the models' schema, as ``nova-manage db sync`` does.

On an empty database: the whole Essex schema, the five default flavors and
the ``migrate_version`` row (version 82). On a database that is already
there: nothing. In between: every difference, in Nova's three phases
(expand, migrate, contract: see :mod:`schema.phases`) run in order under the
sync lock; data-losing changes only with ``--allow-destructive``, after a
backup. A database with Nova's tables but no version is put under version
control at 82 when it matches the models; one above 82 is refused.
"""

from django.core.management.base import CommandError

from schema.management.base import EXIT_USAGE
from schema.management.phased import PhasedCommand
from schema.management.recoverable import RecoverableSync
from schema.models import MODELS_VERSION


class Command(RecoverableSync, PhasedCommand):
    help = (
        f"Bring the Nova database to the models' schema (version {MODELS_VERSION}): expand, migrate and "
        "contract in order, then record the version."
    )

    def create_parser(self, prog_name, subcommand, **kwargs):
        # --version is nova-manage's target version here, not Django's "print the version".
        return super().create_parser(prog_name, subcommand, conflict_handler="resolve", **kwargs)

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument(
            "--version",
            type=int,
            metavar="N",
            help=f"The version to sync to: only {MODELS_VERSION} (Nova Essex) is supported.",
        )

    def check_options(self, options):
        super().check_options(options)
        if options.get("version") is not None and options["version"] != MODELS_VERSION:
            raise CommandError(
                f"db_sync supports version {MODELS_VERSION} only (the models' version, Nova Essex), "
                f"not {options['version']}",
                returncode=EXIT_USAGE,
            )
