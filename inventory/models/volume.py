"""Volumes: nova-volume tables, snapshots, iSCSI targets, the SM driver."""

from django.db import models

from .base import SoftDeleteModel, relation


class IscsiTarget(SoftDeleteModel):
    id = models.AutoField(primary_key=True)
    target_num = models.IntegerField(null=True, blank=True)
    host = models.CharField(max_length=255, null=True, blank=True)
    volume = relation("Volume", constraint=True, related_name="iscsi_targets", null=True)

    class Meta(SoftDeleteModel.Meta):
        db_table = "iscsi_targets"


class SmBackendConfig(SoftDeleteModel):
    id = models.AutoField(primary_key=True)
    flavor = relation("SmFlavor", constraint=True, related_name="backend_configs")
    sr_uuid = models.CharField(max_length=255, null=True, blank=True)
    sr_type = models.CharField(max_length=255, null=True, blank=True)
    config_params = models.CharField(max_length=2047, null=True, blank=True)

    class Meta(SoftDeleteModel.Meta):
        db_table = "sm_backend_config"


class SmFlavor(SoftDeleteModel):
    id = models.AutoField(primary_key=True)
    label = models.CharField(max_length=255, null=True, blank=True)
    description = models.CharField(max_length=255, null=True, blank=True)

    class Meta(SoftDeleteModel.Meta):
        db_table = "sm_flavors"


class SmVolume(SoftDeleteModel):
    volume = models.OneToOneField(
        "Volume", models.DO_NOTHING, db_column="id", primary_key=True, db_index=False, related_name="sm_volume"
    )
    backend = relation("SmBackendConfig", constraint=True, related_name="sm_volumes")
    vdi_uuid = models.CharField(max_length=255, null=True, blank=True)

    class Meta(SoftDeleteModel.Meta):
        db_table = "sm_volume"


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


class VolumeMetadata(SoftDeleteModel):
    id = models.AutoField(primary_key=True)
    volume = relation("Volume", constraint=True, related_name="metadata")
    key = models.CharField(max_length=255, null=True, blank=True)
    value = models.CharField(max_length=255, null=True, blank=True)

    class Meta(SoftDeleteModel.Meta):
        db_table = "volume_metadata"


class VolumeTypeExtraSpec(SoftDeleteModel):
    id = models.AutoField(primary_key=True)
    volume_type = relation("VolumeType", constraint=True, related_name="extra_specs")
    key = models.CharField(max_length=255, null=True, blank=True)
    value = models.CharField(max_length=255, null=True, blank=True)

    class Meta(SoftDeleteModel.Meta):
        db_table = "volume_type_extra_specs"


class VolumeType(SoftDeleteModel):
    id = models.AutoField(primary_key=True)
    name = models.CharField(max_length=255, null=True, blank=True)

    class Meta(SoftDeleteModel.Meta):
        db_table = "volume_types"


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
