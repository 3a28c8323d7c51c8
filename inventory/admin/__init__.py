"""The Nova inventory in Django's admin (one module per area)."""

from . import flavors  # noqa: F401
