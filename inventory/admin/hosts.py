"""Compute nodes and services: capacity used against total vCPU, RAM and disk."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import F, OuterRef, Prefetch, Subquery

from inventory.exports.columns import INTEGER, Column
from inventory.models import ComputeNode, Service

from . import filters
from .base import ReadOnlyAdmin


def usage(used, total, unit=""):
    """``used / total unit (p%)``."""
    if not total:
        return f"{used or 0} / -"
    return f"{used or 0} / {total}{unit} ({100 * (used or 0) / total:.0f}%)"


CAPACITY = {  # list column -> (used, total) fields of the compute node, and the export's headers
    "vcpu_usage": (("vcpus_used", "vCPUs used"), ("vcpus", "vCPUs total")),
    "ram_usage": (("memory_mb_used", "RAM used (MB)"), ("memory_mb", "RAM total (MB)")),
    "disk_usage": (("local_gb_used", "Disk used (GB)"), ("local_gb", "Disk total (GB)")),
}


def live_nodes():
    return ComputeNode.objects.exclude(deleted=True).order_by("id")


def capacity_export_columns(node_field) -> dict:
    """Export columns of the usage columns: used and total as numbers (``node_field(name)``: the SQL)."""
    return {
        name: tuple(Column(header, node_field(field), INTEGER) for field, header in pair)
        for name, pair in CAPACITY.items()
    }


def service_node_field(name):
    """A field of a service's first live compute node (the one the list shows)."""
    return Subquery(live_nodes().filter(service_id=OuterRef("pk")).values(name)[:1])


class CapacityColumns:
    """vCPU / RAM / disk columns from a compute node (``node(obj)``)."""

    def node(self, obj):
        return obj

    @admin.display(description="vCPUs used / total")
    def vcpu_usage(self, obj):
        node = self.node(obj)
        return usage(node.vcpus_used, node.vcpus) if node else "-"

    @admin.display(description="RAM used / total")
    def ram_usage(self, obj):
        node = self.node(obj)
        return usage(node.memory_mb_used, node.memory_mb, " MB") if node else "-"

    @admin.display(description="disk used / total")
    def disk_usage(self, obj):
        node = self.node(obj)
        return usage(node.local_gb_used, node.local_gb, " GB") if node else "-"


@admin.register(ComputeNode)
class ComputeNodeAdmin(CapacityColumns, ReadOnlyAdmin):
    list_display = (
        "hypervisor_hostname", "service_host", "hypervisor_type", "vcpu_usage", "ram_usage", "disk_usage",
        "running_vms", "current_workload", "updated_at",
    )  # fmt: skip
    export_columns = {
        **capacity_export_columns(F),
        "service_host": Column("Service host", F("service__host")),
    }
    list_filter = (filters.DeletedFilter,)
    list_select_related = ("service",)
    search_fields = ("hypervisor_hostname",)
    ordering = ("id",)

    @admin.display(description="service host", ordering="service__host")
    def service_host(self, obj):
        return obj.service.host if obj.service else "-"


@admin.register(Service)
class ServiceAdmin(CapacityColumns, ReadOnlyAdmin):
    list_display = (
        "host", "binary", "topic", "availability_zone", "disabled", "report_count", "updated_at", "vcpu_usage",
        "ram_usage", "disk_usage",
    )  # fmt: skip
    export_columns = capacity_export_columns(service_node_field)
    list_filter = (filters.DeletedFilter, "binary", "disabled")
    search_fields = ("host",)
    ordering = ("host", "binary")

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related(Prefetch("compute_nodes", queryset=live_nodes()))

    def node(self, obj):
        nodes = list(obj.compute_nodes.all())
        return nodes[0] if nodes else None
