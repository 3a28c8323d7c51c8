"""The schema the Django models describe, for one backend.

Reads the models' fields and ``Meta`` plus each model's ``schema_facts``
(see :mod:`schema.declarations`), and asks the backend's dialect for the
SQL types and the names the backend gives things. No database is touched,
so the result is cached per backend.
"""

from __future__ import annotations

import functools

from django.apps import apps
from django.conf import settings
from django.db import models

from .declarations import NovaModel
from .dialects import TYPE_RULES
from .dialects.types import is_auto_field
from .schema import Column, ForeignKey, Index, Schema, Table, UniqueConstraint


def nova_models() -> list[type[models.Model]]:
    """Every concrete model of a Nova table, in table-name order.

    Found as Django finds migrations: the apps named in ``settings.NOVA_APPS``,
    their models that subclass :class:`~schema.declarations.NovaModel`.
    """
    found = [
        model
        for app_label in sorted(settings.NOVA_APPS)
        for model in apps.get_app_config(app_label).get_models()
        if issubclass(model, NovaModel)
    ]
    return sorted(found, key=lambda m: m._meta.db_table)


def model_for_table(table: str):
    """The model of a Nova table (``instances``, ``instance_types``...): the engine names tables, not classes."""
    found = next((m for m in nova_models() if m._meta.db_table == table), None)
    if found is None:
        raise LookupError(f"no model of the Nova table {table!r} in settings.NOVA_APPS")
    return found


def model_schema(vendor: str) -> Schema:
    """The models' schema on ``vendor`` (``mysql``, ``postgresql``, ``sqlite``)."""
    return _model_schema(vendor)


@functools.cache
def _model_schema(vendor: str) -> Schema:
    dialect = TYPE_RULES[vendor]()
    schema = Schema(vendor)
    for model in nova_models():
        schema.add_table(_table(model, dialect))
    return schema


def _ordered_fields(model):
    fields = [f for f in model._meta.local_fields if f.concrete and f.column]
    order = model.schema_facts.column_order
    if not order:
        return fields
    by_column = {f.column: f for f in fields}
    head = [by_column[c] for c in order]
    return head + [f for f in fields if f.column not in order]


def _table(model, dialect) -> Table:
    meta = model._meta
    facts = model.schema_facts
    table = Table(meta.db_table)
    if isinstance(meta.pk, models.CompositePrimaryKey):
        table.primary_key = tuple(f.column for f in meta.pk.fields)
    else:
        table.primary_key = (meta.pk.column,)
    for field in _ordered_fields(model):
        table.add_column(_column(field, dialect, facts, table.primary_key))
    table.primary_key_name = dialect.primary_key_name(table.name)

    for field in _ordered_fields(model):
        if field.unique and not field.primary_key:
            columns = (field.column,)
            table.uniques.append(UniqueConstraint(columns, dialect.unique_constraint_name(table.name, columns)))
    for constraint in meta.constraints:
        if isinstance(constraint, models.UniqueConstraint):
            columns = tuple(meta.get_field(name).column for name in constraint.fields)
            table.indexes[constraint.name] = Index(constraint.name, columns, unique=True)
    for index in meta.indexes:
        columns = tuple(meta.get_field(name).column for name in index.fields)
        table.indexes[index.name] = Index(index.name, columns)
    for name, columns in dialect.model_only_indexes(facts):
        table.indexes[name] = Index(name, tuple(columns))

    for field in _ordered_fields(model):
        if not (field.is_relation and field.db_constraint):
            continue
        if field.column in facts.late_foreign_keys and not dialect.has_late_foreign_keys:
            continue
        table.foreign_keys.append(
            ForeignKey(
                (field.column,),
                field.related_model._meta.db_table,
                (field.target_field.column,),
                _fk_name(dialect, table.name, (field.column,)),
            )
        )
    if dialect.has_late_foreign_keys or not facts.late_composite:
        for fk in facts.composite_foreign_keys:
            table.foreign_keys.append(
                ForeignKey(
                    tuple(fk.columns), fk.ref_table, tuple(fk.ref_columns), _fk_name(dialect, table.name, fk.columns)
                )
            )
    dialect.adjust_model_table(table)
    for column in table.columns.values():
        if column.autoincrement and dialect.sequence_name(table.name, column.name):
            table.sequences[column.name] = dialect.sequence_name(table.name, column.name)
    return table


def _fk_name(dialect, table, columns):
    namer = getattr(dialect, "foreign_key_name", None)
    return namer(table, tuple(columns)) if namer else None


def _column(field, dialect, facts, primary_key) -> Column:
    autoincrement = dialect.model_autoincrement(field, primary_key)
    if is_auto_field(field):
        ddl_type = dialect.AUTOINCREMENT_TYPE
    else:
        ddl_type = dialect.model_ddl_type(facts.column_types.get(field.column, field))
    return Column(
        name=field.column,
        type=dialect.normalize_type(ddl_type),
        nullable=bool(field.null) and not field.primary_key,
        default=None,
        autoincrement=autoincrement,
        ddl_type=ddl_type,
    )
