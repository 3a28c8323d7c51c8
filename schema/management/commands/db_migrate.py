"""The migrate phase of a phased upgrade (see :mod:`schema.phases`)."""

from schema.management.phased import PhasedCommand


class Command(PhasedCommand):
    help = "Run the migrate phase: unique constraints, foreign keys, defaults. Refused while expand work is pending."
    phases = ("migrate",)
    records = "migrate"
