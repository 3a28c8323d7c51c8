"""Compute: instances, flavors and what hangs off an instance."""

from django.db import models

from .base import SchemaFacts, SoftDeleteModel, relation, shown


class BlockDeviceMapping(SoftDeleteModel):
    id = models.AutoField(primary_key=True)
    instance = relation("Instance", constraint=True, related_name="block_device_mappings")
    device_name = models.CharField(max_length=255)
    delete_on_termination = models.BooleanField(null=True, blank=True)
    virtual_name = models.CharField(max_length=255, null=True, blank=True)
    snapshot = relation("inventory.Snapshot", constraint=True, related_name="block_device_mappings", null=True)
    volume = relation("inventory.Volume", constraint=True, related_name="block_device_mappings", null=True)
    volume_size = models.IntegerField(null=True, blank=True)
    no_device = models.BooleanField(null=True, blank=True)
    connection_info = models.TextField(null=True, blank=True)

    class Meta(SoftDeleteModel.Meta):
        db_table = "block_device_mapping"

    def __str__(self):
        return f"{shown(self.device_name)} on instance {shown(self.instance_id)}"


class InstanceAction(SoftDeleteModel):
    id = models.AutoField(primary_key=True)
    action = models.CharField(max_length=255, null=True, blank=True)
    error = models.TextField(null=True, blank=True)
    instance = relation(
        "Instance", constraint=False, db_column="instance_uuid", to_field="uuid", related_name="actions", null=True
    )

    class Meta(SoftDeleteModel.Meta):
        db_table = "instance_actions"

    def __str__(self):
        return f"{shown(self.action)} on instance {shown(self.instance_id)}"


class InstanceFault(SoftDeleteModel):
    id = models.AutoField(primary_key=True)
    instance = relation(
        "Instance", constraint=False, db_column="instance_uuid", to_field="uuid", related_name="faults", null=True
    )
    code = models.IntegerField()
    message = models.CharField(max_length=255, null=True, blank=True)
    details = models.TextField(null=True, blank=True)

    class Meta(SoftDeleteModel.Meta):
        db_table = "instance_faults"

    def __str__(self):
        return f"fault {shown(self.code)} on instance {shown(self.instance_id)}: {shown(self.message)}"


class InstanceInfoCache(SoftDeleteModel):
    id = models.AutoField(primary_key=True)
    network_info = models.TextField(null=True, blank=True)
    instance = relation("Instance", constraint=True, to_field="uuid", related_name="info_cache", one_to_one=True)

    schema_facts = SchemaFacts(
        late_foreign_keys=("instance_id",),
    )

    class Meta(SoftDeleteModel.Meta):
        db_table = "instance_info_caches"

    def __str__(self):
        return f"network info of instance {shown(self.instance_id)}"


class InstanceMetadata(SoftDeleteModel):
    id = models.AutoField(primary_key=True)
    instance = relation("Instance", constraint=True, related_name="metadata")
    key = models.CharField(max_length=255, null=True, blank=True)
    value = models.CharField(max_length=255, null=True, blank=True)

    class Meta(SoftDeleteModel.Meta):
        db_table = "instance_metadata"

    def __str__(self):
        return f"{shown(self.key)}={shown(self.value)}"


class FlavorExtraSpec(SoftDeleteModel):
    id = models.AutoField(primary_key=True)
    flavor = relation("Flavor", constraint=True, db_column="instance_type_id", related_name="extra_specs")
    key = models.CharField(max_length=255, null=True, blank=True)
    value = models.CharField(max_length=255, null=True, blank=True)

    class Meta(SoftDeleteModel.Meta):
        db_table = "instance_type_extra_specs"

    def __str__(self):
        return f"{shown(self.key)}={shown(self.value)}"


class Flavor(SoftDeleteModel):
    name = models.CharField(max_length=255, null=True, blank=True)
    id = models.AutoField(primary_key=True)
    memory_mb = models.IntegerField()
    vcpus = models.IntegerField()
    swap = models.IntegerField()
    vcpu_weight = models.IntegerField(null=True, blank=True)
    flavorid = models.CharField(max_length=255, null=True, blank=True)
    rxtx_factor = models.FloatField(null=True, blank=True)
    root_gb = models.IntegerField(null=True, blank=True)
    ephemeral_gb = models.IntegerField(null=True, blank=True)

    schema_facts = SchemaFacts(
        column_order=("created_at", "updated_at", "deleted_at", "deleted", "name", "id"),
    )

    class Meta(SoftDeleteModel.Meta):
        db_table = "instance_types"

    def __str__(self):
        return shown(self.name, f"flavor {self.pk}")


