"""Snapshots of the Nova database: taken with the server's own tools, restored and verified.

- :mod:`.backends`: one small class per backend (the dump and restore tools,
  the server-side checksum, scratch databases);
- :mod:`.manifest`: what a snapshot holds (JSON beside the data);
- :mod:`.take`: a consistent snapshot of some or all tables;
- :mod:`.restore`: restore into a database and verify it against the manifest;
- :mod:`.databases`: temporary connection aliases and scratch databases.
"""

from .backends import MissingTool, SnapshotError, snapshot_backend
from .manifest import Manifest, ManifestError
from .restore import Verification, damage_found_in_scratch, restore, verify, verify_in_scratch
from .take import default_directory, take_snapshot

__all__ = [
    "Manifest",
    "ManifestError",
    "MissingTool",
    "SnapshotError",
    "Verification",
    "damage_found_in_scratch",
    "default_directory",
    "restore",
    "snapshot_backend",
    "take_snapshot",
    "verify",
    "verify_in_scratch",
]
