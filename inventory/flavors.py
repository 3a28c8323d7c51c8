"""Flavor rules: Nova's API validation, flavorid generation, usage counts, soft delete, clone.

Nova's ``instance_types`` table (``Flavor``) and ``instance_type_extra_specs``
(``FlavorExtraSpec``). The validators raise Django's ``ValidationError`` with
Nova's own messages, so the admin forms (``inventory.forms.flavor``) say what
``nova flavor-create`` would say:

- integers: ``nova.utils.validate_integer`` with the API's field names
  (``ram``, ``vcpus``, ``disk``, ``ephemeral``, ``swap``):
  "ram must be >= 1", "disk must be <= 2147483647", "swap must be an integer";
- ``rxtx_factor``: "'rxtx_factor' argument must be a float between 0 and 3.40282e+38";
- name: the API's ``name`` format ("An invalid 'name' value was provided. The
  name must be: printable characters. Can not start or end with whitespace.")
  and ``check_string_length`` ("name has more than 255 characters.");
- flavorid: the API's pattern ``^(?! )[a-zA-Z0-9. _-]+(?<! )$``, matched
  against the whole value (Python's ``$`` also matches before a trailing
  newline: ``"abc\n"`` would pass; every pattern here is ``fullmatch``-ed);
- extra-spec keys: ``nova.compute.flavors.validate_extra_spec_keys``;
- duplicates: ``FlavorExists`` among live flavors (Nova's lookups read
  ``deleted = 0``; a soft-deleted flavor's name is free), ``FlavorIdExists``
  among all flavors: Essex looks flavors up by flavorid with deleted rows
  included, so a flavorid is never used twice. The checks read the primary
  and are only race-free under :func:`inventory.flavor_locks.flavor_write_lock`.

Soft delete is Nova's ``flavor_destroy``: the flavor row and its live extra
specs get ``deleted`` and ``deleted_at`` (``updated_at`` untouched); removing
one extra spec is ``flavor_extra_specs_delete``, a soft delete as well. Rows
are never removed.
"""

from __future__ import annotations

import math
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from django.core.exceptions import ValidationError
from django.db import router, transaction
from django.db.models import Count, Q

from inventory.models import Flavor, FlavorExtraSpec, Instance

#: ``nova.db.constants``: the largest value of a signed 32-bit INT column
#: and of a single-precision FLOAT column.
MAX_INT = 2147483647
SQL_SP_FLOAT_MAX = 3.40282e38

#: Model field -> (the API's name for it, its minimum). ``nova.compute.flavors.create``.
INTEGER_FIELDS = {
    "memory_mb": ("ram", 1),
    "vcpus": ("vcpus", 1),
    "root_gb": ("disk", 0),
    "ephemeral_gb": ("ephemeral", 0),
    "swap": ("swap", 0),
}
#: Fields whose change rewrites the usage history of the instances on a flavor:
#: Essex's usage reports read the current flavor row.
SIZING_FIELDS = tuple(INTEGER_FIELDS)

NAME_MAX_LENGTH = 255
#: Nova's patterns without the anchors: always used with ``fullmatch``.
FLAVORID_RE = re.compile(r"(?! )[a-zA-Z0-9. _-]+(?<! )")
EXTRA_SPEC_KEY_RE = re.compile(r"[a-zA-Z0-9-_:. ]{1,255}")
EXTRA_SPEC_VALUE_MAX_LENGTH = 255

NAME_FORMAT_MESSAGE = (
    "An invalid 'name' value was provided. The name must be: printable characters. "
    "Can not start or end with whitespace."
)
FLAVORID_FORMAT_MESSAGE = (
    "Flavor id can only contain letters from A-Z (both cases), periods, dashes, underscores and spaces."
)
EXTRA_SPEC_KEY_MESSAGE = (
    "Key Names can only contain alphanumeric characters, periods, dashes, underscores, colons and spaces."
)
RXTX_FACTOR_MESSAGE = f"'rxtx_factor' argument must be a float between 0 and {SQL_SP_FLOAT_MAX:g}"


def utcnow() -> datetime:
    """Naive UTC, whole seconds: what Nova's columns hold (MySQL DATETIME keeps no fraction)."""
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)


def generate_flavorid() -> str:
    """A new flavorid, as ``nova.compute.flavors.create`` makes one when none is given."""
    return str(uuid.uuid4())


