"""A realistic, deterministic demo cloud written straight into a Nova database.

Same ``(instances, seed)`` -> the same rows, ids included. Rows are built as
plain tuples and written with the backend's fastest bulk path
(``Dialect.bulk_session``: COPY on PostgreSQL, ``LOAD DATA LOCAL INFILE`` on
MySQL/MariaDB where the server allows it, else multi-row INSERTs), a chunk of
instances at a time, with their IPs, metadata and security groups.

What it writes: users and projects (with memberships), one controller and N
compute hosts (``services`` + ``compute_nodes``) spread over availability
zones, flat networks with every fixed IP Nova would have created, floating
IPs (most associated), instances in every vm/task/power state combination
Nova produces, their metadata, security groups (+ rules) and associations, a
fault for each instance in ``error``, and soft-deleted instances whose fixed
IPs were released, as Nova releases them.
"""

from __future__ import annotations

import bisect
import contextlib
import ipaddress
import itertools
import json
import math
import queue
import random
import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.core.management.color import no_style
from django.db import transaction
from django.db.models import Max

from inventory import models as m
from schema.dialects import dialect_for
from schema.seed import seed_default_flavors

#: The clock of the demo cloud: fixed, so a seed always gives the same rows.
EPOCH = datetime(2012, 9, 1, 12, 0, 0)
AVAILABILITY_ZONES = ("nova", "az-east", "az-west")
ROLES = ("web", "api", "db", "cache", "worker", "batch", "ci-runner", "k8s-node", "proxy", "search")
IMAGES = tuple(str(uuid.UUID(int=0xA11CE000 + n, version=4)) for n in range(6))
CHUNK = 20_000

# (vm_state, task_state, power_state, weight): what Nova's compute manager leaves behind.
STATE_MIX = (
    ("active", None, 1, 700),
    ("active", "image_snapshot", 1, 8),
    ("active", "image_backup", 1, 4),
    ("active", "updating_password", 1, 2),
    ("active", "rebooting", 1, 6),
    ("active", "rebooting_hard", 1, 2),
    ("active", "pausing", 1, 2),
    ("active", "suspending", 1, 2),
    ("active", "rescuing", 1, 1),
    ("active", "powering_off", 1, 2),
    ("active", "stopping", 1, 2),
    ("active", "resize_prep", 1, 2),
    ("active", "resize_migrating", 1, 2),
    ("active", "resize_migrated", 1, 1),
    ("active", "resize_finish", 1, 1),
    ("active", "deleting", 1, 4),
    ("active", None, 2, 1),
    ("building", "scheduling", 0, 6),
    ("building", "block_device_mapping", 0, 2),
    ("building", "networking", 0, 3),
    ("building", "spawning", 0, 6),
    ("building", "spawning", 9, 1),
    ("rebuilding", "rebuilding", 0, 2),
    ("paused", None, 3, 15),
    ("paused", "unpausing", 3, 1),
    ("suspended", None, 7, 15),
    ("suspended", "resuming", 7, 1),
    ("stopped", None, 4, 40),
    ("stopped", None, 5, 4),
    ("stopped", "starting", 4, 2),
    ("stopped", "powering_on", 4, 1),
    ("rescued", None, 1, 3),
    ("rescued", "unrescuing", 1, 1),
    ("resized", "resize_verify", 1, 4),
    ("resized", "resize_reverting", 1, 1),
    ("resized", "resize_confirming", 1, 1),
    ("migrating", None, 1, 2),
    ("resizing", "resize_prep", 1, 2),
    ("soft-delete", None, 4, 5),
    ("error", None, 0, 10),
    ("error", None, 6, 4),
    ("error", None, 8, 1),
    ("error", "deleting", 0, 2),
)
#: one in DELETED_EVERY instances is soft-deleted (vm_state "deleted", IPs released).
DELETED_EVERY = 8
FAULTS = (
    (500, "NoValidHost", "No valid host was found. There are not enough hosts available."),
    (500, "InstanceTypeDiskTooSmall", "Instance type's disk is too small for requested image."),
    (500, "libvirtError", "internal error Process exited while reading console log output"),
)

