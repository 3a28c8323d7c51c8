"""Networking: networks, fixed and floating IPs, interfaces, security groups."""

from django.db import models

from .base import SchemaFacts, SoftDeleteModel, relation, shown


class DnsDomain(SoftDeleteModel):
    domain = models.CharField(primary_key=True, max_length=512)
    scope = models.CharField(max_length=255, null=True, blank=True)
    availability_zone = models.CharField(max_length=255, null=True, blank=True)
    project = relation("inventory.Project", constraint=True, related_name="dns_domains", null=True)

    class Meta(SoftDeleteModel.Meta):
        db_table = "dns_domains"

    def __str__(self):
        return shown(self.domain)


class FixedIp(SoftDeleteModel):
    id = models.AutoField(primary_key=True)
    address = models.CharField(max_length=255, null=True, blank=True)
    network = relation("Network", constraint=False, related_name="fixed_ips", null=True)
    instance = relation("inventory.Instance", constraint=False, related_name="fixed_ips", null=True)
    allocated = models.BooleanField(null=True, blank=True)
    leased = models.BooleanField(null=True, blank=True)
    reserved = models.BooleanField(null=True, blank=True)
    virtual_interface = relation("VirtualInterface", constraint=False, related_name="fixed_ips", null=True)
    host = models.CharField(max_length=255, null=True, blank=True)

    schema_facts = SchemaFacts(
        mysql_indexes=(
            ("network_id", ("network_id",)),
            ("instance_id", ("instance_id",)),
            ("fixed_ips_virtual_interface_id_fkey", ("virtual_interface_id",)),
        ),
    )

    class Meta(SoftDeleteModel.Meta):
        db_table = "fixed_ips"

    def __str__(self):
        return shown(self.address, f"fixed IP {self.pk}")


class FloatingIp(SoftDeleteModel):
    id = models.AutoField(primary_key=True)
    address = models.CharField(max_length=255, null=True, blank=True)
    fixed_ip = relation("FixedIp", constraint=False, related_name="floating_ips", null=True)
    project_id = models.CharField(max_length=255, null=True, blank=True)
    host = models.CharField(max_length=255, null=True, blank=True)
    auto_assigned = models.BooleanField(null=True, blank=True)
    pool = models.CharField(max_length=255, null=True, blank=True)
    interface = models.CharField(max_length=255, null=True, blank=True)

    schema_facts = SchemaFacts(
        mysql_indexes=(("fixed_ip_id", ("fixed_ip_id",)),),
    )

    class Meta(SoftDeleteModel.Meta):
        db_table = "floating_ips"

    def __str__(self):
        return shown(self.address, f"floating IP {self.pk}")


class Network(SoftDeleteModel):
    id = models.AutoField(primary_key=True)
    injected = models.BooleanField(null=True, blank=True)
    cidr = models.CharField(max_length=255, null=True, blank=True)
    netmask = models.CharField(max_length=255, null=True, blank=True)
    bridge = models.CharField(max_length=255, null=True, blank=True)
    gateway = models.CharField(max_length=255, null=True, blank=True)
    broadcast = models.CharField(max_length=255, null=True, blank=True)
    dns1 = models.CharField(max_length=255, null=True, blank=True)
    vlan = models.IntegerField(null=True, blank=True)
    vpn_public_address = models.CharField(max_length=255, null=True, blank=True)
    vpn_public_port = models.IntegerField(null=True, blank=True)
    vpn_private_address = models.CharField(max_length=255, null=True, blank=True)
    dhcp_start = models.CharField(max_length=255, null=True, blank=True)
    project_id = models.CharField(max_length=255, null=True, blank=True)
    host = models.CharField(max_length=255, null=True, blank=True)
    cidr_v6 = models.CharField(max_length=255, null=True, blank=True)
    gateway_v6 = models.CharField(max_length=255, null=True, blank=True)
    label = models.CharField(max_length=255, null=True, blank=True)
    netmask_v6 = models.CharField(max_length=255, null=True, blank=True)
    bridge_interface = models.CharField(max_length=255, null=True, blank=True)
    multi_host = models.BooleanField(null=True, blank=True)
    dns2 = models.CharField(max_length=255, null=True, blank=True)
    uuid = models.CharField(max_length=36, null=True, blank=True)
    priority = models.IntegerField(null=True, blank=True)
    rxtx_base = models.IntegerField(null=True, blank=True)

    class Meta(SoftDeleteModel.Meta):
        db_table = "networks"

    def __str__(self):
        return f"{shown(self.label, f'network {self.pk}')} ({shown(self.cidr or self.cidr_v6, 'no CIDR')})"


