"""Rows whose instance uuid is NULL, as ``nova-manage db null_instance_uuid_scan`` finds them.

Scanned: ``instances.uuid`` and every column that points at an instance by
uuid (read from the models: ``instance_info_caches.instance_id``,
``instance_faults.instance_uuid``, ``instance_actions.instance_uuid``,
``migrations.instance_uuid``).

An instance without a uuid can still own rows that point at it by
``instances.id``. Removing it leaves those dangling (and MySQL/PostgreSQL
refuse to, for the constrained ones), so they are dealt with first:

- rows that only describe the instance are deleted: ``instance_metadata``,
  ``block_device_mapping``, ``security_group_instance_association``,
  ``virtual_interfaces``, ``consoles``;
- rows that are shared resources are detached, as Nova does when it releases
  them: ``fixed_ips`` go back to the pool (``instance_id`` and
  ``virtual_interface_id`` NULL, ``allocated``/``leased`` false) and
  ``volumes`` become available (``instance_id``/``mountpoint`` NULL,
  ``status`` 'available', ``attach_status`` 'detached').

Every table touched is first copied with :func:`schema.backup.copy_to_backup`
(only the rows about to change), so nothing is lost that cannot be put back.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction

from schema.backup import copy_to_backup
from schema.data_migrations.batches import table_columns
from schema.dialects import dialect_for
from schema.introspect import introspect, live_table_names
from schema.model_schema import model_for_table, nova_models
from schema.names import printable

#: table -> the columns set (besides the instance column, set to NULL) to detach a row from an instance
DETACH = {
    "fixed_ips": {"virtual_interface_id": None, "allocated": False, "leased": False},
    "volumes": {"mountpoint": None, "status": "available", "attach_status": "detached"},
}


@dataclass(frozen=True)
class Target:
    table: str
    column: str
    #: for rows owned by a uuid-less instance (by id): what to set to detach them; None deletes them
    detach: dict | None = None
    #: True: the column is the instance uuid itself (NULL is the problem); False: it holds instances.id
    by_uuid: bool = True

    def condition(self, connection) -> str:
        quote = _quote(connection)
        if self.by_uuid:
            return f"{quote(self.column)} IS NULL"
        return f"{quote(self.column)} IN (SELECT {quote('id')} FROM {quote('instances')} WHERE {quote('uuid')} IS NULL)"


def _relations_to_instances():
    instance = model_for_table("instances")
    for model in nova_models():
        for f in model._meta.local_fields:
            if f.is_relation and f.related_model is instance:
                yield model._meta.db_table, f.column, f.target_field.column


@functools.cache
def uuid_targets() -> tuple[Target, ...]:
    """Columns holding an instance uuid: the referencing tables first, ``instances`` last."""
    refs = [Target(t, c) for t, c, target in _relations_to_instances() if target == "uuid"]
    return (*refs, Target("instances", "uuid"))


@functools.cache
def owned_targets() -> tuple[Target, ...]:
    """Columns holding ``instances.id``: rows owned by an instance, deleted or detached with it."""
    return tuple(
        Target(t, c, DETACH.get(t), by_uuid=False) for t, c, target in _relations_to_instances() if target == "id"
    )


@dataclass
class Scan:
    #: table -> rows whose instance uuid is NULL (referencing tables first, ``instances`` last)
    null_rows: dict[str, int]
    #: table -> rows owned (by id) by instances whose uuid is NULL
    owned_rows: dict[str, int]

    @property
    def found(self) -> int:
        return sum(self.null_rows.values())


@dataclass
class Cleanup:
    backups: dict[str, tuple[str, int]] = field(default_factory=dict)  # table -> (backup table, rows)
    deleted: dict[str, int] = field(default_factory=dict)
    detached: dict[str, int] = field(default_factory=dict)


def _quote(connection):
    """Every statement here runs with parameters (perhaps none): names are quoted for that."""
    return dialect_for(connection).quote_for_params


def _count(connection, target: Target) -> int:
    quote = _quote(connection)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {quote(target.table)} WHERE {target.condition(connection)}", [])
        return cursor.fetchone()[0]


def _present(connection, targets):
    """The targets whose table is there with its column (one dropped by hand holds nothing to find)."""
    existing = set(live_table_names(connection))
    return [t for t in targets if t.table in existing and t.column in table_columns(connection, t.table)]


def scan(connection) -> Scan:
    null_rows = {t.table: _count(connection, t) for t in _present(connection, uuid_targets())}
    owned = {}
    if null_rows.get("instances"):
        owned = {t.table: n for t in _present(connection, owned_targets()) if (n := _count(connection, t))}
    return Scan(null_rows, owned)


def _apply(connection, target: Target) -> int:
    quote = _quote(connection)
    with connection.cursor() as cursor:
        if target.detach is None:
            cursor.execute(f"DELETE FROM {quote(target.table)} WHERE {target.condition(connection)}", [])
        else:
            changes = {target.column: None, **target.detach}
            assignments = ", ".join(f"{quote(c)} = %s" for c in changes)
            cursor.execute(
                f"UPDATE {quote(target.table)} SET {assignments} WHERE {target.condition(connection)}",
                list(changes.values()),
            )
        return cursor.rowcount


def delete(connection, found: Scan, *, now=None) -> Cleanup:
    """Back up, then remove the rows ``found``: owned rows, then referencing rows, then instances.

    The backups are made first (``CREATE TABLE ... AS`` commits on MySQL);
    the deletes and updates then run in one transaction.
    """
    owned = [t for t in owned_targets() if found.owned_rows.get(t.table)]
    null = [t for t in uuid_targets() if found.null_rows.get(t.table)]
    cleanup = Cleanup()
    for target in owned + null:
        cleanup.backups[target.table] = copy_to_backup(
            connection, target.table, what=f"nullscan_{target.table}", where=target.condition(connection), now=now
        )
    try:
        with transaction.atomic(using=connection.alias):
            for target in owned + null:
                done = _apply(connection, target)
                (cleanup.deleted if target.detach is None else cleanup.detached)[target.table] = done
    except IntegrityError as exc:  # rolled back: nothing deleted, so the copies are not needed
        _drop_tables(connection, [name for name, _ in cleanup.backups.values()])
        raise StillReferred(_refusal(connection, owned + null, exc)) from exc
    return cleanup


class StillReferred(Exception):
    """A row about to be deleted is still referred to by a foreign key of a table Nova does not know."""


def _refusal(connection, targets, error) -> str:
    """What refused the delete: the foreign keys of other tables into the deleted rows, else the server's reason."""
    handled = {(t.table, (t.column,)) for t in (*owned_targets(), *uuid_targets())}
    live = introspect(connection)
    keys = [
        f"{printable(name)}({', '.join(map(printable, fk.columns))}) -> {target.table}"
        for target in targets
        if target.detach is None
        for name, table in sorted(live.tables.items())
        for fk in table.foreign_keys
        if fk.ref_table == target.table
        and (name, tuple(fk.columns)) not in handled
        and _refers(connection, name, fk, target)
    ]
    text = str(error.args[-1] if error.args else error).strip()
    reason = ", ".join(keys) if keys else (text.splitlines()[0] if text else type(error).__name__)
    return (
        f"nothing was deleted: rows about to go are still referred to by a foreign key Nova does not have "
        f"({reason}); delete or detach those rows first, then run again"
    )


def _refers(connection, child: str, fk, target: Target) -> bool:
    """Whether a row of ``child`` points, through ``fk``, at a row of ``target`` about to be deleted."""
    quote = _quote(connection)
    columns, referenced = (", ".join(map(quote, cols)) for cols in (fk.columns, fk.ref_columns))
    if len(fk.columns) > 1:
        columns = f"({columns})"
    sql = (
        f"SELECT 1 FROM {quote(child)} WHERE {columns} IN "
        f"(SELECT {referenced} FROM {quote(target.table)} WHERE {target.condition(connection)}) LIMIT 1"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [])
        return cursor.fetchone() is not None


def _drop_tables(connection, names) -> None:
    quote = dialect_for(connection).quote
    with connection.cursor() as cursor:
        for name in names:
            cursor.execute(f"DROP TABLE {quote(name)}")
