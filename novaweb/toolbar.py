"""Who sees django-debug-toolbar (``DEBUG=1`` only): logged-in superusers, never anyone else.

Its SQL panel re-runs a page's queries and shows their results, so a staff
user without every permission, or an anonymous visitor, must not get it.
"""

from __future__ import annotations

from debug_toolbar.middleware import show_toolbar as debug_and_internal_ip


def show_toolbar(request) -> bool:
    user = getattr(request, "user", None)
    return bool(user is not None and user.is_active and user.is_superuser and debug_and_internal_ip(request))
