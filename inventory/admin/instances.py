"""Instances: what runs where, on which flavor and IP.

The list costs a constant number of queries per page whatever the table's
size: the flavor is joined explicitly (``list_select_related``: Django's
default join skips nullable relations, and all of Nova's are nullable), the
fixed and floating IPs of the page come in one prefetch query each, counts
are estimates (see ``inventory.admin.base``), and the filters take their
choices from small tables.

Search does only what an index can serve (or a single cheap lookup): an exact
UUID, an exact IP address (through ``fixed_ips`` / ``floating_ips``), or the
start of a name or hostname.

The detail page shows an instance's latest actions and faults only
(:class:`LatestRowsFormSet`): Nova adds a fault on every failed operation, so an
instance stuck in a retry loop holds thousands, each with a traceback.
"""

from __future__ import annotations

import contextlib
import ipaddress
import re

from django.contrib import admin
from django.db.models import F, Prefetch
from django.forms.models import BaseInlineFormSet
from django.utils.html import format_html_join

from inventory import states
from inventory.exports.columns import INTEGER, Column, JoinedList, code_names
from inventory.models import (
    FixedIp,
    FloatingIp,
    Instance,
    InstanceAction,
    InstanceFault,
    InstanceMetadata,
    Network,
    SecurityGroupInstance,
)

from . import filters, ip_indexes
from .base import ReadOnlyAdmin, ReadOnlyPermissions
from .query_string import nova_alias

UUID_RE = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")  # fullmatch-ed
SEARCH_HELP = "Search by exact UUID, exact IP address (fixed or floating), or the beginning of a name or hostname."


def containing_networks(address) -> list[int]:
    """Ids of the networks whose CIDR holds ``address`` (the networks table is small)."""
    found = []
    for pk, cidr in Network.objects.exclude(cidr=None).values_list("id", "cidr"):
        with contextlib.suppress(ValueError):
            if address in ipaddress.ip_network(cidr, strict=False):
                found.append(pk)
    return found


def search_instances(queryset, term: str):
    """Instances matching ``term`` as the search box promises (see SEARCH_HELP)."""
    term = term.strip()
    if not term:
        return queryset
    if UUID_RE.fullmatch(term):
        return queryset.filter(uuid=term.lower())
    try:
        address = ipaddress.ip_address(term)
    except ValueError:
        pass
    else:
        fixed = FixedIp.objects.filter(address=term, instance__isnull=False)
        networks = containing_networks(address)
        if networks:  # narrow to the address's network: fixed_ips.network_id is indexed where address is not
            fixed = fixed.filter(network_id__in=networks)
        ids = set(fixed.values_list("instance_id", flat=True))
        ids.update(
            FloatingIp.objects.filter(address=term, fixed_ip__instance__isnull=False).values_list(
                "fixed_ip__instance_id", flat=True
            )
        )
        return queryset.filter(pk__in=sorted(ids))
    return queryset.filter(display_name__startswith=term) | queryset.filter(hostname__startswith=term)


def network_label(network) -> str:
    return f"{network.label} ({network.cidr})" if network else "-"


def live_ips():
    """The page's fixed IPs (and their floating IPs): two queries for a whole page."""
    floating = FloatingIp.objects.only("id", "address", "fixed_ip_id")
    fixed = FixedIp.objects.exclude(deleted=True).only("id", "address", "instance_id").order_by("id")
    return Prefetch("fixed_ips", queryset=fixed.prefetch_related(Prefetch("floating_ips", queryset=floating)))


class ReadOnlyInline(ReadOnlyPermissions, admin.TabularInline):
    extra = 0
    max_num = 0
    can_delete = False
    show_change_link = False


class FixedIpInline(ReadOnlyInline):
    model = FixedIp
    fields = ("address", "network_label", "allocated", "leased", "host", "floating", "deleted")
    readonly_fields = fields
    verbose_name = "fixed IP"

    @admin.display(description="network")
    def network_label(self, obj):
        return network_label(obj.network)

    @admin.display(description="floating IPs")
    def floating(self, obj):
        return ", ".join(f.address for f in obj.floating_ips.all()) or "-"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("network").prefetch_related("floating_ips")


class MetadataInline(ReadOnlyInline):
    model = InstanceMetadata
    fields = readonly_fields = ("key", "value", "deleted")
    verbose_name_plural = "metadata"


class SecurityGroupInline(ReadOnlyInline):
    model = SecurityGroupInstance
    fields = readonly_fields = ("group_name", "group_description", "deleted")
    verbose_name = verbose_name_plural = "security groups"

    @admin.display(description="security group")
    def group_name(self, obj):
        return obj.security_group.name if obj.security_group else "-"

    @admin.display(description="description")
    def group_description(self, obj):
        return obj.security_group.description if obj.security_group else "-"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("security_group")


class LatestRowsFormSet(BaseInlineFormSet):
    """The inline's first ``max_shown`` rows in its ``ordering`` (newest first), from one query of one row
    more: ``more`` says whether the database holds others."""

    max_shown = 20

    def get_queryset(self):
        if not hasattr(self, "_latest"):
            rows = list(super().get_queryset()[: self.max_shown + 1])
            self.more = len(rows) > self.max_shown
            self._latest = rows[: self.max_shown]
        return self._latest


