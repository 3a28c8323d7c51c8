"""Edit conflicts on a flavor: the version a change page was opened at, and what changed since.

A change page carries :func:`token` (signed) in a hidden field: the flavor's
columns and its live extra specs as the page showed them, and the newest
admin-history entry for it at that time. A save compares the token with the
row as it is now, under the flavor write lock (:mod:`inventory.flavor_locks`);
when they differ, nothing is saved and :class:`Conflict` says who changed what
and when (from the admin history; "outside this admin" when Nova or another
tool wrote the row), and which of the user's own changes were not saved.
Comparing values rather than ``updated_at`` (whole seconds, and not set by
every writer) catches two saves within one second and writes from outside.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core import signing

from inventory.models import Flavor, FlavorExtraSpec

#: The POST key of the version.
FIELD_NAME = "_flavor_version"
SALT = "novaweb.flavor_version"
#: Columns the version covers (every column a page shows or a save writes).
FIELDS = ("name", "flavorid", "memory_mb", "vcpus", "root_gb", "ephemeral_gb", "swap", "rxtx_factor", "vcpu_weight")
#: Columns the change form edits (the user's own unsaved changes are reported for these).
FORM_FIELDS = FIELDS[:-1]


def history(pk):
    """The admin-history entries of flavor ``pk`` (Django's own database)."""
    return LogEntry.objects.filter(content_type=ContentType.objects.get_for_model(Flavor), object_id=str(pk))


def snapshot(pk, *, using: str) -> dict:
    """The flavor ``pk`` as it is in the database ``using`` now."""
    flavor = Flavor.objects.using(using).get(pk=pk)
    specs = FlavorExtraSpec.objects.using(using).live().filter(flavor_id=pk).order_by("pk")
    return {
        "fields": {field: getattr(flavor, field) for field in FIELDS},
        "deleted": bool(flavor.deleted),
        "specs": [[s.pk, s.key, s.value] for s in specs],
    }


def token(pk, *, using: str) -> str:
    """What a change page carries: the snapshot and the newest history entry's id, signed."""
    last = history(pk).order_by("-pk").values_list("pk", flat=True).first()
    return signing.dumps({**snapshot(pk, using=using), "log": last}, salt=SALT)


@dataclass
class Conflict:
    flavor: Flavor
    #: ``field old → new`` phrases: what changed since the page was opened.
    changes: list
    #: Who and when, from the admin history (empty: written outside this admin).
    entries: list
    #: ``field old → new`` phrases: the user's changes that were not saved.
    unsaved: list
    #: The page carried no readable version.
    unknown: bool = False

    def message(self) -> str:
        this = f"This flavor ({self.flavor.name})"
        if self.unknown:
            head = f"{this} could not be checked for changes made since you opened it (the form carried no version)"
        else:
            head = f"{this} was {self._by_whom()} since you opened it"
            if self.changes:
                head += ": " + ", ".join(self.changes)
        yours = f" ({', '.join(self.unsaved)})" if self.unsaved else ""
        return (
            f"{head}. Your changes were not saved{yours}; the page shows the current values: "
            "make your changes again on them."
        )

    def _by_whom(self) -> str:
        verb = "soft-deleted" if self.flavor.deleted else "changed"
        if not self.entries:
            return f"{verb} outside this admin"
        last = self.entries[-1]
        more = f" (and {len(self.entries) - 1} earlier changes)" if len(self.entries) > 1 else ""
        return f"{verb} by {last.user.get_username()} at {last.action_time:%Y-%m-%d %H:%M:%S} UTC{more}"


def _phrase(field, old, new):
    return f"{field} {old} → {new}"


def _spec_phrases(before, after):
    before = {pk: (key, value) for pk, key, value in before}
    after = {pk: (key, value) for pk, key, value in after}
    phrases = [f"extra spec {k}={v} added" for pk, (k, v) in after.items() if pk not in before]
    phrases += [f"extra spec {k}={v} removed" for pk, (k, v) in before.items() if pk not in after]
    phrases += [
        f"extra spec {before[pk][0]}={before[pk][1]} → {k}={v}"
        for pk, (k, v) in after.items()
        if pk in before and before[pk] != (k, v)
    ]
    return phrases


def _same(posted, original) -> bool:
    if str(posted) == str(original) or (posted == "" and original is None):
        return True
    try:
        return float(posted) == float(original)
    except (TypeError, ValueError):
        return False


def conflict(flavor: Flavor, data, *, using: str) -> Conflict | None:
    """None when ``data`` (a change form's POST) was made from the flavor as it is now; else the conflict."""
    try:
        opened = signing.loads(data.get(FIELD_NAME, ""), salt=SALT)
    except signing.BadSignature:
        return Conflict(flavor, [], [], [], unknown=True)
    current = snapshot(flavor.pk, using=using)
    if {k: opened.get(k) for k in current} == current:
        return None
    changes = [
        _phrase(field, opened["fields"].get(field), value)
        for field, value in current["fields"].items()
        if opened["fields"].get(field) != value
    ]
    if current["deleted"] and not opened.get("deleted"):
        changes.append("soft-deleted")
    changes += _spec_phrases(opened.get("specs", []), current["specs"])
    entries = list(history(flavor.pk).filter(pk__gt=opened.get("log") or 0).select_related("user").order_by("pk"))
    unsaved = [
        _phrase(field, opened["fields"].get(field), data[field])
        for field in FORM_FIELDS
        if field in data and not _same(data[field], opened["fields"].get(field))
    ]
    return Conflict(flavor, changes, entries, unsaved)
