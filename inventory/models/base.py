"""What every Nova model shares: the engine's declaration API (:mod:`schema.declarations`)
and how a row names itself (``__str__``)."""

from schema.declarations import (  # noqa: F401 -- the models' imports
    CompositeForeignKey,
    NovaModel,
    NovaQuerySet,
    SchemaFacts,
    SoftDeleteModel,
    relation,
)


def shown(value, missing: str = "-") -> str:
    """A column's value as a row's name shows it (``__str__``): ``missing`` when NULL, empty or blank."""
    return missing if value is None or not str(value).strip() else str(value)


def named(name, key) -> str:
    """``name (key)`` for rows with a name and a separate key; the key alone when they are the same."""
    if name is None or not str(name).strip() or str(name) == str(key):
        return shown(key)
    return f"{name} ({shown(key)})"