class LatestRowsInline(ReadOnlyInline):
    """A read-only inline of a table that grows without bound: its latest rows, saying when there are more."""

    formset = LatestRowsFormSet
    ordering = (F("created_at").desc(nulls_last=True), "-id")  # PostgreSQL would put NULLs first
    template = "admin/inventory/latest_rows_inline.html"


class ActionInline(LatestRowsInline):
    model = InstanceAction
    fields = readonly_fields = ("created_at", "action", "error")
    verbose_name_plural = "actions"


class FaultInline(LatestRowsInline):
    model = InstanceFault
    fields = readonly_fields = ("created_at", "code", "message", "details")
    verbose_name_plural = "faults"


@admin.register(Instance)
class InstanceAdmin(ReadOnlyAdmin):
    list_display = (
        "uuid",
        "display_name",
        "hostname",
        "host",
        "availability_zone",
        "project_id",
        "user_id",
        "flavor_name",
        "vm_state",
        "task_state",
        "power",
        "fixed_addresses",
        "floating_addresses",
        "created_at",
        "launched_at",
    )
    list_display_links = ("uuid", "display_name")
    export_columns = {
        "flavor_name": Column("Flavor", F("flavor__name")),
        "power": (
            Column("Power state", code_names("power_state", states.POWER_STATES), trusted=True),
            Column("Power state code", F("power_state"), INTEGER),
        ),
        "fixed_addresses": Column(
            "Fixed IPs", JoinedList(FixedIp.objects.exclude(deleted=True), key="instance_id", value="address")
        ),
        "floating_addresses": Column(
            "Floating IPs",
            JoinedList(
                FloatingIp.objects.exclude(fixed_ip__deleted=True),
                key="fixed_ip__instance_id",
                value="address",
                order=("fixed_ip_id", "id"),
            ),
        ),
    }
    list_filter = (
        filters.DeletedFilter,
        filters.VmStateFilter,
        filters.TaskStateFilter,
        filters.PowerStateFilter,
        filters.HostFilter,
        filters.AvailabilityZoneFilter,
        filters.FlavorFilter,
        filters.ProjectFilter,
    )
    list_select_related = ("flavor",)
    # Rendering, not SQL, is the cost of a page: ~1 ms per row of 15 columns. CSV export has them all.
    list_per_page = 50
    search_fields = ("uuid", "display_name", "hostname")  # shows the box; the search itself is custom
    search_help_text = SEARCH_HELP
    ordering = ("-id",)
    fieldsets = (
        (None, {"fields": ("uuid", "display_name", "hostname", "display_description", "reservation_id")}),
        ("State", {"fields": ("vm_state", "task_state", "power", "progress", "locked", "deleted", "deleted_at")}),
        ("Placement", {"fields": ("host", "availability_zone", "launched_on", "cell_name", "project_id", "user_id")}),
        (
            "Flavor and image",
            {"fields": ("flavor_link", "memory_mb", "vcpus", "root_gb", "ephemeral_gb", "image_ref", "key_name")},
        ),
        ("Addresses", {"fields": ("access_ip_v4", "access_ip_v6")}),
        ("Times", {"fields": ("created_at", "scheduled_at", "launched_at", "updated_at", "terminated_at")}),
    )
    inlines = (FixedIpInline, MetadataInline, SecurityGroupInline, ActionInline, FaultInline)

    def get_readonly_fields(self, request, obj=None):
        return [name for _, options in self.fieldsets for name in options["fields"]]

    def get_queryset(self, request):
        # user_data and key_data are large and never shown.
        return super().get_queryset(request).defer("user_data", "key_data").prefetch_related(live_ips())

    def changelist_view(self, request, extra_context=None):
        # One line when the IP columns' lookups have no index (Essex on PostgreSQL): see ip_indexes.
        notice = ip_indexes.notice(nova_alias(self)) if request.method == "GET" else None
        return super().changelist_view(request, {"index_notice": notice, **(extra_context or {})})

    def get_search_results(self, request, queryset, search_term):
        return search_instances(queryset, search_term), False

    def change_view(self, request, object_id, form_url="", extra_context=None):
        instance = self.get_object(request, object_id)
        if instance is not None:
            extra_context = {
                "title": f"Instance {instance.display_name or ''} {instance.uuid}",
                **(extra_context or {}),
            }
        return super().change_view(request, object_id, form_url, extra_context)

    @admin.display(description="flavor", ordering="flavor__name")
    def flavor_name(self, obj):
        return obj.flavor.name if obj.flavor else "-"

    @admin.display(description="flavor")
    def flavor_link(self, obj):
        if not obj.flavor:
            return "-"
        f = obj.flavor
        return f"{f.name} (flavorid {f.flavorid}: {f.vcpus} vCPU, {f.memory_mb} MB RAM, {f.root_gb} GB disk)"

    @admin.display(description="power state", ordering="power_state")
    def power(self, obj):
        return states.power_state_name(obj.power_state)

    @admin.display(description="fixed IPs")
    def fixed_addresses(self, obj):
        return format_html_join(" ", "{}", ((ip.address,) for ip in obj.fixed_ips.all())) or "-"

    @admin.display(description="floating IPs")
    def floating_addresses(self, obj):
        pairs = ((f.address,) for ip in obj.fixed_ips.all() for f in ip.floating_ips.all())
        return format_html_join(" ", "{}", pairs) or "-"
