"""Volumes: nova-volume tables, snapshots, iSCSI targets, the SM driver."""

from django.db import models

from .base import SoftDeleteModel, relation, shown


class IscsiTarget(SoftDeleteModel):
    id = models.AutoField(primary_key=True)
    target_num = models.IntegerField(null=True, blank=True)
    host = models.CharField(max_length=255, null=True, blank=True)
    volume = relation("Volume", constraint=True, related_name="iscsi_targets", null=True)

    class Meta(SoftDeleteModel.Meta):
        db_table = "iscsi_targets"

    def __str__(self):
        return f"iSCSI target {shown(self.target_num)} on {shown(self.host)}"


class SmBackendConfig(SoftDeleteModel):
    id = models.AutoField(primary_key=True)
    flavor = relation("SmFlavor", constraint=True, related_name="backend_configs")
    sr_uuid = models.CharField(max_length=255, null=True, blank=True)
    sr_type = models.CharField(max_length=255, null=True, blank=True)
    config_params = models.CharField(max_length=2047, null=True, blank=True)

    class Meta(SoftDeleteModel.Meta):
        db_table = "sm_backend_config"

    def __str__(self):
        return f"{shown(self.sr_type)} backend {shown(self.sr_uuid, str(self.pk))}"


class SmFlavor(SoftDeleteModel):
    id = models.AutoField(primary_key=True)
    label = models.CharField(max_length=255, null=True, blank=True)
    description = models.CharField(max_length=255, null=True, blank=True)

    class Meta(SoftDeleteModel.Meta):
        db_table = "sm_flavors"

    def __str__(self):
        return shown(self.label, f"SM flavor {self.pk}")


class SmVolume(SoftDeleteModel):
    volume = models.OneToOneField(
        "Volume", models.DO_NOTHING, db_column="id", primary_key=True, db_index=False, related_name="sm_volume"
    )
    backend = relation("SmBackendConfig", constraint=True, related_name="sm_volumes")
    vdi_uuid = models.CharField(max_length=255, null=True, blank=True)

    class Meta(SoftDeleteModel.Meta):
        db_table = "sm_volume"

    def __str__(self):
        return f"SM volume {shown(self.vdi_uuid, str(self.pk))}"


class Snapshot(SoftDeleteModel):
    id = models.AutoField(primary_key=True)
    volume = relation("Volume", constraint=False, related_name="snapshots")
    user_id = models.CharField(max_length=255, null=True, blank=True)
    project_id = models.CharField(max_length=255, null=True, blank=True)
    status = models.CharField(max_length=255, null=True, blank=True)
    progress = models.CharField(max_length=255, null=True, blank=True)
    volume_size = models.IntegerField(null=True, blank=True)
    scheduled_at = models.DateTimeField(null=True, blank=True)
    display_name = models.CharField(max_length=255, null=True, blank=True)
    display_description = models.CharField(max_length=255, null=True, blank=True)

    class Meta(SoftDeleteModel.Meta):
        db_table = "snapshots"

    def __str__(self):
        return f"{shown(self.display_name, f'snapshot {self.pk}')} of volume {shown(self.volume_id)}"


class VolumeMetadata(SoftDeleteModel):
    id = models.AutoField(primary_key=True)
    volume = relation("Volume", constraint=True, related_name="metadata")
    key = models.CharField(max_length=255, null=True, blank=True)
    value = models.CharField(max_length=255, null=True, blank=True)

    class Meta(SoftDeleteModel.Meta):
        db_table = "volume_metadata"

    def __str__(self):
        return f"{shown(self.key)}={shown(self.value)}"


class VolumeTypeExtraSpec(SoftDeleteModel):
    id = models.AutoField(primary_key=True)
    volume_type = relation("VolumeType", constraint=True, related_name="extra_specs")
    key = models.CharField(max_length=255, null=True, blank=True)
    value = models.CharField(max_length=255, null=True, blank=True)

    class Meta(SoftDeleteModel.Meta):
        db_table = "volume_type_extra_specs"

    def __str__(self):
        return f"{shown(self.key)}={shown(self.value)}"


class VolumeType(SoftDeleteModel):
    id = models.AutoField(primary_key=True)
    name = models.CharField(max_length=255, null=True, blank=True)

    class Meta(SoftDeleteModel.Meta):
        db_table = "volume_types"

    def __str__(self):
        return shown(self.name, f"volume type {self.pk}")


class Volume(SoftDeleteModel):
    id = models.AutoField(primary_key=True)
    ec2_id = models.CharField(max_length=255, null=True, blank=True)
    user_id = models.CharField(max_length=255, null=True, blank=True)
    project_id = models.CharField(max_length=255, null=True, blank=True)
    host = models.CharField(max_length=255, null=True, blank=True)
    size = models.IntegerField(null=True, blank=True)
    availability_zone = models.CharField(max_length=255, null=True, blank=True)
    instance = relation("inventory.Instance", constraint=True, related_name="volumes", null=True)
    mountpoint = models.CharField(max_length=255, null=True, blank=True)
    attach_time = models.CharField(max_length=255, null=True, blank=True)
    status = models.CharField(max_length=255, null=True, blank=True)
    attach_status = models.CharField(max_length=255, null=True, blank=True)
    scheduled_at = models.DateTimeField(null=True, blank=True)
    launched_at = models.DateTimeField(null=True, blank=True)
    terminated_at = models.DateTimeField(null=True, blank=True)
    display_name = models.CharField(max_length=255, null=True, blank=True)
    display_description = models.CharField(max_length=255, null=True, blank=True)
    provider_location = models.CharField(max_length=256, null=True, blank=True)
    provider_auth = models.CharField(max_length=256, null=True, blank=True)
    snapshot = relation("Snapshot", constraint=False, related_name="+", null=True)
    volume_type = relation("VolumeType", constraint=False, related_name="volumes", null=True)

    class Meta(SoftDeleteModel.Meta):
        db_table = "volumes"

    def __str__(self):
        return shown(self.display_name, f"volume {shown(self.ec2_id, str(self.pk))}")