# --- validators: each returns the clean value or raises ValidationError -------------


def _too_long(name: str, max_length: int) -> ValidationError:
    # nova.utils.check_string_length
    return ValidationError(f"{name} has more than {max_length} characters.", code="max_length")


def _too_short(name: str, min_length: int) -> ValidationError:
    return ValidationError(f"{name} has a minimum character requirement of {min_length}.", code="min_length")


def validate_name(value) -> str:
    value = "" if value is None else str(value)
    if not value:
        raise _too_short("name", 1)
    if len(value) > NAME_MAX_LENGTH:
        raise _too_long("name", NAME_MAX_LENGTH)
    if not value.isprintable() or value != value.strip():
        raise ValidationError(NAME_FORMAT_MESSAGE, code="name_format")
    return value


def validate_flavorid(value) -> str:
    value = str(value)
    if len(value) > NAME_MAX_LENGTH:
        raise _too_long("id", NAME_MAX_LENGTH)
    if not FLAVORID_RE.fullmatch(value):
        raise ValidationError(FLAVORID_FORMAT_MESSAGE, code="flavorid_format")
    return value


def validate_integer(value, field: str) -> int:
    """``nova.utils.validate_integer`` for one of :data:`INTEGER_FIELDS`."""
    api_name, min_value = INTEGER_FIELDS[field]
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        raise ValidationError(f"{api_name} must be an integer", code="integer") from None
    if number < min_value:
        raise ValidationError(f"{api_name} must be >= {min_value}", code="min_value")
    if number > MAX_INT:
        raise ValidationError(f"{api_name} must be <= {MAX_INT}", code="max_value")
    return number


def validate_rxtx_factor(value) -> float:
    try:
        number = float(str(value).strip())
    except (TypeError, ValueError):
        raise ValidationError(RXTX_FACTOR_MESSAGE, code="rxtx_factor") from None
    # NaN compares false both ways; Nova would let it through, no database stores it.
    if math.isnan(number) or number <= 0 or number > SQL_SP_FLOAT_MAX:
        raise ValidationError(RXTX_FACTOR_MESSAGE, code="rxtx_factor")
    return number


def validate_extra_spec_key(value) -> str:
    value = "" if value is None else str(value)
    if len(value) > NAME_MAX_LENGTH:
        raise _too_long("extra_specs key", NAME_MAX_LENGTH)
    if not EXTRA_SPEC_KEY_RE.fullmatch(value):
        raise ValidationError(EXTRA_SPEC_KEY_MESSAGE, code="extra_spec_key")
    return value


def validate_extra_spec_value(value) -> str:
    value = "" if value is None else str(value)
    if len(value) > EXTRA_SPEC_VALUE_MAX_LENGTH:
        raise _too_long("extra_specs value", EXTRA_SPEC_VALUE_MAX_LENGTH)
    return value


# --- uniqueness among live flavors ---------------------------------------------------


def name_taken(name: str, *, exclude_pk=None, using=None) -> bool:
    """A live flavor (other than ``exclude_pk``) has this name; read from the primary."""
    rows = Flavor.objects.using(using or router.db_for_write(Flavor)).live().filter(name=name)
    return rows.exclude(pk=exclude_pk).exists() if exclude_pk is not None else rows.exists()


def flavorid_holder(flavorid: str, *, exclude_pk=None, using=None) -> Flavor | None:
    """A flavor, live or soft-deleted (other than ``exclude_pk``), that has this flavorid; live ones first."""
    rows = Flavor.objects.using(using or router.db_for_write(Flavor)).filter(flavorid=flavorid)
    if exclude_pk is not None:
        rows = rows.exclude(pk=exclude_pk)
    return rows.order_by("deleted", "pk").first()


def name_exists_error(name: str) -> ValidationError:
    return ValidationError(f"Flavor with name {name} already exists.", code="flavor_exists")


def flavorid_exists_error(flavorid: str, holder: Flavor | None = None) -> ValidationError:
    message = f"Flavor with ID {flavorid} already exists."
    if holder is not None and holder.deleted:
        message += (
            f" It belonged to {holder.name} (id {holder.pk}), soft-deleted: Nova still finds that flavor by"
            " this flavorid, so it is never used again."
        )
    return ValidationError(message, code="flavorid_exists")


# --- usage -----------------------------------------------------------------------------


