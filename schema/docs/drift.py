"""Drift status for the docs: the same comparison as ``db_drift``, each difference with its phase.

The phase (expand / migrate / contract) comes from :mod:`schema.phases`, the
same classification ``db_sync`` / ``db_expand`` / ``db_contract`` plan with.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .. import phases
from ..diff import Difference
from ..models import MODELS_VERSION
from ..schema import Schema
from .document import Snapshot


def phases_of(differences: list[Difference], expected: Schema, live: Schema) -> list[str]:
    """The phase of each difference, as :mod:`schema.phases` plans it (``expand → contract`` when it spans two).

    Each difference's operations are classified, then ordered together, so a
    dependency that moves an operation to a later phase shows here too.
    """
    per_difference = [phases.operations([d], expected, live) for d in differences]
    phases.order([op for ops in per_difference for op in ops])  # may move an op to a later phase
    labels = []
    for ops in per_difference:
        found = sorted({op.phase for op in ops}, key=phases.PHASE_RANK.__getitem__)
        labels.append(" → ".join(found) if found else "reported only")  # no operation changes it
    return labels


@dataclass
class DriftStatus:
    version: int | None
    expected_version: int = MODELS_VERSION
    differences: list[tuple[str, Difference]] = field(default_factory=list)
    ignored: int = 0

    @property
    def nothing_to_do(self) -> bool:
        return not self.differences and self.version == self.expected_version

    @property
    def summary(self) -> str:
        if self.nothing_to_do:
            return (
                f"Nothing to do: the schema matches the models at version {self.expected_version} "
                f"({self.ignored} known benign differences ignored)."
            )
        version = "not under version control" if self.version is None else f"at version {self.version}"
        if not self.differences:
            return f"The schema matches the models, but the database is {version}, not {self.expected_version}."
        return f"{len(self.differences)} differences from the models (database {version})."

    def as_dict(self) -> dict:
        return {
            "version": self.version,
            "expected_version": self.expected_version,
            "nothing_to_do": self.nothing_to_do,
            "summary": self.summary,
            "differences": [{**d.as_dict(), "phase": phase} for phase, d in self.differences],
            "ignored": self.ignored,
        }


def drift_status(snap: Snapshot) -> DriftStatus:
    comparison = snap.comparison
    differences = comparison.result.differences
    labels = phases_of(differences, comparison.expected, comparison.live)
    return DriftStatus(
        version=snap.version,
        differences=list(zip(labels, differences, strict=True)),
        ignored=len(comparison.result.ignored),
    )
