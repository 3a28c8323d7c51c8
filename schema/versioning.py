"""sqlalchemy-migrate's ``migrate_version`` row: read and write Nova's schema version, and name the
Nova release that made a database (sqlalchemy-migrate versions, modern Nova's alembic revisions)."""

from __future__ import annotations

from dataclasses import dataclass

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


# ---- which Nova release made a database ------------------------------------------------------
#: The last sqlalchemy-migrate version of each Nova release's main database. Sources (openstack/nova):
#: the compacted migrations 082_essex.py, 133_folsom.py, 216_havana.py and 402_train.py; the last
#: migration files of Diablo (046_add_instance_swap.py) and Grizzly (161_fix_system_metadata_none_strings.py);
#: for Icehouse to Victoria, the backport placeholders each cycle reserved for the release before it
#: (nova/tests/unit/db/test_migrations.py: icehouse 235-243, juno 255-264 ... queens 379-388, stein 392-396,
#: train 403-407, ussuri 408-412, victoria 413-417), Rocky's 390 and Stein's 391 between them; Wallaby's
#: and Xena's placeholders (418-422) from the charmed-openstack-upgrader table of Nova releases.
MIGRATE_RELEASES = (
    (46, "Diablo"),
    (82, "Essex"),
    (133, "Folsom"),
    (161, "Grizzly"),
    (216, "Havana"),
    (234, "Icehouse"),
    (254, "Juno"),
    (280, "Kilo"),
    (302, "Liberty"),
    (319, "Mitaka"),
    (334, "Newton"),
    (347, "Ocata"),
    (362, "Pike"),
    (378, "Queens"),
    (390, "Rocky"),
    (391, "Stein"),
    (402, "Train"),
    (407, "Ussuri"),
    (412, "Victoria"),
    (417, "Wallaby"),
    (422, "Xena"),
)
#: Alembic revisions of Nova's main database (alembic replaced sqlalchemy-migrate in Yoga).
ALEMBIC_RELEASES = {
    "8f2f1571d55b": "Yoga",
    "16f1fbcab42b": "Yoga",
    "ccb0fa1a2252": "Zed",
    "960aac0e09ea": "2023.1 Antelope",
    "1b91788ec3a6": "2023.2 Bobcat",
    "1acf2c98e646": "2023.2 Bobcat",
    "13863f4e1612": "2024.1 Caracal",
}
MODELS_RELEASE = f"novaweb models Essex, version {MODELS_VERSION}"


def migrate_release(version: int) -> str:
    """The Nova release a sqlalchemy-migrate version of the main database belongs to."""
    first = 1
    for last, name in MIGRATE_RELEASES:
        if version <= last:
            if version == last:
                return f"Nova {name}"
            return f"Nova {name} (versions {first}-{last})" if first > 1 else f"Nova {name} or older"
        first = last + 1
    return f"newer than Nova {MIGRATE_RELEASES[-1][1]}, the last release on sqlalchemy-migrate"


@dataclass(frozen=True)
class Release:
    """What made a database that is not at the models' version, in one line."""

    manager: str  # "sqlalchemy-migrate" or "alembic"
    marker: str  # the version or revision
    summary: str
    #: made by a release after Essex: db_sync refuses it, db_drift does not advise it
    newer: bool

    def as_dict(self) -> dict:
        return {"manager": self.manager, "marker": self.marker, "summary": self.summary, "newer": self.newer}


def identify(connection, tables=None) -> Release | None:
    """The Nova release that made the database, unless it is Essex's (82), empty or unversioned."""
    tables = set(live_table_names(connection) if tables is None else tables)
    if "alembic_version" in tables:
        with connection.cursor() as cursor:
            cursor.execute("SELECT version_num FROM alembic_version")
            revisions = sorted(str(row[0]) for row in cursor.fetchall())
        marker = ", ".join(revisions) or "none"
        releases = sorted({ALEMBIC_RELEASES[r] for r in revisions if r in ALEMBIC_RELEASES})
        which = "Nova API" if "cell_mappings" in tables and "instances" not in tables else "Nova main"
        known = f" (Nova {', '.join(releases)})" if releases else ""
        summary = f"{which} database managed by alembic, revision {marker}{known}; {MODELS_RELEASE}"
        return Release("alembic", marker, summary, newer=True)
    if "migrate_version" not in tables:
        return None
    version = version_or_none(connection)
    if version is None or version == MODELS_VERSION:
        return None
    release = migrate_release(version)
    summary = f"Nova main database at sqlalchemy-migrate version {version}, {release}; {MODELS_RELEASE}"
    return Release("sqlalchemy-migrate", str(version), summary, newer=version > MODELS_VERSION)
