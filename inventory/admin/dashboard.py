"""The inventory dashboard: instances by state, host and flavor; host capacity.

One grouped query over the live instances feeds every instance chart (one
scan of the table, not one per chart). On a million rows that scan still
takes seconds on a small server, so the figures are cached for
``CACHE_SECONDS`` and the page says when they were computed.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from django.contrib import admin
from django.core.cache import cache
from django.db.models import Count
from django.template.response import TemplateResponse

from inventory import states
from inventory.charts import PALETTE, bar_chart, usage_chart
from inventory.models import ComputeNode, Flavor, Instance

CACHE_SECONDS = 300
TOP = 15


def _tallies() -> dict[str, Counter]:
    """Live instances counted by each dimension, from ONE grouped scan of the table."""
    fields = ("vm_state", "task_state", "power_state", "host", "flavor")
    tallies = {field: Counter() for field in fields}
    for row in Instance.objects.live().values(*fields).annotate(n=Count("id")).order_by():
        for field in fields:
            tallies[field][row[field]] += row["n"]
    return tallies


def figures() -> dict:
    tallies = _tallies()
    flavor_names = dict(Flavor.objects.values_list("id", "name"))
    nodes = ComputeNode.objects.exclude(deleted=True).select_related("service").order_by("-vcpus_used")
    capacity = [
        (node.hypervisor_hostname or (node.service.host if node.service else node.pk), node) for node in nodes[:TOP]
    ]
    return {
        "computed_at": datetime.utcnow().replace(microsecond=0),
        "by_vm_state": [(label or "(none)", n) for label, n in tallies["vm_state"].most_common()],
        "by_task_state": [(label or "(none)", n) for label, n in tallies["task_state"].most_common()],
        "by_power_state": [(states.power_state_name(c), n) for c, n in tallies["power_state"].most_common()],
        "by_host": [(label or "(no host)", n) for label, n in tallies["host"].most_common(TOP)],
        "by_flavor": [(flavor_names.get(pk, f"#{pk}"), n) for pk, n in tallies["flavor"].most_common()],
        "vcpus": [(label, n.vcpus_used, n.vcpus) for label, n in capacity],
        "memory": [(label, n.memory_mb_used, n.memory_mb) for label, n in capacity],
        "disk": [(label, n.local_gb_used, n.local_gb) for label, n in capacity],
        "live": sum(tallies["vm_state"].values()),
    }


def dashboard_view(request):
    data = cache.get_or_set("inventory-dashboard", figures, CACHE_SECONDS)
    specs = [
        ("Instances by VM state", bar_chart, data["by_vm_state"], {}),
        ("Instances by power state", bar_chart, data["by_power_state"], {"color": PALETTE[2]}),
        ("Instances by task state", bar_chart, data["by_task_state"], {"color": PALETTE[1]}),
        (f"Instances by host (top {TOP})", bar_chart, data["by_host"], {"color": PALETTE[5]}),
        ("Instances by flavor", bar_chart, data["by_flavor"], {"color": PALETTE[4]}),
        (f"vCPUs used / total (top {TOP} hosts)", usage_chart, data["vcpus"], {}),
        (f"RAM used / total, MB (top {TOP} hosts)", usage_chart, data["memory"], {}),
        (f"Disk used / total, GB (top {TOP} hosts)", usage_chart, data["disk"], {}),
    ]
    charts = [(title, draw(title, rows, **options)) for title, draw, rows, options in specs]
    context = {
        **admin.site.each_context(request),
        "title": "Inventory dashboard",
        "charts": charts,
        "live": data["live"],
        "computed_at": data["computed_at"],
        "cache_seconds": CACHE_SECONDS,
    }
    return TemplateResponse(request, "admin/inventory/dashboard.html", context)
