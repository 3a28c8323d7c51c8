"""Compare two neutral schemas: what the models expect against what is live.

Pure functions over :class:`schema.schema.Schema` values: testable without a
database. The backend's dialect only decides which live-only objects are
known benign (reported as ignored, never dropped, never drift).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from .schema import Schema, Table

#: Indexes an operator added from novaweb's suggestions (schema lint, ``db_add_indexes``):
#: extra to Nova's schema on purpose, for the inventory's queries at scale. Ignored, never dropped.
SUGGESTED_INDEX_PREFIX = "novaweb_ix_"


@dataclass(frozen=True)
class Difference:
    kind: str
    table: str
    object: str
    expected: str | None
    found: str | None
    #: the model-side and live-side objects, for DDL (not part of equality)
    want: object = field(default=None, compare=False, repr=False)
    have: object = field(default=None, compare=False, repr=False)

    def as_dict(self) -> dict:
        data = asdict(self)
        data.pop("want")
        data.pop("have")
        return data


@dataclass(frozen=True)
class Ignored:
    table: str
    object: str
    reason: str

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class SchemaDiff:
    differences: list[Difference] = field(default_factory=list)
    ignored: list[Ignored] = field(default_factory=list)

    @property
    def in_sync(self) -> bool:
        return not self.differences


def diff(expected: Schema, live: Schema, dialect, *, own_tables=()) -> SchemaDiff:
    """Every way ``live`` differs from ``expected``.

    ``own_tables``: live tables that novaweb itself made (e.g. shadow tables
    for archived rows); reported as ignored, not as drift.
    """
    result = SchemaDiff()
    for name, want in expected.tables.items():
        have = live.tables.get(name)
        if have is None:
            result.differences.append(Difference("missing_table", name, name, "table", None, want=want))
        else:
            _diff_table(want, have, dialect, result)
    for name in live.tables:
        if name in expected.tables:
            continue
        if name in own_tables:
            result.ignored.append(Ignored(name, name, "novaweb's own table"))
        else:
            result.differences.append(Difference("extra_table", name, name, None, "table", have=live.tables[name]))
    return result


def _diff_table(want: Table, have: Table, dialect, result: SchemaDiff) -> None:
    add = result.differences.append
    t = want.name
    for name, column in want.columns.items():
        live_column = have.columns.get(name)
        if live_column is None:
            add(Difference("missing_column", t, name, column.describe(), None, want=column))
            continue
        if column.type != live_column.type:
            add(Difference("column_type", t, name, column.type, live_column.type, want=column, have=live_column))
        if column.nullable != live_column.nullable:
            add(
                Difference(
                    "column_nullable",
                    t,
                    name,
                    "NULL" if column.nullable else "NOT NULL",
                    "NULL" if live_column.nullable else "NOT NULL",
                    want=column,
                    have=live_column,
                )
            )
        if column.default != live_column.default:
            add(
                Difference(
                    "column_default", t, name, column.default, live_column.default, want=column, have=live_column
                )
            )
        if column.autoincrement != live_column.autoincrement:
            add(
                Difference(
                    "column_autoincrement",
                    t,
                    name,
                    str(column.autoincrement),
                    str(live_column.autoincrement),
                    want=column,
                    have=live_column,
                )
            )
    for name, live_column in have.columns.items():
        if name not in want.columns:
            add(Difference("extra_column", t, name, None, live_column.describe(), have=live_column))

    if tuple(want.primary_key) != tuple(have.primary_key):
        add(
            Difference(
                "primary_key",
                t,
                "PRIMARY KEY",
                ", ".join(want.primary_key) or None,
                ", ".join(have.primary_key) or None,
            )
        )
    elif want.primary_key_name and have.primary_key_name and want.primary_key_name != have.primary_key_name:
        result.ignored.append(
            Ignored(
                t,
                have.primary_key_name,
                f"primary key named {have.primary_key_name}, not {want.primary_key_name} "
                "(left over from an older release)",
            )
        )
    for column, seq in have.sequences.items():
        expected_seq = want.sequences.get(column)
        if expected_seq and seq != expected_seq:
            result.ignored.append(
                Ignored(
                    t, seq, f"sequence for {column} named {seq}, not {expected_seq} (left over from an older release)"
                )
            )

    want_uniques = {u.columns: u for u in want.uniques}
    have_uniques = {u.columns: u for u in have.uniques}
    for columns, unique in want_uniques.items():
        if columns not in have_uniques:
            add(
                Difference("missing_unique", t, unique.name or ", ".join(columns), unique.describe(), None, want=unique)
            )
    for columns, unique in have_uniques.items():
        if columns not in want_uniques:
            add(Difference("extra_unique", t, unique.name or ", ".join(columns), None, unique.describe(), have=unique))

    for name, index in want.indexes.items():
        live_index = have.indexes.get(name)
        if live_index is None:
            add(Difference("missing_index", t, name, index.describe(), None, want=index))
        elif live_index != index:
            add(
                Difference(
                    "changed_index", t, name, index.describe(), live_index.describe(), want=index, have=live_index
                )
            )
    for name, live_index in have.indexes.items():
        if name in want.indexes:
            continue
        reason = (
            "an index added from novaweb's suggestions"
            if name.startswith(SUGGESTED_INDEX_PREFIX)
            else dialect.ignored_extra_index(want, have, live_index)
        )
        if reason:
            result.ignored.append(Ignored(t, name, reason))
        else:
            add(Difference("extra_index", t, name, None, live_index.describe(), have=live_index))

    have_fks = {(fk.columns, fk.ref_table, fk.ref_columns): fk for fk in have.foreign_keys}
    want_fks = {(fk.columns, fk.ref_table, fk.ref_columns): fk for fk in want.foreign_keys}
    for key, fk in want_fks.items():
        if key not in have_fks:
            add(Difference("missing_foreign_key", t, ", ".join(fk.columns), fk.describe(), None, want=fk))
    for key, fk in have_fks.items():
        if key not in want_fks:
            add(Difference("extra_foreign_key", t, fk.name or ", ".join(fk.columns), None, fk.describe(), have=fk))

    for check in have.checks:
        reason = dialect.ignored_check(have, check)
        if reason:
            result.ignored.append(Ignored(t, check.name or ", ".join(check.columns), reason))
        else:
            add(Difference("extra_check", t, check.name or ", ".join(check.columns), None, "CHECK", have=check))
