"""The expand phase of a phased upgrade (see :mod:`schema.phases`)."""

from schema.management.phased import PhasedCommand
from schema.management.recoverable import RecoverableSync


class Command(RecoverableSync, PhasedCommand):
    help = "Run the expand phase: create tables, add columns and indexes, relax and widen; old code keeps working."
    phases = ("expand",)
    records = "expand"
