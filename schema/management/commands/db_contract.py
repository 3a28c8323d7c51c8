"""The contract phase of a phased upgrade (see :mod:`schema.phases`)."""

from schema.management.phased import PhasedCommand
from schema.management.recoverable import RecoverableSync


class Command(RecoverableSync, PhasedCommand):
    help = "Run the contract phase: drop, tighten, narrow. Refused while expand or migrate work is pending."
    phases = ("contract",)
    records = "contract"
