"""The address a request came from, as the login lockout counts it, behind the proxy in front.

In production gunicorn listens on loopback behind a reverse proxy: every request
comes from the proxy's address. Counted by that address, five failed logins of
anyone would lock everyone out. The proxy appends the address it was connected
from to ``X-Forwarded-For`` (nginx's ``$proxy_add_x_forwarded_for``): that, the
header's last entry, is the client's when the request comes from a trusted proxy
(``FORWARDED_ALLOW_IPS``, gunicorn's own setting, loopback by default). Entries
before it are whatever the client sent, and are never used.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings


def client_ip(request) -> str | None:
    """``REMOTE_ADDR``, or the last ``X-Forwarded-For`` address when a trusted proxy sent the request."""
    remote = request.META.get("REMOTE_ADDR")
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    trusted = settings.FORWARDED_ALLOW_IPS
    if not forwarded or not ("*" in trusted or remote in trusted):
        return remote
    try:
        return str(ipaddress.ip_address(forwarded.split(",")[-1].strip()))
    except ValueError:  # not an address: the proxy's own one counts
        return remote
