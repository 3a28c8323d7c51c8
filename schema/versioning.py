"""sqlalchemy-migrate's ``migrate_version`` row: read and write Nova's schema version."""

from __future__ import annotations

from .introspect import live_table_names
from .models import MODELS_VERSION, REPOSITORY_ID, REPOSITORY_PATH, MigrateVersion


class NotUnderVersionControl(Exception):
    """The database has no ``migrate_version`` table, or no ``nova`` row in it."""


def current_version(connection) -> int:
    if "migrate_version" not in live_table_names(connection):
        raise NotUnderVersionControl(
            f"database '{connection.alias}' is not under version control (no migrate_version table)"
        )
    row = MigrateVersion.objects.using(connection.alias).filter(repository_id=REPOSITORY_ID).first()
    if row is None or row.version is None:
        raise NotUnderVersionControl(
            f"database '{connection.alias}' is not under version control (no '{REPOSITORY_ID}' row in migrate_version)"
        )
    return row.version


def version_or_none(connection) -> int | None:
    try:
        return current_version(connection)
    except NotUnderVersionControl:
        return None


def set_version(connection, version: int = MODELS_VERSION) -> None:
    MigrateVersion.objects.using(connection.alias).update_or_create(
        repository_id=REPOSITORY_ID, defaults={"repository_path": REPOSITORY_PATH, "version": version}
    )
