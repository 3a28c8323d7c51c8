"""Archive and purge soft-deleted rows, as ``nova-manage db archive_deleted_rows`` and ``db purge`` do.

- :mod:`.relations`: which rows refer to which (foreign keys and Nova's
  unconstrained relations) and the order tables are archived in;
- :mod:`.shadow`: the ``shadow_<table>`` tables archived rows move to;
- :mod:`.archiver`: moving rows, batch by batch, one transaction each;
- :mod:`.purge`: deleting rows from the shadow tables.
"""

from .archiver import Archiver
from .purge import purge_shadow_tables
from .shadow import SHADOW_PREFIX, shadow_name

__all__ = ["SHADOW_PREFIX", "Archiver", "purge_shadow_tables", "shadow_name"]
