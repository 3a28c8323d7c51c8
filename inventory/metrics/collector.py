"""The cached figures (:mod:`.figures`) as Prometheus gauges, read at each scrape."""

from __future__ import annotations

from prometheus_client.core import GaugeMetricFamily

from .figures import FIGURES


class NovaCollector:
    """A prometheus_client custom collector: no database access beyond the figures' caches."""

    def collect(self):
        version = FIGURES["schema_version"].get()
        up = GaugeMetricFamily("novaweb_nova_database_up", "1 when the Nova database answered with its schema version")
        up.add_metric([], 0 if version is None else 1)
        yield up
        if version is not None:
            yield GaugeMetricFamily("novaweb_schema_version", "migrate_version of the Nova database", value=version)
        yield from self._drift()
        yield from self._instances()
        yield from self._soft_deleted()
        yield from self._data_migrations()

    def _drift(self):
        drift = FIGURES["drift"].get()
        if drift is not None:
            yield GaugeMetricFamily(
                "novaweb_schema_drift_differences",
                "differences between the live schema and the models (db_drift)",
                value=drift,
            )

    def _instances(self):
        instances = FIGURES["instances"].get()
        if instances is None:
            return
        by_state = GaugeMetricFamily("novaweb_instances", "live instances by VM state", labels=["vm_state"])
        for state, n in sorted(instances["vm_state"].items()):
            by_state.add_metric([state], n)
        yield by_state
        by_host = GaugeMetricFamily("novaweb_instances_by_host", "live instances by compute host", labels=["host"])
        for host, n in sorted(instances["host"].items()):
            by_host.add_metric([host], n)
        yield by_host

    def _soft_deleted(self):
        waiting = FIGURES["soft_deleted"].get()
        if waiting is None:
            return
        per_table = GaugeMetricFamily(
            "novaweb_soft_deleted_rows", "soft-deleted rows waiting for archive (cached count)", labels=["table"]
        )
        for table, n in sorted(waiting.items()):
            per_table.add_metric([table], n)
        yield per_table
        yield GaugeMetricFamily(
            "novaweb_archive_backlog_rows",
            "soft-deleted rows waiting for archive, all tables",
            value=sum(waiting.values()),
        )

    def _data_migrations(self):
        pending = FIGURES["data_migrations"].get()
        if pending is None:
            return
        backlog = GaugeMetricFamily(
            "novaweb_data_migration_pending_rows",
            "rows each online data migration still has to fix",
            labels=["migration"],
        )
        for name, n in sorted(pending.items()):
            if n is not None:
                backlog.add_metric([name], n)
        yield backlog
