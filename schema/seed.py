"""Rows Nova's ``082_essex`` migration inserts: the five default flavors."""

from __future__ import annotations

from django.core.management.color import no_style

from .dialects import dialect_for
from .dialects.quoting import quote_literal
from .model_schema import model_for_table

FLAVOR_TABLE = "instance_types"

#: (name, id, memory_mb, vcpus, root_gb, ephemeral_gb, flavorid), exactly as the reference dumps.
DEFAULT_FLAVORS = (
    ("m1.tiny", 1, 512, 1, 0, 0, "1"),
    ("m1.small", 2, 2048, 1, 10, 20, "2"),
    ("m1.medium", 3, 4096, 2, 10, 40, "3"),
    ("m1.large", 4, 8192, 4, 10, 80, "4"),
    ("m1.xlarge", 5, 16384, 8, 10, 160, "5"),
)


#: The columns the inserts give, in Nova's order; the others are NULL.
FLAVOR_COLUMNS = (
    "name", "id", "memory_mb", "vcpus", "swap", "vcpu_weight", "flavorid", "rxtx_factor", "root_gb", "ephemeral_gb",
    "deleted",
)  # fmt: skip


def default_flavor_statements(connection) -> list[str]:
    """The SQL that inserts the default flavors: what ``db_sync`` runs and ``--dry-run`` prints.

    Literal values (no parameters), so the printed script runs as it is; explicit ids leave
    PostgreSQL's sequence behind, so the sequence is moved past them after.
    """
    q = dialect_for(connection).quote
    names = ", ".join(map(q, FLAVOR_COLUMNS))
    rows = ",\n\t".join(
        f"({quote_literal(name)}, {pk}, {memory_mb}, {vcpus}, 0, NULL, {quote_literal(flavorid)}, 1.0, "
        f"{root_gb}, {ephemeral_gb}, FALSE)"
        for name, pk, memory_mb, vcpus, root_gb, ephemeral_gb, flavorid in DEFAULT_FLAVORS
    )
    statements = [f"INSERT INTO {q(FLAVOR_TABLE)} ({names}) VALUES\n\t{rows}"]
    statements += connection.ops.sequence_reset_sql(no_style(), [model_for_table(FLAVOR_TABLE)])
    return statements


def seed_default_flavors(connection) -> int:
    with connection.cursor() as cursor:
        for sql in default_flavor_statements(connection):
            cursor.execute(sql)
    return len(DEFAULT_FLAVORS)
