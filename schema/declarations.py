"""The schema engine's declaration API: what a model of a Nova table declares.

The engine (``schema.model_schema``) finds the models of the apps named in
``settings.NOVA_APPS`` that subclass :class:`NovaModel`; the app that holds
them (``inventory``) imports this module, never the reverse.

Conventions the schema engine (``schema.model_schema``) reads:

- Plain Django fields; the SQL type each one gets on each backend is decided
  in one place per backend (``schema.dialects``), matching Nova's SQLAlchemy
  types (``int(11)``, ``tinyint(1)``, ``float``, naive ``datetime``...).
- ``unique=True`` on a field is a unique *constraint*, named as the backend
  names it (PostgreSQL ``<table>_<column>_key``, MySQL ``<column>``).
- A named ``UniqueConstraint`` in ``Meta.constraints`` is a unique *index* of
  that name (Nova's ``CREATE UNIQUE INDEX uuid ON instances``); a named
  ``Index`` in ``Meta.indexes`` is a plain index of that name.
- Every relation is declared with :func:`relation`: ``constraint=True`` is a
  foreign-key constraint in the database, ``constraint=False`` a relation Nova
  uses without one (still navigable in Django). Relations never ask Django for
  an index: Nova's indexes are declared explicitly.
- ``schema_facts`` (a :class:`SchemaFacts`) on a model carries the rest.
"""

from dataclasses import dataclass, field

from django.db import models


@dataclass(frozen=True)
class CompositeForeignKey:
    columns: tuple
    ref_table: str
    ref_columns: tuple


@dataclass(frozen=True, eq=False)
class SchemaFacts:
    """Per-model facts of Nova's real schema that Django's ``Meta`` cannot express."""

    #: Nova's column order, where it differs from the fields' order
    #: (e.g. ``quotas`` has ``id`` first, ``instance_types`` has ``name`` before ``id``).
    column_order: tuple = ()
    #: ``(name, (column, ...))`` indexes that exist only on MySQL: left behind
    #: there when older migrations dropped foreign keys, or added by InnoDB for
    #: a foreign key added later.
    mysql_indexes: tuple = ()
    #: columns whose foreign-key constraint Nova added with ``ALTER TABLE``
    #: after the table existed: present on MySQL and PostgreSQL, never on SQLite.
    late_foreign_keys: tuple = ()
    #: multi-column foreign keys (Django's ForeignKey is single-column).
    composite_foreign_keys: tuple = field(default_factory=tuple)
    #: composite foreign keys that are also late (not on SQLite).
    late_composite: bool = False
    #: ``{column: unbound field}`` where Nova's column type differs from what
    #: Django would derive (a relation column wider than the key it points to).
    column_types: dict = field(default_factory=dict)


class NovaQuerySet(models.QuerySet):
    def live(self):
        """Rows Nova considers present: ``deleted`` false (or NULL, as old Essex rows have)."""
        return self.exclude(deleted=True)

    def soft_deleted(self):
        return self.filter(deleted=True)


class NovaModel(models.Model):
    """A table of Nova's database: unmanaged by Django's migrations, routed to ``nova``."""

    schema_facts = SchemaFacts()

    class Meta:
        abstract = True
        managed = False


class SoftDeleteModel(NovaModel):
    """Nova's ``NovaBase`` columns: timestamps and the soft-delete flag.

    Nova never removes a row: it sets ``deleted`` (and ``deleted_at``).
    """

    created_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(null=True, blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True)
    deleted = models.BooleanField(null=True, blank=True, default=False)

    objects = NovaQuerySet.as_manager()

    class Meta(NovaModel.Meta):
        abstract = True


def relation(to, *, constraint, related_name, db_column=None, to_field=None, null=False, one_to_one=False):
    """A relation between Nova tables, as the models declare every one of them.

    ``constraint``: whether the database has a foreign-key constraint for it
    (False: a relation Nova uses without one, still navigable in Django).
    Never cascades (Nova soft-deletes) and never asks Django for an index:
    Nova's indexes are declared explicitly.
    """
    field_class = models.OneToOneField if one_to_one else models.ForeignKey
    return field_class(
        to,
        models.DO_NOTHING,
        db_column=db_column,
        to_field=to_field,
        null=null,
        blank=null,
        db_constraint=constraint,
        db_index=False,
        related_name=related_name,
    )
