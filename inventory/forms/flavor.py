"""Flavor forms: Nova's API rules (``inventory.flavors``) on Django's form machinery.

- :class:`FlavorForm`: create/edit in the admin; an edit that changes the
  sizing of a flavor instances use stops with a confirmation naming how many
  live and deleted instances it rewrites (``_confirm_sizing``).
- :class:`ExtraSpecForm` / :class:`ExtraSpecFormSet`: the extra-specs inline;
  removing a spec soft-deletes it, as Nova's ``flavor_extra_specs_delete``.
- :class:`CloneFlavorForm`: "clone with new sizing".
"""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.db import router
from django.forms.models import BaseInlineFormSet

from inventory import column_storage, flavors
from inventory.models import Flavor, FlavorExtraSpec

#: The POST key of the in-place sizing confirmation; its value is :func:`usage_token`.
CONFIRM_SIZING = "_confirm_sizing"


def usage_token(usage: flavors.FlavorUsage) -> str:
    """What the confirmation button posts: the counts the operator saw (asked again if they moved)."""
    return f"{usage.live}:{usage.deleted}"


class NovaIntegerField(forms.Field):
    """An integer with ``nova.utils.validate_integer``'s range and messages (no browser-side min)."""

    widget = forms.NumberInput

    def __init__(self, model_field: str, *, default=None, **kwargs):
        self.model_field = model_field
        self.default = default
        kwargs.setdefault("required", default is None)
        super().__init__(**kwargs)

    def to_python(self, value):
        if value in self.empty_values:
            return self.default
        return flavors.validate_integer(value, self.model_field)


class RxtxFactorField(forms.Field):
    widget = forms.TextInput

    def to_python(self, value):
        if value in self.empty_values:
            return 1.0  # nova.compute.flavors.create's default
        return flavors.validate_rxtx_factor(value)


class FlavorFields(forms.Form):
    """The fields and rules a flavor's create, edit and clone share."""

    name = forms.CharField(
        strip=False,
        max_length=None,
        error_messages={"required": "name has a minimum character requirement of 1."},
        help_text="1-255 printable characters, not starting or ending with whitespace.",
    )
    flavorid = forms.CharField(
        label="Flavor ID",
        strip=False,
        required=False,
        help_text="Letters, digits, periods, dashes, underscores, inner spaces. "
        "Leave empty to generate one (a UUID), as Nova does.",
    )
    memory_mb = NovaIntegerField("memory_mb", label="Memory (MB)", help_text="1-2147483647")
    vcpus = NovaIntegerField("vcpus", label="vCPUs", help_text="1-2147483647")
    root_gb = NovaIntegerField("root_gb", label="Root disk (GB)", help_text="0-2147483647")
    ephemeral_gb = NovaIntegerField("ephemeral_gb", default=0, label="Ephemeral disk (GB)", help_text="0-2147483647")
    swap = NovaIntegerField("swap", default=0, label="Swap (MB)", help_text="0-2147483647")

    #: The flavor whose own name/flavorid do not count as duplicates (None: a new one).
    exclude_pk = None
    #: ``{field: value}`` the edited flavor has already: keeping a value makes no new duplicate, so an edit
    #: of a flavor that an older tool left sharing a name or flavorid is not refused for it.
    kept = {}

    def clean_name(self):
        name = flavors.validate_name(self.cleaned_data["name"])
        column_storage.validate_text(name, Flavor, "name", "name")
        if name != self.kept.get("name") and flavors.name_taken(name, exclude_pk=self.exclude_pk):
            raise flavors.name_exists_error(name)
        return name

    def clean_flavorid(self):
        """Nova's format; never a flavorid any other flavor has or had (soft-deleted ones included)."""
        flavorid = self.cleaned_data.get("flavorid") or flavors.generate_flavorid()
        flavorid = flavors.validate_flavorid(flavorid)
        holder = (
            None
            if flavorid == self.kept.get("flavorid")
            else flavors.flavorid_holder(flavorid, exclude_pk=self.exclude_pk)
        )
        if holder is not None:
            raise flavors.flavorid_exists_error(flavorid, holder)
        return flavorid


