"""The Nova inventory in Django's admin (one module per area).

Everything but flavors is read-only (``base.ReadOnlyAdmin``): Nova's services
own those rows. Flavors are edited in ``flavors``.
"""

from . import flavors, hosts, identity, instances, network  # noqa: F401