INSTANCE_COLUMNS = (
    "id", "created_at", "updated_at", "deleted_at", "deleted", "user_id", "project_id", "image_ref", "key_name",
    "power_state", "vm_state", "memory_mb", "vcpus", "hostname", "host", "reservation_id", "scheduled_at",
    "launched_at", "terminated_at", "display_name", "display_description", "availability_zone", "locked",
    "os_type", "instance_type_id", "uuid", "architecture", "root_device_name", "task_state", "root_gb",
    "ephemeral_gb",
)  # fmt: skip
FIXED_IP_COLUMNS = (
    "id", "created_at", "updated_at", "deleted", "address", "network_id", "instance_id", "allocated", "leased",
    "reserved", "host",
)  # fmt: skip


FLOATING_IP_COLUMNS = (
    "id", "created_at", "deleted", "address", "fixed_ip_id", "project_id", "host", "auto_assigned", "pool",
    "interface",
)  # fmt: skip
SG_ASSOCIATION_COLUMNS = ("created_at", "deleted", "security_group_id", "instance_id")
FAULT_COLUMNS = ("created_at", "deleted", "instance_uuid", "code", "message", "details")


def ts(value: datetime | None) -> str | None:
    """Datetimes as text: every backend's bulk path parses ``YYYY-MM-DD HH:MM:SS``."""
    return None if value is None else value.strftime("%Y-%m-%d %H:%M:%S")


EPOCH_TS = ts(EPOCH)


@dataclass
class Host:
    name: str
    zone: str
    service_id: int
    vcpus: int = 64
    memory_mb: int = 262_144
    local_gb: int = 4_000
    vcpus_used: int = 0
    memory_mb_used: int = 0
    local_gb_used: int = 0
    running_vms: int = 0


