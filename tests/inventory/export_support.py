"""Helpers of the export tests: a seeded cloud with hostile values, and the export computed by direct SQL."""

from __future__ import annotations

import csv
import datetime
import io
import json

from django.db import connections

from inventory import states
from inventory.models import FixedIp, FloatingIp, Instance
from tests.inventory.inventory_support import seeded_database, temporary_alias

HOSTILE_TEXT = (
    "<script>alert(1)</script>",
    '=HYPERLINK("http://x","click")',
    "+1+2",
    "-3",
    "@SUM(A1:A2)",
    "\tlead-tab",
    "\rlead-cr",
    "line one\nline two",
    'quote " and, comma',
    "Ünïcødé ✓ 名前 ‮",
    "trailing space ",
    "'already quoted",
    "a=b",
)
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

INSTANCE_HEADERS = [
    "Uuid", "Display name", "Hostname", "Host", "Availability zone", "Project id", "User id", "Flavor",
    "Vm state", "Task state", "Power state", "Power state code", "Fixed IPs", "Floating IPs", "Created at",
    "Launched at",
]  # fmt: skip

INSTANCE_SQL = """
SELECT i.id, i.uuid, i.display_name, i.hostname, i.host, i.availability_zone, i.project_id, i.user_id, t.name,
       i.vm_state, i.task_state, i.power_state, i.created_at, i.launched_at
FROM instances i LEFT JOIN instance_types t ON t.id = i.instance_type_id
WHERE {where}
ORDER BY i.id DESC
"""
FIXED_SQL = "SELECT instance_id, address FROM fixed_ips WHERE deleted IS NULL OR deleted <> {true} ORDER BY id"
FLOATING_SQL = """
SELECT f.instance_id, fl.address FROM floating_ips fl JOIN fixed_ips f ON f.id = fl.fixed_ip_id
WHERE f.deleted IS NULL OR f.deleted <> {true} ORDER BY f.id, fl.id
"""


def seeded_with_hostile_values(backend, templates, tmp_dir, blocker):
    """A seeded cloud whose first instances hold hostile text, several and deleted IPs, odd states and times."""
    db = seeded_database(backend, templates, tmp_dir, blocker, instances=40)
    with blocker.unblock(), temporary_alias(db, f"hostile_{backend}") as connection:
        alias = connection.alias
        ids = list(Instance.objects.using(alias).order_by("id").values_list("id", flat=True)[: len(HOSTILE_TEXT)])
        network_id = FixedIp.objects.using(alias).exclude(network=None).values_list("network_id", flat=True)[0]
        for n, (pk, text) in enumerate(zip(ids, HOSTILE_TEXT, strict=False)):
            Instance.objects.using(alias).filter(pk=pk).update(
                display_name=text,
                hostname=HOSTILE_TEXT[-1 - n],
                host=text if n % 3 == 0 else "compute-001",
                power_state=(None, 42, 4)[n % 3],
                flavor_id=None if n == 1 else 1,
                created_at=datetime.datetime(2012, 3, 4, 5, 6, 7, 123456 if n % 2 else 0),
                launched_at=None if n == 2 else datetime.datetime(2012, 3, 4, 5, 6, 8),
            )
            fixed = [
                FixedIp.objects.using(alias).create(
                    address=f"192.168.{n}.{k}", instance_id=pk, network_id=network_id, deleted=k == 2
                )
                for k in range(3)
            ]
            FloatingIp.objects.using(alias).create(address=f"=172.31.{n}.1", fixed_ip=fixed[1])
            FloatingIp.objects.using(alias).create(address=f"172.30.{n}.1", fixed_ip=fixed[0])
            FloatingIp.objects.using(alias).create(address=f"172.29.{n}.1", fixed_ip=fixed[2])  # deleted fixed IP
    return db


def neutralised(value, raw=False):
    if isinstance(value, str) and value[:1] in FORMULA_STARTS and not raw:
        return "'" + value
    return value


def iso(value):
    if isinstance(value, str):  # SQLite: Django's text form
        value = datetime.datetime.fromisoformat(value)
    return None if value is None else value.isoformat() + "Z"


def ip_lists(cursor, sql, true) -> dict:
    lists: dict[int, list[str]] = {}
    cursor.execute(sql.format(true=true))
    for instance_id, address in cursor.fetchall():
        lists.setdefault(instance_id, []).append(address)
    return {key: " ".join(values) for key, values in lists.items()}


def expected_instances(where: str = "(i.deleted IS NULL OR i.deleted <> {true})", params=(), raw=False) -> list[list]:
    """The instance export as the tests compute it: direct SQL, cells formatted by the documented rules."""
    connection = connections["nova"]
    true = "true" if connection.vendor == "postgresql" else "1"
    with connection.cursor() as cursor:
        fixed = ip_lists(cursor, FIXED_SQL, true)
        floating = ip_lists(cursor, FLOATING_SQL, true)
        cursor.execute(INSTANCE_SQL.format(where=where.format(true=true)), params)
        rows = cursor.fetchall()
    expected = []
    for pk, uuid, name, hostname, host, zone, project, user, flavor, vm, task, power, created, launched in rows:
        text = [uuid, name, hostname, host, zone, project, user, flavor, vm, task]
        expected.append(
            [neutralised(value, raw) for value in text]
            + [states.POWER_STATES.get(power), power]
            + [neutralised(fixed.get(pk), raw), neutralised(floating.get(pk), raw), iso(created), iso(launched)]
        )
    return expected


def as_csv_cells(rows: list[list]) -> list[list[str]]:
    """What a CSV reader reads back (NULL and empty are both an empty cell)."""
    return [["" if value is None else str(value) for value in row] for row in rows]


def read_csv(data: bytes) -> tuple[list[str], list[list[str]]]:
    rows = list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))
    return rows[0], rows[1:]


def read_jsonl(data: str) -> list[dict]:
    return [json.loads(line) for line in data.splitlines()]
