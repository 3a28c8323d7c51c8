"""The page of a refused form (CSRF_FAILURE_VIEW): the admin's look, what happened and what to do.

Django's own page has an inline ``<style>`` (which the Content-Security-Policy
blocks: an unstyled page and a violation report) and tells the user only that
"more information is available with DEBUG=True". The causes, by Django's reason:

- the token no longer matches: a form opened before the user signed in again
  (another tab, an expired session) carries the old one;
- no CSRF cookie: the browser refuses cookies;
- the origin (or HTTPS referer) is not this site: behind a proxy that does not
  pass the ``Host`` header, or at an address missing from ``CSRF_TRUSTED_ORIGINS``
  (the operator's fix), or a form sent from another site.
"""

from __future__ import annotations

from django.contrib import admin
from django.middleware.csrf import REASON_NO_CSRF_COOKIE
from django.template.response import TemplateResponse
from django.views.decorators.csrf import csrf_exempt

#: How Django's reasons start when the form came from another address than the site's.
ORIGIN_REASONS = ("Origin checking failed", "Referer checking failed")


@csrf_exempt
def csrf_failure(request, reason: str = ""):
    context = {
        **admin.site.each_context(request),
        "title": "Form refused: nothing was saved",
        "reason": reason,
        "bad_origin": reason.startswith(ORIGIN_REASONS),
        "no_cookie": reason == REASON_NO_CSRF_COOKIE,
    }
    return TemplateResponse(request, "novaweb/csrf_failure.html", context, status=403)