class Instance(SoftDeleteModel):
    id = models.AutoField(primary_key=True)
    internal_id = models.IntegerField(null=True, blank=True)
    user_id = models.CharField(max_length=255, null=True, blank=True)
    project_id = models.CharField(max_length=255, null=True, blank=True)
    image_ref = models.CharField(max_length=255, null=True, blank=True)
    kernel_id = models.CharField(max_length=255, null=True, blank=True)
    ramdisk_id = models.CharField(max_length=255, null=True, blank=True)
    server_name = models.CharField(max_length=255, null=True, blank=True)
    launch_index = models.IntegerField(null=True, blank=True)
    key_name = models.CharField(max_length=255, null=True, blank=True)
    key_data = models.TextField(null=True, blank=True)
    power_state = models.IntegerField(null=True, blank=True)
    vm_state = models.CharField(max_length=255, null=True, blank=True)
    memory_mb = models.IntegerField(null=True, blank=True)
    vcpus = models.IntegerField(null=True, blank=True)
    hostname = models.CharField(max_length=255, null=True, blank=True)
    host = models.CharField(max_length=255, null=True, blank=True)
    user_data = models.TextField(null=True, blank=True)
    reservation_id = models.CharField(max_length=255, null=True, blank=True)
    scheduled_at = models.DateTimeField(null=True, blank=True)
    launched_at = models.DateTimeField(null=True, blank=True)
    terminated_at = models.DateTimeField(null=True, blank=True)
    display_name = models.CharField(max_length=255, null=True, blank=True)
    display_description = models.CharField(max_length=255, null=True, blank=True)
    availability_zone = models.CharField(max_length=255, null=True, blank=True)
    locked = models.BooleanField(null=True, blank=True)
    os_type = models.CharField(max_length=255, null=True, blank=True)
    launched_on = models.TextField(null=True, blank=True)
    flavor = relation("Flavor", constraint=False, db_column="instance_type_id", related_name="instances", null=True)
    vm_mode = models.CharField(max_length=255, null=True, blank=True)
    uuid = models.CharField(max_length=36, null=True, blank=True)
    architecture = models.CharField(max_length=255, null=True, blank=True)
    root_device_name = models.CharField(max_length=255, null=True, blank=True)
    access_ip_v4 = models.CharField(max_length=255, null=True, blank=True)
    access_ip_v6 = models.CharField(max_length=255, null=True, blank=True)
    config_drive = models.CharField(max_length=255, null=True, blank=True)
    task_state = models.CharField(max_length=255, null=True, blank=True)
    default_ephemeral_device = models.CharField(max_length=255, null=True, blank=True)
    default_swap_device = models.CharField(max_length=255, null=True, blank=True)
    progress = models.IntegerField(null=True, blank=True)
    auto_disk_config = models.BooleanField(null=True, blank=True)
    shutdown_terminate = models.BooleanField(null=True, blank=True)
    disable_terminate = models.BooleanField(null=True, blank=True)
    root_gb = models.IntegerField(null=True, blank=True)
    ephemeral_gb = models.IntegerField(null=True, blank=True)
    cell_name = models.CharField(max_length=255, null=True, blank=True)

    class Meta(SoftDeleteModel.Meta):
        db_table = "instances"
        indexes = [models.Index(fields=["project_id"], name="project_id")]
        constraints = [models.UniqueConstraint(fields=["uuid"], name="uuid")]

    def __str__(self):
        return f"{shown(self.display_name or self.hostname, f'instance {self.pk}')} ({shown(self.uuid, 'no uuid')})"


class KeyPair(SoftDeleteModel):
    id = models.AutoField(primary_key=True)
    name = models.CharField(max_length=255, null=True, blank=True)
    user_id = models.CharField(max_length=255, null=True, blank=True)
    fingerprint = models.CharField(max_length=255, null=True, blank=True)
    public_key = models.TextField(null=True, blank=True)

    class Meta(SoftDeleteModel.Meta):
        db_table = "key_pairs"

    def __str__(self):
        return f"{shown(self.name, f'key pair {self.pk}')} of user {shown(self.user_id)}"


class Migration(SoftDeleteModel):
    id = models.AutoField(primary_key=True)
    source_compute = models.CharField(max_length=255, null=True, blank=True)
    dest_compute = models.CharField(max_length=255, null=True, blank=True)
    dest_host = models.CharField(max_length=255, null=True, blank=True)
    status = models.CharField(max_length=255, null=True, blank=True)
    instance = relation(
        "Instance", constraint=False, db_column="instance_uuid", to_field="uuid", related_name="migrations", null=True
    )
    old_flavor = relation("Flavor", constraint=False, db_column="old_instance_type_id", related_name="+", null=True)
    new_flavor = relation("Flavor", constraint=False, db_column="new_instance_type_id", related_name="+", null=True)

    schema_facts = SchemaFacts(
        # Nova declared migrations.instance_uuid as String(255), wider than instances.uuid.
        column_types={"instance_uuid": models.CharField(max_length=255, null=True)},
    )

    class Meta(SoftDeleteModel.Meta):
        db_table = "migrations"

    def __str__(self):
        return (
            f"migration of instance {shown(self.instance_id)}: "
            f"{shown(self.source_compute)} → {shown(self.dest_compute)} ({shown(self.status)})"
        )


class S3Image(SoftDeleteModel):
    id = models.AutoField(primary_key=True)
    uuid = models.CharField(max_length=36)

    class Meta(SoftDeleteModel.Meta):
        db_table = "s3_images"

    def __str__(self):
        return f"S3 image {shown(self.uuid, str(self.pk))}"


class VirtualStorageArray(SoftDeleteModel):
    id = models.AutoField(primary_key=True)
    display_name = models.CharField(max_length=255, null=True, blank=True)
    display_description = models.CharField(max_length=255, null=True, blank=True)
    project_id = models.CharField(max_length=255, null=True, blank=True)
    availability_zone = models.CharField(max_length=255, null=True, blank=True)
    flavor = relation("Flavor", constraint=False, db_column="instance_type_id", related_name="+")
    image_ref = models.CharField(max_length=255, null=True, blank=True)
    vc_count = models.IntegerField()
    vol_count = models.IntegerField()
    status = models.CharField(max_length=255, null=True, blank=True)

    class Meta(SoftDeleteModel.Meta):
        db_table = "virtual_storage_arrays"

    def __str__(self):
        return shown(self.display_name, f"storage array {self.pk}")