@dataclass(frozen=True)
class FlavorUsage:
    live: int
    deleted: int

    @property
    def total(self) -> int:
        return self.live + self.deleted

    def __str__(self) -> str:
        return f"{self.live} live and {self.deleted} deleted instances"


def usage(flavor: Flavor, *, using=None) -> FlavorUsage:
    """How many instances reference ``flavor`` (``instances.instance_type_id``), live and deleted.

    One aggregate query. ``instance_type_id`` has no index in Essex's schema, so
    this reads the instances table once; it runs on a flavor's own pages only.
    """
    counts = (
        Instance.objects.using(using or router.db_for_read(Instance))
        .filter(flavor_id=flavor.pk)
        .aggregate(live=Count("pk", filter=~Q(deleted=True)), deleted=Count("pk", filter=Q(deleted=True)))
    )
    return FlavorUsage(live=counts["live"] or 0, deleted=counts["deleted"] or 0)


def sizing_changes(old: Flavor | dict, new: dict) -> dict:
    """``{field: (old, new)}`` for the sizing fields ``new`` changes."""

    def get(obj, field):
        return obj.get(field) if isinstance(obj, dict) else getattr(obj, field)

    return {
        field: (get(old, field), new[field])
        for field in SIZING_FIELDS
        if field in new and get(old, field) != new[field]
    }


def describe_changes(changes: dict) -> str:
    """``memory_mb 2048 → 4096, vcpus 1 → 2``."""
    return ", ".join(f"{field} {old} → {new}" for field, (old, new) in changes.items())


# --- writes ----------------------------------------------------------------------------


def soft_delete_extra_specs(flavor: Flavor, *, now=None, using=None) -> int:
    """Nova's ``soft_delete`` of a flavor's live extra specs (``updated_at`` untouched)."""
    return (
        FlavorExtraSpec.objects.using(using or router.db_for_write(FlavorExtraSpec))
        .live()
        .filter(flavor_id=flavor.pk)
        .update(deleted=True, deleted_at=now or utcnow())
    )


def soft_delete(flavor: Flavor, *, now=None, using=None) -> None:
    """Nova's ``flavor_destroy``: the row stays, ``deleted`` and ``deleted_at`` are set; so for its specs."""
    now = now or utcnow()
    using = using or router.db_for_write(Flavor)
    Flavor.objects.using(using).filter(pk=flavor.pk).update(deleted=True, deleted_at=now)
    flavor.deleted, flavor.deleted_at = True, now
    soft_delete_extra_specs(flavor, now=now, using=using)


def soft_delete_extra_spec(spec: FlavorExtraSpec, *, now=None) -> None:
    """Nova's ``flavor_extra_specs_delete``: a soft delete of one key."""
    spec.deleted, spec.deleted_at = True, now or utcnow()
    spec.save(update_fields=["deleted", "deleted_at"])


def clone_with_new_sizing(old: Flavor, *, name: str, flavorid: str | None, sizing: dict, using=None) -> Flavor:
    """A new flavor with ``sizing``, the other columns and live extra specs of ``old``; ``old`` soft-deleted.

    Instances keep ``instance_type_id`` pointing at the old row, whose sizing
    no longer changes: their usage history stays true. ``old`` is soft-deleted
    first, so the clone may keep its name (names are unique among live flavors).
    """
    using = using or router.db_for_write(Flavor)
    now = utcnow()
    with transaction.atomic(using=using):
        specs = list(FlavorExtraSpec.objects.using(using).live().filter(flavor_id=old.pk).order_by("pk"))
        soft_delete(old, now=now, using=using)
        new = Flavor(
            name=name,
            flavorid=flavorid or generate_flavorid(),
            memory_mb=old.memory_mb,
            vcpus=old.vcpus,
            root_gb=old.root_gb,
            ephemeral_gb=old.ephemeral_gb,
            swap=old.swap,
            vcpu_weight=old.vcpu_weight,
            rxtx_factor=old.rxtx_factor,
            created_at=now,
            deleted=False,
        )
        for field, value in sizing.items():
            if field in SIZING_FIELDS:
                setattr(new, field, value)
        new.save(using=using)
        FlavorExtraSpec.objects.using(using).bulk_create(
            FlavorExtraSpec(flavor=new, key=s.key, value=s.value, created_at=now, deleted=False) for s in specs
        )
    new.copied_extra_specs = len(specs)
    return new
