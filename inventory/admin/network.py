"""Networks (with used / free fixed-IP counts), fixed IPs and floating IPs."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Count, F, Q

from inventory.exports.columns import INTEGER, Column
from inventory.models import FixedIp, FloatingIp, Network

from . import filters
from .base import ReadOnlyAdmin
from .instances import network_label


class NetworkFilter(filters.SelectFilter):
    title = "network"
    parameter_name = "network"
    field = "network_id"

    def choice_list(self, request):
        return [
            (str(pk), f"{label or '-'} {cidr}")
            for pk, label, cidr in Network.objects.values_list("id", "label", "cidr")
        ]


def exact_address_search(queryset, term):
    term = term.strip()
    return (queryset.filter(address=term) if term else queryset), False


@admin.register(Network)
class NetworkAdmin(ReadOnlyAdmin):
    list_display = (
        "label",
        "cidr",
        "bridge",
        "vlan",
        "gateway",
        "host",
        "multi_host",
        "used_ips",
        "free_ips",
        "project_id",
    )
    export_columns = {
        "used_ips": Column("Used fixed IPs", F("used"), INTEGER),
        "free_ips": Column("Free fixed IPs", F("free"), INTEGER),
    }
    list_filter = (filters.DeletedFilter,)
    ordering = ("id",)

    def get_queryset(self, request):
        # One grouped query for the page: no COUNT per network row.
        live = Q(fixed_ips__deleted=False) | Q(fixed_ips__deleted__isnull=True)
        return (
            super()
            .get_queryset(request)
            .annotate(
                used=Count("fixed_ips", filter=live & Q(fixed_ips__instance__isnull=False)),
                free=Count(
                    "fixed_ips",
                    filter=live & Q(fixed_ips__instance__isnull=True) & ~Q(fixed_ips__reserved=True),
                ),
            )
        )

    @admin.display(description="used fixed IPs", ordering="used")
    def used_ips(self, obj):
        return obj.used

    @admin.display(description="free fixed IPs", ordering="free")
    def free_ips(self, obj):
        return obj.free


@admin.register(FixedIp)
class FixedIpAdmin(ReadOnlyAdmin):
    list_display = ("address", "network_name", "instance_link", "allocated", "leased", "reserved", "host")
    export_columns = {
        "network_name": (Column("Network", F("network__label")), Column("Network CIDR", F("network__cidr"))),
        "instance_link": Column("Instance", F("instance__uuid")),
    }
    list_filter = (filters.DeletedFilter, "allocated", "reserved", NetworkFilter)
    list_select_related = ("network", "instance")
    search_fields = ("address",)
    search_help_text = "Search by exact IP address."
    ordering = ("id",)

    def get_search_results(self, request, queryset, search_term):
        return exact_address_search(queryset, search_term)

    @admin.display(description="network")
    def network_name(self, obj):
        return network_label(obj.network)

    @admin.display(description="instance")
    def instance_link(self, obj):
        return obj.instance.uuid if obj.instance else "-"


@admin.register(FloatingIp)
class FloatingIpAdmin(ReadOnlyAdmin):
    list_display = ("address", "fixed_address", "instance_uuid", "project_id", "pool", "host", "auto_assigned")
    export_columns = {
        "fixed_address": Column("Fixed IP", F("fixed_ip__address")),
        "instance_uuid": Column("Instance", F("fixed_ip__instance__uuid")),
    }
    list_filter = (filters.DeletedFilter, "auto_assigned")
    list_select_related = ("fixed_ip", "fixed_ip__instance")
    search_fields = ("address",)
    search_help_text = "Search by exact IP address."
    ordering = ("id",)

    def get_search_results(self, request, queryset, search_term):
        return exact_address_search(queryset, search_term)

    @admin.display(description="fixed IP")
    def fixed_address(self, obj):
        return obj.fixed_ip.address if obj.fixed_ip else "-"

    @admin.display(description="instance")
    def instance_uuid(self, obj):
        instance = obj.fixed_ip.instance if obj.fixed_ip else None
        return instance.uuid if instance else "-"
