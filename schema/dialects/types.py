"""Type rules: what the models' fields are on a backend, and how the backend spells types.

No connection: the model side (:mod:`schema.model_schema`) and the value checks
(:mod:`schema.type_rules`) read these as class facts. Each backend's dialect
module subclasses :class:`TypeRules` (``MySQLTypes``...), and its dialect
inherits from that.

Type normalization: types are compared after ``normalize_type`` on both
sides, with rules per backend (alembic's approach). The alternative, letting
the database normalize by creating the models' DDL in a scratch schema, was
not needed: Nova's Essex schema uses seven SQL types, and the models' DDL
types are chosen to be exactly the types Nova's own DDL produced, so the
rules are a short, closed table per backend, and the model side needs no
database at all (``bench/schema_bench.py`` measures both sides).
"""

from __future__ import annotations

import re

from django.db import models
from django.db.models.fields import AutoFieldMixin

from ..schema import Table


def is_auto_field(field) -> bool:
    """``isinstance(field, models.AutoField)``, the fast way: AutoField's metaclass makes that
    check walk its subclasses (20 ms over Nova's 535 columns); every auto field has the mixin."""
    return isinstance(field, AutoFieldMixin)


class TypeRules:
    vendor = "base"
    #: Django internal type -> the SQL type Nova's migrations created.
    MODEL_TYPES: dict[str, str] = {}
    #: The SQL type of an auto-increment primary key column.
    AUTOINCREMENT_TYPE = "integer"
    #: Nova added some foreign keys with ALTER TABLE: absent where that is impossible.
    has_late_foreign_keys = True
    #: Foreign keys are written inside CREATE TABLE (SQLite, MySQL) rather than added after.
    inline_foreign_keys = False
    #: A new table's indexes are written inside CREATE TABLE (MySQL's ``KEY``) rather than created after.
    inline_indexes = False
    #: normalized type aliases: raw (lowercased, lengths stripped where irrelevant) -> canonical
    TYPE_ALIASES: dict[str, str] = {}

    # ---- what types hold (read by schema.type_rules) ----
    #: the range a normalized ``bool`` column stores
    BOOL_RANGE = (0, 1)
    #: float types (normalized) and their mantissa bits
    FLOAT_BITS = {"float": 53, "double": 53, "real": 24}
    #: text types (normalized) that hold at most so many bytes
    TEXT_BYTES: dict[str, int] = {}
    #: normalized types that hold a naive date and time, read back the same whatever the session
    NAIVE_DATETIME_TYPES: tuple[str, ...] = ("datetime", "timestamp")
    #: character set -> the other character sets whose every character it holds ("*": all of them);
    #: only where a column has a character set of its own (``Column.collation``)
    CHARSETS_HELD: dict[str, frozenset[str]] = {}

    def collation_holds(self, have: str | None, want: str | None) -> bool:
        """Whether a column of collation ``want`` keeps every character a column of ``have`` holds."""
        if not have or not want:
            return True
        have_set, want_set = have.split("_")[0], want.split("_")[0]
        held = self.CHARSETS_HELD.get(want_set, frozenset())
        return have_set == want_set or "*" in held or have_set in held

    # ---- model side -------------------------------------------------------
    def model_ddl_type(self, field) -> str:
        """The SQL type Nova's schema has for a Django field on this backend."""
        if field.is_relation:
            field = field.target_field
            if is_auto_field(field):
                field = models.IntegerField()
        internal = field.get_internal_type()
        if is_auto_field(field) or internal == "AutoField":
            internal = "IntegerField"
        template = self.MODEL_TYPES[internal]
        return template % {"max_length": getattr(field, "max_length", None)}

    def model_autoincrement(self, field, table_primary_key: tuple) -> bool:
        """Whether a model column auto-increments on this backend."""
        return is_auto_field(field)

    def unique_constraint_name(self, table: str, columns: tuple) -> str | None:
        return None

    def model_only_indexes(self, facts) -> tuple:
        """``(name, columns)`` indexes of Nova's schema that exist only on this backend."""
        return ()

    def adjust_model_table(self, table: Table) -> None:
        """Reshape the models' table into what this backend can express (in place)."""

    def primary_key_name(self, table: str) -> str | None:
        return None

    def sequence_name(self, table: str, column: str) -> str | None:
        return None

    # ---- normalization ----------------------------------------------------
    def normalize_type(self, raw: str) -> str:
        text = " ".join(raw.strip().lower().split())
        match = re.fullmatch(r"(?:varchar|character varying|nvarchar)\s*\((\d+)\)", text)
        if match:
            return f"varchar({match.group(1)})"
        return self.TYPE_ALIASES.get(text, text)

    def normalize_default(self, raw) -> str | None:
        if raw is None:
            return None
        text = str(raw).strip()
        if text.upper() == "NULL" or text == "":
            return None
        return text
