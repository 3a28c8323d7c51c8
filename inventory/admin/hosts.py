"""Compute nodes and services: capacity used against total vCPU, RAM and disk."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Prefetch

from inventory.models import ComputeNode, Service

from . import filters
from .base import ReadOnlyAdmin


def usage(used, total, unit=""):
    """``used / total unit (p%)``."""
    if not total:
        return f"{used or 0} / -"
    return f"{used or 0} / {total}{unit} ({100 * (used or 0) / total:.0f}%)"


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
    list_filter = (filters.DeletedFilter, "binary", "disabled")
    search_fields = ("host",)
    ordering = ("host", "binary")

    def get_queryset(self, request):
        nodes = ComputeNode.objects.exclude(deleted=True).order_by("id")
        return super().get_queryset(request).prefetch_related(Prefetch("compute_nodes", queryset=nodes))

    def node(self, obj):
        nodes = list(obj.compute_nodes.all())
        return nodes[0] if nodes else None
