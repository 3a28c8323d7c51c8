"""Hosts and scheduling: services, compute nodes, aggregates, cells, consoles."""

from django.db import models

from .base import SoftDeleteModel, relation, shown


class AgentBuild(SoftDeleteModel):
    id = models.AutoField(primary_key=True)
    hypervisor = models.CharField(max_length=255, null=True, blank=True)
    os = models.CharField(max_length=255, null=True, blank=True)
    architecture = models.CharField(max_length=255, null=True, blank=True)
    version = models.CharField(max_length=255, null=True, blank=True)
    url = models.CharField(max_length=255, null=True, blank=True)
    md5hash = models.CharField(max_length=255, null=True, blank=True)

    class Meta(SoftDeleteModel.Meta):
        db_table = "agent_builds"

    def __str__(self):
        return f"agent {shown(self.version)} for {shown(self.hypervisor)} {shown(self.os)} {shown(self.architecture)}"


class AggregateHost(SoftDeleteModel):
    id = models.AutoField(primary_key=True)
    host = models.CharField(max_length=255, null=True, blank=True, unique=True)
    aggregate = relation("Aggregate", constraint=True, related_name="hosts")

    class Meta(SoftDeleteModel.Meta):
        db_table = "aggregate_hosts"

    def __str__(self):
        return f"{shown(self.host)} in aggregate {shown(self.aggregate_id)}"


class AggregateMetadata(SoftDeleteModel):
    id = models.AutoField(primary_key=True)
    aggregate = relation("Aggregate", constraint=True, related_name="metadata")
    key = models.CharField(max_length=255)
    value = models.CharField(max_length=255)

    class Meta(SoftDeleteModel.Meta):
        db_table = "aggregate_metadata"

    def __str__(self):
        return f"{shown(self.key)}={shown(self.value)}"


class Aggregate(SoftDeleteModel):
    id = models.AutoField(primary_key=True)
    name = models.CharField(max_length=255, null=True, blank=True, unique=True)
    operational_state = models.CharField(max_length=255)
    availability_zone = models.CharField(max_length=255)

    class Meta(SoftDeleteModel.Meta):
        db_table = "aggregates"

    def __str__(self):
        return shown(self.name, f"aggregate {self.pk}")


class BandwidthUsage(SoftDeleteModel):
    id = models.AutoField(primary_key=True)
    start_period = models.DateTimeField()
    last_refreshed = models.DateTimeField(null=True, blank=True)
    bw_in = models.BigIntegerField(null=True, blank=True)
    bw_out = models.BigIntegerField(null=True, blank=True)
    mac = models.CharField(max_length=255, null=True, blank=True)

    class Meta(SoftDeleteModel.Meta):
        db_table = "bw_usage_cache"

    def __str__(self):
        return f"bandwidth of {shown(self.mac)} since {shown(self.start_period)}"


class Cell(SoftDeleteModel):
    id = models.AutoField(primary_key=True)
    api_url = models.CharField(max_length=255, null=True, blank=True)
    username = models.CharField(max_length=255, null=True, blank=True)
    password = models.CharField(max_length=255, null=True, blank=True)
    weight_offset = models.FloatField(null=True, blank=True)
    weight_scale = models.FloatField(null=True, blank=True)
    name = models.CharField(max_length=255, null=True, blank=True)
    is_parent = models.BooleanField(null=True, blank=True)
    rpc_host = models.CharField(max_length=255, null=True, blank=True)
    rpc_port = models.IntegerField(null=True, blank=True)
    rpc_virtual_host = models.CharField(max_length=255, null=True, blank=True)

    class Meta(SoftDeleteModel.Meta):
        db_table = "cells"

    def __str__(self):
        return shown(self.name, f"cell {self.pk}")


class ComputeNode(SoftDeleteModel):
    id = models.AutoField(primary_key=True)
    service = relation("Service", constraint=False, related_name="compute_nodes")
    vcpus = models.IntegerField()
    memory_mb = models.IntegerField()
    local_gb = models.IntegerField()
    vcpus_used = models.IntegerField()
    memory_mb_used = models.IntegerField()
    local_gb_used = models.IntegerField()
    hypervisor_type = models.TextField()
    hypervisor_version = models.IntegerField()
    cpu_info = models.TextField()
    disk_available_least = models.IntegerField(null=True, blank=True)
    free_ram_mb = models.IntegerField(null=True, blank=True)
    free_disk_gb = models.IntegerField(null=True, blank=True)
    current_workload = models.IntegerField(null=True, blank=True)
    running_vms = models.IntegerField(null=True, blank=True)
    hypervisor_hostname = models.CharField(max_length=255, null=True, blank=True)

    class Meta(SoftDeleteModel.Meta):
        db_table = "compute_nodes"

    def __str__(self):
        # By host: the hypervisor's name, or its service's host when the page loaded the service.
        host = self.hypervisor_hostname
        if not host and ComputeNode.service.is_cached(self) and self.service is not None:
            host = self.service.host
        return shown(host, f"compute node {self.pk} (service {shown(self.service_id)})")


class ConsolePool(SoftDeleteModel):
    id = models.AutoField(primary_key=True)
    address = models.CharField(max_length=255, null=True, blank=True)
    username = models.CharField(max_length=255, null=True, blank=True)
    password = models.CharField(max_length=255, null=True, blank=True)
    console_type = models.CharField(max_length=255, null=True, blank=True)
    public_hostname = models.CharField(max_length=255, null=True, blank=True)
    host = models.CharField(max_length=255, null=True, blank=True)
    compute_host = models.CharField(max_length=255, null=True, blank=True)

    class Meta(SoftDeleteModel.Meta):
        db_table = "console_pools"

    def __str__(self):
        return f"{shown(self.console_type)} console pool on {shown(self.host)}"


class Console(SoftDeleteModel):
    id = models.AutoField(primary_key=True)
    instance_name = models.CharField(max_length=255, null=True, blank=True)
    instance = relation("inventory.Instance", constraint=False, related_name="consoles", null=True)
    password = models.CharField(max_length=255, null=True, blank=True)
    port = models.IntegerField(null=True, blank=True)
    pool = relation("ConsolePool", constraint=True, related_name="consoles", null=True)

    class Meta(SoftDeleteModel.Meta):
        db_table = "consoles"

    def __str__(self):
        return f"console of {shown(self.instance_name)} on port {shown(self.port)}"


class Service(SoftDeleteModel):
    id = models.AutoField(primary_key=True)
    host = models.CharField(max_length=255, null=True, blank=True)
    binary = models.CharField(max_length=255, null=True, blank=True)
    topic = models.CharField(max_length=255, null=True, blank=True)
    report_count = models.IntegerField()
    disabled = models.BooleanField(null=True, blank=True)
    availability_zone = models.CharField(max_length=255, null=True, blank=True)

    class Meta(SoftDeleteModel.Meta):
        db_table = "services"

    def __str__(self):
        return f"{shown(self.binary)} on {shown(self.host)}"
