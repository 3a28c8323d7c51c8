"""The neutral description of a database schema.

One value, built from two sides: the Django models for a backend
(:mod:`schema.model_schema`) and a live database (:mod:`schema.introspect`).
:func:`schema.diff.diff` compares two of them without touching a database.

Types are *normalized* (``int``, ``bigint``, ``bool``, ``float``,
``datetime``, ``text``, ``varchar(255)``) by the backend's dialect, so that a
MySQL ``int(11)`` and the models' ``IntegerField`` compare equal; the raw type
the backend prints is kept beside it (``ddl_type``) for DDL and for humans.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    nullable: bool = True
    default: str | None = None
    autoincrement: bool = False
    ddl_type: str = field(default="", compare=False)
    #: MySQL/MariaDB: a character column's collation (it names the character set), as the live
    #: database reports it. The models do not choose one, so it is no drift; DDL that rewrites
    #: the column (``MODIFY``) or copies it (shadow and backup tables) keeps it.
    collation: str | None = field(default=None, compare=False)

    def describe(self) -> str:
        text = self.type + ("" if self.nullable else " NOT NULL")
        if self.autoincrement:
            text += " autoincrement"
        if self.default is not None:
            text += f" DEFAULT {self.default}"
        return text


@dataclass(frozen=True)
class Index:
    name: str
    columns: tuple[str, ...]
    unique: bool = False
    #: a live index on some rows only (``CREATE INDEX ... WHERE``, PostgreSQL and SQLite): it serves
    #: no general lookup, and is not the models' index of the same name and columns
    partial: bool = False

    def describe(self) -> str:
        kind = ("UNIQUE " if self.unique else "") + ("PARTIAL " if self.partial else "")
        return f"{kind}INDEX {self.name} ({', '.join(self.columns)})"


@dataclass(frozen=True)
class UniqueConstraint:
    columns: tuple[str, ...]
    name: str | None = field(default=None, compare=False)

    def describe(self) -> str:
        return f"UNIQUE ({', '.join(self.columns)})"


@dataclass(frozen=True)
class ForeignKey:
    columns: tuple[str, ...]
    ref_table: str
    ref_columns: tuple[str, ...]
    name: str | None = field(default=None, compare=False)

    def describe(self) -> str:
        return f"FOREIGN KEY ({', '.join(self.columns)}) REFERENCES {self.ref_table} ({', '.join(self.ref_columns)})"


@dataclass(frozen=True)
class Check:
    columns: tuple[str, ...]
    name: str | None = None


@dataclass
class Table:
    name: str
    columns: dict[str, Column] = field(default_factory=dict)
    primary_key: tuple[str, ...] = ()
    primary_key_name: str | None = None
    uniques: list[UniqueConstraint] = field(default_factory=list)
    indexes: dict[str, Index] = field(default_factory=dict)
    foreign_keys: list[ForeignKey] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    #: PostgreSQL: {column: sequence name} for serial columns.
    sequences: dict[str, str] = field(default_factory=dict)

    def __deepcopy__(self, memo) -> Table:
        """A copy that shares the members: columns, keys and constraints are frozen values, so
        only the containers need copying (``copy.deepcopy`` of each member cost a sync 20 ms)."""
        return Table(
            self.name,
            dict(self.columns),
            self.primary_key[:],
            self.primary_key_name,
            list(self.uniques),
            dict(self.indexes),
            list(self.foreign_keys),
            list(self.checks),
            dict(self.sequences),
        )

    def add_column(self, column: Column) -> None:
        self.columns[column.name] = column

    def keys(self) -> list[tuple[str, tuple[str, ...], bool]]:
        """``(name, columns, unique)`` of the primary key, the unique constraints and the indexes
        (not the partial ones: they serve only the rows their predicate picks)."""
        found = [("PRIMARY KEY", tuple(self.primary_key), True)] if self.primary_key else []
        found += [(u.name or "UNIQUE", u.columns, True) for u in self.uniques]
        indexes = sorted((i for i in self.indexes.values() if not i.partial), key=lambda i: i.name)
        found += [(i.name, i.columns, i.unique) for i in indexes]
        return found

    def index_serving(self, columns: tuple[str, ...]) -> str | None:
        """The name of a key (PK, unique or index) whose leftmost columns are ``columns``, if any."""
        return serving_key(self.keys(), columns)


def serving_key(keys, columns: tuple[str, ...]) -> str | None:
    """The first of ``keys`` (``(name, columns, unique)``) whose leftmost columns are ``columns``."""
    return next((name for name, cols, _ in keys if cols and tuple(cols[: len(columns)]) == tuple(columns)), None)


@dataclass
class Schema:
    vendor: str
    tables: dict[str, Table] = field(default_factory=dict)

    def add_table(self, table: Table) -> Table:
        self.tables[table.name] = table
        return table

    def __contains__(self, name: str) -> bool:
        return name in self.tables

    def __getitem__(self, name: str) -> Table:
        return self.tables[name]
