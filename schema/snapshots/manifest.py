"""A snapshot's manifest: ``manifest.json`` beside the dumped data.

It says when and from what the snapshot was taken (server and schema
version, the tools and their versions), what it holds (each table with its
row count and the server's checksum of its content, and the schema of those
tables), and where the data is. :func:`schema.snapshots.restore.verify`
compares a restored database with it.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..schema_json import schema_from_dict

FORMAT = "novaweb-snapshot/1"
FILE_NAME = "manifest.json"


class ManifestError(Exception):
    """Not a snapshot directory, or its manifest cannot be read (bad input: exit 2)."""


@dataclass
class TableState:
    name: str
    rows: int
    checksum: str


@dataclass
class Manifest:
    created_at: str
    vendor: str
    database: str
    server_version: str
    schema_version: int | None
    tool_versions: dict
    #: the file or directory (relative to the snapshot) holding the dumped data
    data: str
    tables: list[TableState]
    #: :func:`schema.schema_json.schema_to_dict` of the snapshot's tables
    schema: dict
    #: every table, or only some (``--tables``, a sync's touched tables)
    complete: bool = True
    #: tables whose content changed while the dump ran (their checksums may not match the data)
    changed_during_snapshot: list[str] = field(default_factory=list)
    #: PostgreSQL: the schema the tables were in (the current schema); a restore replaces that one only
    namespace: str | None = None
    format: str = FORMAT

    @property
    def table_names(self) -> list[str]:
        return [t.name for t in self.tables]

    def table(self, name: str) -> TableState:
        return next(t for t in self.tables if t.name == name)

    def write(self, directory: Path) -> Path:
        path = Path(directory) / FILE_NAME
        path.write_text(json.dumps(asdict(self), indent=2) + "\n", encoding="utf-8")
        return path

    @classmethod
    def read(cls, directory) -> Manifest:
        path = Path(directory) / FILE_NAME
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ManifestError(
                f"{directory} is not a snapshot (no {FILE_NAME}): a directory db_snapshot made"
            ) from None
        except (OSError, ValueError) as exc:
            raise ManifestError(f"cannot read {path}: {exc}") from None
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise ManifestError(f"{path} is not a novaweb snapshot manifest ({FORMAT})")
        try:
            data["tables"] = [TableState(**t) for t in data["tables"]]
            manifest = cls(**data)
            described = schema_from_dict(manifest.schema).tables
        except (KeyError, TypeError, AttributeError, ValueError) as exc:
            raise ManifestError(f"{path} is incomplete or damaged: {type(exc).__name__}: {exc}") from None
        undescribed = [t for t in manifest.table_names if t not in described]
        if undescribed:  # nothing could verify what a restore gives for it
            raise ManifestError(f"{path} is damaged: it lists {undescribed[0]} without its schema")
        return manifest
