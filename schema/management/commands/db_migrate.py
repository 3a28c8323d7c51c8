"""The migrate phase of a phased upgrade (see :mod:`schema.phases`)."""

from schema.management.phased import PhasedCommand
from schema.management.recoverable import RecoverableSync


class Command(RecoverableSync, PhasedCommand):
    help = "Run the migrate phase: unique constraints, foreign keys, defaults. Refused while expand work is pending."
    phases = ("migrate",)
    records = "migrate"
