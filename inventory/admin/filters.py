"""List filters that never scan the table for their choices.

Django's default field filters list ``SELECT DISTINCT`` values of the column
(and, with facets, count rows per value): a full scan of a million rows on
every page view. These take their choices from Nova's fixed state
vocabularies or from small lookup tables (``services``, ``instance_types``,
``projects``) instead.
"""

from __future__ import annotations

from urllib.parse import quote_plus

from django.contrib import admin
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from inventory import states
from inventory.models import Flavor, Project, Service

from .query_string import nova_alias, value_refusal


class DeletedFilter(admin.SimpleListFilter):
    """Soft-deleted rows are hidden unless asked for: live (default) / deleted / all."""

    title = "deleted"
    parameter_name = "deleted"
    CHOICES = (("live", "Live"), ("deleted", "Soft-deleted"), ("all", "All"))

    @classmethod
    def refusal(cls, value, model_admin):
        """Why ``value`` is not one of the filter's choices (the query-string check, ``query_string``)."""
        choices = [choice for choice, _ in cls.CHOICES]
        return None if value in choices else f"expected one of {', '.join(choices)}."

    def lookups(self, request, model_admin):
        return self.CHOICES[1:]

    def choices(self, changelist):
        current = self.value() or "live"
        for value, label in self.CHOICES:
            remove = [self.parameter_name] if value == "live" else []
            add = {} if value == "live" else {self.parameter_name: value}
            yield {
                "selected": current == value,
                "query_string": changelist.get_query_string(add, remove),
                "display": label,
            }

    def queryset(self, request, queryset):
        value = self.value()
        if value == "deleted":
            return queryset.filter(deleted=True)
        if value == "all":
            return queryset
        return queryset.exclude(deleted=True)


class ChoiceFilter(admin.SimpleListFilter):
    """Equality on ``field`` against a fixed list of choices (``none`` for NULL when ``nullable``)."""

    field = ""
    nullable = False

    def choice_list(self, request):
        raise NotImplementedError

    @classmethod
    def refusal(cls, value, model_admin):
        """Why ``value`` cannot be in the filtered column (the query-string check, ``query_string``)."""
        if value == "none" and cls.nullable:
            return None
        field = model_admin.model._meta.get_field(cls.field)
        return value_refusal(field, value, nova_alias(model_admin))

    def lookups(self, request, model_admin):
        choices = list(self.choice_list(request))
        if self.nullable:
            choices.append(("none", "(none)"))
        return choices

    def queryset(self, request, queryset):
        value = self.value()
        if value is None:
            return queryset
        if value == "none" and self.nullable:
            return queryset.filter(**{f"{self.field}__isnull": True})
        return queryset.filter(**{self.field: value})


def choice_query_strings(changelist, parameter: str):
    """``value -> changelist.get_query_string({parameter: value})``, the other parameters encoded once.

    ``get_query_string`` copies and encodes every parameter of the list for each
    link; a drop-down of 400 hosts asks for 400 links that differ in one value.
    """
    others = sorted((key, value) for key, value in changelist.filter_params.items() if key != parameter)
    head = urlencode([(key, value) for key, value in others if key < parameter], doseq=True)
    tail = urlencode([(key, value) for key, value in others if key > parameter], doseq=True)
    head, tail = (f"?{head}&" if head else "?"), (f"&{tail}" if tail else "")
    key = quote_plus(parameter)

    def query_string(value) -> str:
        return f"{head}{key}={quote_plus(str(value))}{tail}"

    return query_string


class SelectFilter(ChoiceFilter):
    """A choice filter drawn as a drop-down: for lists longer than a sidebar."""

    template = "admin/inventory/select_filter.html"

    def choices(self, changelist):
        """``SimpleListFilter.choices`` (facets are never shown), with the links of :func:`choice_query_strings`."""
        current = self.value()
        yield {
            "selected": current is None,
            "query_string": changelist.get_query_string(remove=[self.parameter_name]),
            "display": _("All"),
        }
        link = choice_query_strings(changelist, self.parameter_name)
        for lookup, title in self.lookup_choices:
            yield {"selected": current == str(lookup), "query_string": link(lookup), "display": title}


class VmStateFilter(ChoiceFilter):
    title = "VM state"
    parameter_name = field = "vm_state"

    def choice_list(self, request):
        return [(s, s) for s in states.VM_STATES]


class TaskStateFilter(SelectFilter):
    title = "task state"
    parameter_name = field = "task_state"
    nullable = True

    def choice_list(self, request):
        return [(s, s) for s in states.TASK_STATES]


class PowerStateFilter(ChoiceFilter):
    title = "power state"
    parameter_name = field = "power_state"

    def choice_list(self, request):
        return [(str(code), name) for code, name in states.POWER_STATES.items()]


class HostFilter(SelectFilter):
    """Compute hosts, from ``services`` (small), not from the instances."""

    title = "host"
    parameter_name = field = "host"

    def choice_list(self, request):
        hosts = Service.objects.live().filter(binary="nova-compute").order_by("host").values_list("host", flat=True)
        return [(h, h) for h in dict.fromkeys(hosts) if h]


class AvailabilityZoneFilter(ChoiceFilter):
    title = "availability zone"
    parameter_name = field = "availability_zone"

    def choice_list(self, request):
        zones = Service.objects.live().order_by("availability_zone").values_list("availability_zone", flat=True)
        return [(z, z) for z in dict.fromkeys(zones) if z]


class FlavorFilter(SelectFilter):
    title = "flavor"
    parameter_name = "flavor"
    field = "flavor_id"

    def choice_list(self, request):
        flavors = Flavor.objects.order_by("memory_mb", "id").values_list("id", "name", "deleted")
        return [(str(pk), f"{name} (deleted)" if deleted else name) for pk, name, deleted in flavors]


class ProjectFilter(SelectFilter):
    title = "project"
    parameter_name = field = "project_id"

    def choice_list(self, request):
        return [(pk, name or pk) for pk, name in Project.objects.order_by("name").values_list("id", "name")]
