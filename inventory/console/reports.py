"""Saved reports: the questions operators ask most, as plain SQL that runs on every backend.

Each is one grouped scan or an anti-join an index serves (``fixed_ips.instance_id``),
read through the console's runner (read-only, time limit, row cap), so a report
on a million instances costs one pass over the table. The SQL is shown on the
report's page: an operator can copy it into the console and change it.
``deleted IS NOT TRUE`` is Nova's "live" (``deleted`` false or NULL) on all three servers.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.apps import apps


@dataclass(frozen=True)
class Report:
    slug: str
    title: str
    description: str
    sql: str
    #: ``{vendor: sql}`` where one server needs the question put differently (and why, in a comment).
    vendor_sql: dict = field(default_factory=dict)

    def sql_for(self, vendor: str) -> str:
        return self.vendor_sql.get(vendor, self.sql)


def soft_deleted_sql() -> str:
    """One count per soft-delete table of Nova's, as a single UNION ALL."""
    from inventory.models import SoftDeleteModel

    tables = sorted(
        model._meta.db_table
        for model in apps.get_app_config("inventory").get_models()
        if issubclass(model, SoftDeleteModel)
    )
    counts = [
        f"SELECT '{table}' AS table_name, COUNT(*) AS waiting FROM {table} WHERE deleted IS TRUE" for table in tables
    ]
    return "\nUNION ALL ".join(counts) + "\nORDER BY waiting DESC, table_name"


_LIVE = "deleted IS NOT TRUE"
_PROJECTS = (
    "SELECT project_id, COUNT(*) AS instances, SUM(memory_mb) AS ram_mb, SUM(vcpus) AS vcpus\n"
    f"FROM {{table}}\nWHERE {_LIVE}\nGROUP BY project_id\nORDER BY instances DESC, project_id"
)

REPORTS = {
    report.slug: report
    for report in (
        Report(
            "instances-by-host-and-state",
            "Instances per host and state",
            "Live instances counted by compute host and VM state.",
            f"SELECT host, vm_state, COUNT(*) AS instances\nFROM instances\nWHERE {_LIVE}\n"
            "GROUP BY host, vm_state\nORDER BY host, vm_state",
        ),
        Report(
            "flavors-in-use",
            "Flavors in use",
            "Each flavor that live instances run, with how many run it (no flavor: instance_type_id unset).",
            "SELECT f.flavorid, f.name, f.memory_mb, f.vcpus, f.root_gb, COUNT(*) AS instances\n"
            "FROM instances i\nLEFT JOIN instance_types f ON f.id = i.instance_type_id\n"
            f"WHERE i.{_LIVE}\n"
            "GROUP BY f.flavorid, f.name, f.memory_mb, f.vcpus, f.root_gb\nORDER BY instances DESC, f.name",
        ),
        Report(
            "projects-by-instances",
            "Projects by instance count and RAM",
            "Live instances, RAM and vCPUs per project, the biggest first.",
            _PROJECTS.format(table="instances"),
            # MariaDB/MySQL would walk the project_id index and look every row up by its primary
            # key (measured: 8.8 s instead of 0.36 s at 300,000 instances); one scan is what we want.
            {"mysql": _PROJECTS.format(table="instances USE INDEX ()")},
        ),
        Report(
            "ips-per-network",
            "IPs allocated per network",
            "Fixed IPs of each live network: how many exist, are allocated and are bound to an instance.",
            "SELECT n.id AS network_id, n.label, n.cidr, COUNT(f.id) AS fixed_ips,\n"
            "       SUM(CASE WHEN f.allocated IS TRUE THEN 1 ELSE 0 END) AS allocated,\n"
            "       SUM(CASE WHEN f.instance_id IS NOT NULL THEN 1 ELSE 0 END) AS with_instance\n"
            f"FROM networks n\nLEFT JOIN fixed_ips f ON f.network_id = n.id AND f.{_LIVE}\n"
            f"WHERE n.{_LIVE}\nGROUP BY n.id, n.label, n.cidr\nORDER BY n.id",
        ),
        Report(
            "instances-without-ip",
            "Instances without an IP",
            "Live instances that no live fixed IP points at.",
            # A LEFT JOIN ... IS NULL rather than NOT EXISTS: MariaDB materializes the NOT EXISTS
            # subquery (40 s at a million instances) but walks fixed_ips(instance_id) for the join (5 s).
            "SELECT i.uuid, i.hostname, i.host, i.vm_state, i.project_id, i.created_at\n"
            f"FROM instances i\nLEFT JOIN fixed_ips f ON f.instance_id = i.id AND f.{_LIVE}\n"
            f"WHERE i.{_LIVE} AND f.id IS NULL\n"
            "ORDER BY i.id",
        ),
        Report(
            "soft-deleted-waiting",
            "Soft-deleted rows waiting for archive",
            "Rows Nova has soft-deleted in each table, which db_archive_deleted_rows would move.",
            "",  # built from the models: see soft_deleted_sql()
        ),
    )
}


def get(slug: str) -> Report:
    report = REPORTS[slug]
    if not report.sql:
        report = Report(report.slug, report.title, report.description, soft_deleted_sql(), report.vendor_sql)
    return report


def all_reports() -> list[Report]:
    return [get(slug) for slug in REPORTS]