@dataclass
class Plan:
    """How big each part of the cloud is, derived from the instance count."""

    instances: int
    projects: int = field(init=False)
    users: int = field(init=False)
    hosts: int = field(init=False)
    network_size: int = field(init=False)
    networks: int = field(init=False)

    def __post_init__(self):
        n = self.instances
        self.projects = min(max(n // 2000, 8), 400)
        self.users = self.projects * 3
        self.hosts = min(max(n // 100, 4), 400)
        # Fixed IPs for every live instance, plus ~25% free: a few networks, at most /16 each.
        per_network = 2 ** math.ceil(math.log2(max(n * 1.25 / 8, 256)))
        self.network_size = min(per_network, 65_536)
        self.networks = max(math.ceil(n * 1.25 / (self.network_size - 3)), 1)


class BulkWriter:
    """Writes batches of rows on background threads while the next chunk is being built.

    Two stages, each on its own thread: the dialect's bulk session encodes a
    batch (``BulkSession.encode``: a ``LOAD DATA`` file on MySQL/MariaDB, the
    rows as they are elsewhere) and sends it (``BulkSession.send``). The
    driver waits for the server without holding the GIL, so on two cores
    Python builds and encodes rows while the database stores the previous
    ones. Foreign-key checks are off for the load (``Dialect.bulk_load``), as
    in a dump restore: the rows are consistent by construction.

    The sending thread is the only one that uses the connection while the
    writer is open (the caller's thread builds rows and touches the database
    again only after ``__exit__`` has joined both threads); the rows go in the
    caller's transaction.
    """

    def __init__(self, connection, dialect, *, fastest: bool = True):
        self.connection = connection
        self.dialect = dialect
        self.fastest = fastest
        self.counts: dict[str, int] = {}
        self.error: BaseException | None = None
        self.session = None
        self._rows: queue.Queue = queue.Queue(maxsize=4)
        self._encoded: queue.Queue = queue.Queue(maxsize=4)
        self._threads = [
            threading.Thread(target=self._encode, name="seed-demo-encoder", daemon=True),
            threading.Thread(target=self._send, name="seed-demo-writer", daemon=True),
        ]

    def put(self, table: str, columns: tuple, rows: list) -> None:
        if self.error is not None:
            raise self.error
        if rows:
            self._rows.put((table, columns, rows))
            self.counts[table] = self.counts.get(table, 0) + len(rows)

    def _encode(self) -> None:
        while (item := self._rows.get()) is not None:
            if self.error is None:  # after a failure, drain so that put() never blocks
                try:
                    self._encoded.put(self.session.encode(*item))
                except BaseException as exc:  # noqa: BLE001 -- re-raised in the caller's thread
                    self.error = exc
        self._encoded.put(None)

    def _send(self) -> None:
        while (payload := self._encoded.get()) is not None:
            if self.error is None:
                try:
                    self.session.send(payload)
                except BaseException as exc:  # noqa: BLE001 -- re-raised in the caller's thread
                    self.error = exc

    def __enter__(self):
        self._session = self.dialect.bulk_session(fastest=self.fastest)
        self.session = self._session.__enter__()
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, exc_type, exc, tb):
        self._rows.put(None)
        for thread in self._threads:
            thread.join()
        if exc is None and self.error is not None:
            self._session.__exit__(type(self.error), self.error, self.error.__traceback__)
            raise self.error
        self._session.__exit__(exc_type, exc, tb)
        return False


class DemoCloud:
    def __init__(self, connection, *, instances: int, seed: int = 42, progress=None, fastest_load: bool = True):
        """``fastest_load=False``: the dialect's generic bulk path (``Dialect.bulk_session``), for comparisons."""
        self.connection = connection
        self.fastest_load = fastest_load
        self.alias = connection.alias
        self.dialect = dialect_for(connection)
        self.plan = Plan(instances)
        self.rng = random.Random(seed)
        self.progress = progress
        self.counts: dict[str, int] = {}
        self._weights = [weight for *_, weight in STATE_MIX]

    # ---- helpers -------------------------------------------------------------
    def uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def when(self, max_days: int = 700) -> datetime:
        return EPOCH - timedelta(seconds=self.rng.randrange(max_days * 86_400))

    # ---- the cloud -------------------------------------------------------------
    def build(self) -> dict[str, int]:
        # All or nothing: every row (flavors, the load, ids) is written on this one connection, in one
        # transaction; on MySQL/MariaDB the connection is reopened with local_infile for it (bulk_connection).
        setup = self.dialect.bulk_connection() if self.fastest_load else contextlib.nullcontext()
        with setup:
            return self._build()

    def _build(self) -> dict[str, int]:
        with transaction.atomic(using=self.alias):
            flavors = self.flavors()
            # Explicit ids (relations are known without reading rows back), read before the writer starts.
            tables = (m.Service, m.SecurityGroup, m.Network, m.Instance, m.FixedIp, m.FloatingIp, m.ComputeNode)
            self.base_ids = base_ids = {model: self._next_id(model) for model in tables}
            with BulkWriter(self.connection, self.dialect, fastest=self.fastest_load) as writer:
                users, projects = self.identity(writer)
                hosts = self.hosts(writer, base_ids[m.Service])
                groups = self.security_groups(writer, users, projects, base_ids[m.SecurityGroup])
                networks = self.networks(writer, hosts, base_ids[m.Network])
                self.instances(writer, flavors, users, projects, hosts, groups, networks)
                self.compute_nodes(writer, hosts)
            #: how the rows reached the server, and why not a faster way ("" when nothing to say)
            self.load_method, self.load_note = writer.session.method, writer.session.note
        self.reset_sequences()
        with self.connection.cursor() as cursor:
            self.dialect.analyze(cursor, sorted(writer.counts))
        return writer.counts

    def flavors(self) -> list:
        live = list(m.Flavor.objects.using(self.alias).live().order_by("id"))
        if not live:
            seed_default_flavors(self.connection)
            live = list(m.Flavor.objects.using(self.alias).live().order_by("id"))
        return live

    def identity(self, writer):
        users, projects, memberships = [], [], []
        for n in range(self.plan.users):
            name = f"user{n:04d}"
            access = f"{self.rng.getrandbits(64):016x}"
            secret = f"{self.rng.getrandbits(128):032x}"
            users.append((name, ts(self.when()), False, name, access, secret, n == 0))
        for n in range(self.plan.projects):
            pid = f"{self.rng.getrandbits(128):032x}"
            manager = users[(n * 3) % len(users)][0]
            projects.append((pid, ts(self.when()), False, f"project-{n:03d}", f"Demo project {n}", manager))
            for k in range(3):
                memberships.append((ts(self.when()), False, users[(n * 3 + k) % len(users)][0], pid))
        writer.put("users", ("id", "created_at", "deleted", "name", "access_key", "secret_key", "is_admin"), users)
        writer.put("projects", ("id", "created_at", "deleted", "name", "description", "project_manager"), projects)
        writer.put("user_project_association", ("created_at", "deleted", "user_id", "project_id"), memberships)
        # Each project's users, for instance ownership.
        return [u[0] for u in users], [p[0] for p in projects]

    def hosts(self, writer, base) -> list[Host]:
        rows = []
        controller_binaries = ("nova-scheduler", "nova-cert", "nova-consoleauth", "nova-network")
        for binary in controller_binaries:
            rows.append((base + len(rows), ts(EPOCH), False, "controller-01", binary, binary[5:], 1000, False, "nova"))
        hosts = []
        for n in range(self.plan.hosts):
            zone = AVAILABILITY_ZONES[n % len(AVAILABILITY_ZONES)]
            host = Host(f"compute-{n + 1:03d}", zone, base + len(rows))
            hosts.append(host)
            rows.append(
                (host.service_id, ts(EPOCH), False, host.name, "nova-compute", "compute", 1000, n % 97 == 5, zone)
            )
        columns = (
            "id",
            "created_at",
            "deleted",
            "host",
            "binary",
            "topic",
            "report_count",
            "disabled",
            "availability_zone",
        )
        writer.put("services", columns, rows)
        return hosts

    def security_groups(self, writer, users, projects, base) -> dict[str, list[int]]:
        groups, rules, by_project = [], [], {}
        for n, pid in enumerate(projects):
            for name, description in (("default", "default"), ("web", "HTTP and HTTPS from anywhere")):
                gid = base + len(groups)
                groups.append((gid, ts(EPOCH), False, name, description, users[(n * 3) % len(users)], pid))
                by_project.setdefault(pid, []).append(gid)
                ports = ((22, 22), (-1, -1)) if name == "default" else ((80, 80), (443, 443))
                for lo, hi in ports:
                    protocol = "icmp" if lo == -1 else "tcp"
                    rules.append((ts(EPOCH), False, gid, protocol, lo, hi, "0.0.0.0/0"))
        writer.put(
            "security_groups", ("id", "created_at", "deleted", "name", "description", "user_id", "project_id"), groups
        )
        columns = ("created_at", "deleted", "parent_group_id", "protocol", "from_port", "to_port", "cidr")
        writer.put("security_group_rules", columns, rules)
        return by_project

    def networks(self, writer, hosts, base) -> list:
        """Networks and their fixed IPs' addresses: ``[(network_id, [addresses...]), ...]``."""
        size = self.plan.network_size
        prefix = 32 - int(math.log2(size))
        rows, pools = [], []
        start = int(ipaddress.IPv4Address("10.0.0.0"))
        for n in range(self.plan.networks):
            net = ipaddress.IPv4Network((start + n * size, prefix))
            nid = base + n
            addresses = [str(a) for a in net]
            rows.append(
                (nid, ts(EPOCH), False, False, str(net), str(net.netmask), f"br{100 + n}", addresses[1],
                 str(net.broadcast_address), "8.8.4.4", addresses[2], "eth1", f"private-{n}", True,
                 str(uuid.UUID(int=0xBEEF0000 + nid, version=4)), hosts[n % len(hosts)].name)
            )  # fmt: skip
            pools.append((nid, addresses))
        columns = (
            "id", "created_at", "deleted", "injected", "cidr", "netmask", "bridge", "gateway", "broadcast", "dns1",
            "dhcp_start", "bridge_interface", "label", "multi_host", "uuid", "host",
        )  # fmt: skip
        writer.put("networks", columns, rows)
        return pools

    def instances(self, writer, flavors, users, projects, hosts, groups, networks) -> None:
        rng = self.rng
        random_ = rng.random
        getrandbits = rng.getrandbits
        n_total = self.plan.instances
        instance_base = self.base_ids[m.Instance]
        fixed_base = self.base_ids[m.FixedIp]
        floating_base = self.base_ids[m.FloatingIp]
        addresses = self._fixed_addresses(networks)
        times = self._time_pool()
        cumulative = list(itertools.accumulate(weight for *_, weight in STATE_MIX))
        weights = cumulative[-1]
        n_projects, n_hosts, n_roles, n_times = len(projects), len(hosts), len(ROLES), len(times)
        flavor_rows = [(f.id, f.memory_mb, f.vcpus, f.root_gb or 0, f.ephemeral_gb or 0) for f in flavors]
        last_flavor = len(flavor_rows) - 1
        floating_net = int(ipaddress.IPv4Address("172.24.0.0"))
        next_fixed = floating_count = live_seen = 0
        for chunk_start in range(0, n_total, CHUNK):
            chunk = range(chunk_start, min(chunk_start + CHUNK, n_total))
            inst_rows, meta_rows, sg_rows, fault_rows, fixed_rows, floating_rows = [], [], [], [], [], []
            for i in chunk:
                iid = instance_base + i
                deleted = i % DELETED_EVERY == DELETED_EVERY - 1
                if deleted:
                    vm_state, task_state, power_state = "deleted", None, 0
                else:
                    live_seen += 1
                    # every state combination at least once, even in a tiny cloud
                    k = live_seen - 1 if live_seen <= len(STATE_MIX) else bisect.bisect(cumulative, random_() * weights)
                    vm_state, task_state, power_state, _ = STATE_MIX[k]
                p = int(random_() * n_projects)
                project = projects[p]
                user = users[(p * 3 + i) % len(users)]
                host = hosts[int(random_() * n_hosts)]
                flavor = flavor_rows[min(int(rng.expovariate(0.9)), last_flavor)]
                flavor_id, memory_mb, vcpus, root_gb, ephemeral_gb = flavor
                role = ROLES[int(random_() * n_roles)]
                name = f"{role}-{i:07d}"
                created, launched, deleted_at = times[int(random_() * n_times)]
                building = vm_state == "building"
                if building:
                    launched = None
                if not deleted:
                    deleted_at = None
                    if not building:
                        host.vcpus_used += vcpus
                        host.memory_mb_used += memory_mb
                        host.local_gb_used += root_gb + ephemeral_gb
                        host.running_vms += power_state == 1
                h = f"{getrandbits(128):032x}"
                uid = f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:]}"
                inst_rows.append(
                    (iid, created, deleted_at or launched or created, deleted_at, deleted, user, project,
                     IMAGES[i % len(IMAGES)], f"{user}-key", power_state, vm_state, memory_mb, vcpus, name, host.name,
                     f"r-{getrandbits(32):08x}", created, launched, deleted_at, name, f"{role} server", host.zone,
                     False, "linux", flavor_id, uid, "x86_64", "/dev/vda", task_state, root_gb, ephemeral_gb)
                )  # fmt: skip
                sg = groups[project]
                sg_rows.append((created, deleted, sg[0], iid))
                if i % 5 == 0:
                    sg_rows.append((created, deleted, sg[1], iid))
                if i % 3 == 0:
                    meta_rows.append((created, deleted, iid, "role", role))
                    if i % 15 == 0:
                        meta_rows.append((created, deleted, iid, "owner", user))
                if vm_state == "error":
                    code, message, details = FAULTS[i % len(FAULTS)]
                    fault_rows.append((created, False, uid, code, message, details))
                if deleted or (building and task_state != "spawning"):
                    continue  # no fixed IP: released on delete, not yet allocated while building
                network_id, address = addresses[next_fixed]
                fixed_id = fixed_base + next_fixed
                next_fixed += 1
                fixed_rows.append(
                    (fixed_id, created, created, False, address, network_id, iid, True, True, False, host.name)
                )  # fmt: skip
                if i % 10 == 3:
                    floating_count += 1
                    addr = str(ipaddress.IPv4Address(floating_net + floating_count))
                    floating_rows.append(
                        (floating_base + floating_count, created, False, addr, fixed_id, project, host.name, False,
                         "public", "eth0")
                    )  # fmt: skip
            if chunk.stop == n_total:
                # The networks' unused fixed IPs, and unallocated floating IPs in the pool.
                for k in range(next_fixed, len(addresses)):
                    network_id, address = addresses[k]
                    fixed_rows.append(
                        (fixed_base + k, EPOCH_TS, None, False, address, network_id, None, False, False, False, None)
                    )  # fmt: skip
                for _ in range(max(floating_count // 10, 3)):
                    floating_count += 1
                    addr = str(ipaddress.IPv4Address(floating_net + floating_count))
                    floating_rows.append(
                        (floating_base + floating_count, EPOCH_TS, False, addr, None, None, None, False, "public",
                         "eth0")
                    )  # fmt: skip
            writer.put("instances", INSTANCE_COLUMNS, inst_rows)
            writer.put("fixed_ips", FIXED_IP_COLUMNS, fixed_rows)
            writer.put("floating_ips", FLOATING_IP_COLUMNS, floating_rows)
            writer.put("instance_metadata", ("created_at", "deleted", "instance_id", "key", "value"), meta_rows)
            writer.put("security_group_instance_association", SG_ASSOCIATION_COLUMNS, sg_rows)
            writer.put("instance_faults", FAULT_COLUMNS, fault_rows)
            if self.progress:
                self.progress.advance(len(chunk))

    def _time_pool(self, size: int = 4096) -> list:
        """``(created, launched, deleted_at)`` text triples to draw from: strftime per row is too slow."""
        pool = []
        for _ in range(size):
            created = self.when()
            launched = created + timedelta(seconds=self.rng.randrange(30, 600))
            deleted_at = created + timedelta(days=self.rng.randrange(1, 60))
            pool.append((ts(created), ts(launched), ts(deleted_at)))
        return pool

    def _fixed_addresses(self, networks) -> list:
        """Usable fixed IPs in order: not the network, gateway or broadcast address."""
        usable = []
        for network_id, addresses in networks:
            usable.extend((network_id, a) for a in addresses[2:-1])
        return usable

    def compute_nodes(self, writer, hosts) -> None:
        base = self.base_ids[m.ComputeNode]
        rows = []
        cpu_info = json.dumps({"arch": "x86_64", "model": "SandyBridge", "vendor": "Intel", "topology": {"cores": 16}})
        for n, host in enumerate(hosts):
            # A host's capacity grows with what it carries: realistic overcommit, never a negative free.
            vcpus = max(host.vcpus, math.ceil(host.vcpus_used / 16) or 1)
            memory = max(host.memory_mb, math.ceil(host.memory_mb_used / 1.5))
            disk = max(host.local_gb, host.local_gb_used + 200)
            rows.append(
                (base + n, ts(EPOCH), False, host.service_id, vcpus, memory, disk, host.vcpus_used,
                 host.memory_mb_used, host.local_gb_used, "QEMU", 1000000, cpu_info, disk - host.local_gb_used,
                 memory - host.memory_mb_used, disk - host.local_gb_used, 0, host.running_vms, host.name)
            )  # fmt: skip
        columns = (
            "id", "created_at", "deleted", "service_id", "vcpus", "memory_mb", "local_gb", "vcpus_used",
            "memory_mb_used", "local_gb_used", "hypervisor_type", "hypervisor_version", "cpu_info",
            "disk_available_least", "free_ram_mb", "free_disk_gb", "current_workload", "running_vms",
            "hypervisor_hostname",
        )  # fmt: skip
        writer.put("compute_nodes", columns, rows)

    # ---- ids -----------------------------------------------------------------
    def _next_id(self, model) -> int:
        return (model.objects.using(self.alias).aggregate(top=Max("id"))["top"] or 0) + 1

    def reset_sequences(self) -> None:
        """Explicit ids leave PostgreSQL's sequences behind: move them past the rows."""
        models = [
            m.Service, m.ComputeNode, m.Network, m.FixedIp, m.FloatingIp, m.Instance, m.InstanceMetadata,
            m.SecurityGroup, m.SecurityGroupRule, m.SecurityGroupInstance, m.InstanceFault,
        ]  # fmt: skip
        statements = self.connection.ops.sequence_reset_sql(no_style(), models)
        if statements:
            with self.connection.cursor() as cursor:
                for sql in statements:
                    cursor.execute(sql)
