"""Rows Nova's ``082_essex`` migration inserts: the five default flavors."""

from __future__ import annotations

from django.core.management.color import no_style

from .model_schema import model_for_table

#: (name, id, memory_mb, vcpus, root_gb, ephemeral_gb, flavorid), exactly as the reference dumps.
DEFAULT_FLAVORS = (
    ("m1.tiny", 1, 512, 1, 0, 0, "1"),
    ("m1.small", 2, 2048, 1, 10, 20, "2"),
    ("m1.medium", 3, 4096, 2, 10, 40, "3"),
    ("m1.large", 4, 8192, 4, 10, 80, "4"),
    ("m1.xlarge", 5, 16384, 8, 10, 160, "5"),
)


def seed_default_flavors(connection) -> int:
    Flavor = model_for_table("instance_types")  # noqa: N806 -- a model class
    rows = [
        Flavor(
            name=name,
            id=pk,
            memory_mb=memory_mb,
            vcpus=vcpus,
            swap=0,
            vcpu_weight=None,
            flavorid=flavorid,
            rxtx_factor=1.0,
            root_gb=root_gb,
            ephemeral_gb=ephemeral_gb,
            deleted=False,
        )
        for name, pk, memory_mb, vcpus, root_gb, ephemeral_gb, flavorid in DEFAULT_FLAVORS
    ]
    Flavor.objects.using(connection.alias).bulk_create(rows)
    # Explicit ids leave PostgreSQL's sequence behind: move it past them.
    reset = connection.ops.sequence_reset_sql(no_style(), [Flavor])
    if reset:
        with connection.cursor() as cursor:
            for sql in reset:
                cursor.execute(sql)
    return len(rows)