class FlavorForm(FlavorFields, forms.ModelForm):
    rxtx_factor = RxtxFactorField(
        label="RXTX factor", required=False, help_text="Above 0, at most 3.40282e+38 (default 1.0)."
    )

    class Meta:
        model = Flavor
        fields = ["name", "flavorid", "memory_mb", "vcpus", "root_gb", "ephemeral_gb", "swap", "rxtx_factor"]

    #: Set by clean() when the edit needs the operator's confirmation.
    usage = None
    pending_sizing = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.exclude_pk = self.instance.pk
        if self.instance.pk is not None:
            self.kept = {"name": self.instance.name, "flavorid": self.instance.flavorid}
        if self.instance.pk is None:
            for field, value in (("ephemeral_gb", 0), ("swap", 0), ("rxtx_factor", 1.0)):
                self.fields[field].initial = value

    def clean_rxtx_factor(self):
        return column_storage.validate_float(self.cleaned_data["rxtx_factor"], Flavor, "rxtx_factor", "rxtx_factor")

    def clean(self):
        cleaned = super().clean()
        if self.instance.pk is None or self.errors:
            return cleaned
        changes = flavors.sizing_changes(self.instance, cleaned)
        if not changes:
            return cleaned
        self.usage = flavors.usage(self.instance)
        if self.usage.total == 0 or self.data.get(CONFIRM_SIZING) == usage_token(self.usage):
            return cleaned
        self.pending_sizing = changes
        raise ValidationError(
            f"{self.instance.name} is used by {self.usage}. Changing its sizing in place "
            f"({flavors.describe_changes(changes)}) rewrites their usage history: Essex's usage "
            "reports read the current flavor row. Confirm the in-place edit, or clone with new sizing.",
            code="sizing_in_use",
        )


class CloneFlavorForm(FlavorFields):
    """A new flavor with new sizing; the old one is soft-deleted (``inventory.flavors.clone_with_new_sizing``).

    The name may stay the same (the old flavor stops being live in the same
    transaction). The flavorid must be fresh, unused even by soft-deleted
    flavors (as for every flavor): Essex looks flavors up by flavorid with
    ``read_deleted="yes"`` and would find the old row.
    """

    def __init__(self, *args, old: Flavor, **kwargs):
        super().__init__(*args, **kwargs)
        self.old = old
        self.exclude_pk = old.pk
        self.fields[
            "flavorid"
        ].help_text = "A flavorid no flavor has ever had. Leave empty to generate one (a UUID), as Nova does."

    def clean_flavorid(self):
        flavorid = super().clean_flavorid()
        if flavorid == self.old.flavorid:
            raise flavors.flavorid_exists_error(flavorid, self.old)
        return flavorid

    def sizing(self) -> dict:
        return {field: self.cleaned_data[field] for field in flavors.SIZING_FIELDS}


class ExtraSpecForm(forms.ModelForm):
    key = forms.CharField(strip=False, max_length=None, error_messages={"required": flavors.EXTRA_SPEC_KEY_MESSAGE})
    value = forms.CharField(strip=False, required=False, max_length=None)

    class Meta:
        model = FlavorExtraSpec
        fields = ["key", "value"]

    def clean_key(self):
        return flavors.validate_extra_spec_key(self.cleaned_data["key"])

    def clean_value(self):
        value = flavors.validate_extra_spec_value(self.cleaned_data["value"])
        return column_storage.validate_text(value, FlavorExtraSpec, "value", "extra_specs value")


class ExtraSpecFormSet(BaseInlineFormSet):
    """Live extra specs only; a removed one is soft-deleted; timestamps as Nova sets them.

    A key is live at most once per flavor: twice in the form is refused, and
    so is a new key that the database already holds live for this flavor in
    a row the form does not show (written since the page was opened; checked
    under the flavor write lock).
    """

    def clean(self):
        super().clean()
        seen = set()
        for form in self.forms:
            if not form.has_changed() and form.instance.pk is None:
                continue
            if self._should_delete_form(form) or not hasattr(form, "cleaned_data"):
                continue
            key = form.cleaned_data.get("key")
            if key in seen:
                raise ValidationError(f"Extra spec key {key} is given twice: remove one of them.", code="duplicate_key")
            seen.add(key)
        if self.instance.pk is not None and seen:
            shown = [form.instance.pk for form in self.initial_forms]
            live = FlavorExtraSpec.objects.using(router.db_for_write(FlavorExtraSpec)).live()
            taken = live.filter(flavor_id=self.instance.pk, key__in=seen).exclude(pk__in=shown)
            key = taken.order_by("key").values_list("key", flat=True).first()
            if key is not None:
                raise ValidationError(f"Extra spec key {key} already exists on this flavor.", code="existing_key")

    def save_new(self, form, commit=True):
        form.instance.created_at = flavors.utcnow()
        form.instance.deleted = False
        return super().save_new(form, commit=commit)

    def save_existing(self, form, obj, commit=True):
        obj.updated_at = flavors.utcnow()
        return super().save_existing(form, obj, commit=commit)

    def delete_existing(self, obj, commit=True):
        if commit:
            flavors.soft_delete_extra_spec(obj)