class ProviderFirewallRule(SoftDeleteModel):
    id = models.AutoField(primary_key=True)
    protocol = models.CharField(max_length=5, null=True, blank=True)
    from_port = models.IntegerField(null=True, blank=True)
    to_port = models.IntegerField(null=True, blank=True)
    cidr = models.CharField(max_length=255, null=True, blank=True)

    class Meta(SoftDeleteModel.Meta):
        db_table = "provider_fw_rules"

    def __str__(self):
        return f"{shown(self.protocol)} {shown(self.from_port)}-{shown(self.to_port)} from {shown(self.cidr)}"


class SecurityGroupInstance(SoftDeleteModel):
    id = models.AutoField(primary_key=True)
    security_group = relation("SecurityGroup", constraint=True, related_name="instance_associations", null=True)
    instance = relation("inventory.Instance", constraint=True, related_name="security_group_associations", null=True)

    class Meta(SoftDeleteModel.Meta):
        db_table = "security_group_instance_association"

    def __str__(self):
        return f"security group {shown(self.security_group_id)} on instance {shown(self.instance_id)}"


class SecurityGroupRule(SoftDeleteModel):
    id = models.AutoField(primary_key=True)
    parent_group = relation("SecurityGroup", constraint=True, related_name="rules", null=True)
    protocol = models.CharField(max_length=255, null=True, blank=True)
    from_port = models.IntegerField(null=True, blank=True)
    to_port = models.IntegerField(null=True, blank=True)
    cidr = models.CharField(max_length=255, null=True, blank=True)
    group = relation("SecurityGroup", constraint=True, related_name="granted_rules", null=True)

    class Meta(SoftDeleteModel.Meta):
        db_table = "security_group_rules"

    def __str__(self):
        source = self.cidr or (f"group {self.group_id}" if self.group_id is not None else None)
        return f"{shown(self.protocol)} {shown(self.from_port)}-{shown(self.to_port)} from {shown(source)}"


class SecurityGroup(SoftDeleteModel):
    id = models.AutoField(primary_key=True)
    name = models.CharField(max_length=255, null=True, blank=True)
    description = models.CharField(max_length=255, null=True, blank=True)
    user_id = models.CharField(max_length=255, null=True, blank=True)
    project_id = models.CharField(max_length=255, null=True, blank=True)

    class Meta(SoftDeleteModel.Meta):
        db_table = "security_groups"

    def __str__(self):
        return f"{shown(self.name, f'security group {self.pk}')} of project {shown(self.project_id)}"


class VirtualInterface(SoftDeleteModel):
    id = models.AutoField(primary_key=True)
    address = models.CharField(max_length=255, null=True, blank=True, unique=True)
    network = relation("Network", constraint=False, related_name="virtual_interfaces", null=True)
    instance = relation("inventory.Instance", constraint=False, related_name="virtual_interfaces")
    uuid = models.CharField(max_length=36, null=True, blank=True)

    schema_facts = SchemaFacts(
        mysql_indexes=(("network_id", ("network_id",)), ("instance_id", ("instance_id",))),
    )

    class Meta(SoftDeleteModel.Meta):
        db_table = "virtual_interfaces"

    def __str__(self):
        return shown(self.address, f"virtual interface {self.pk}")
