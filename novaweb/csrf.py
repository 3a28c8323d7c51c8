"""The page of a refused form (CSRF_FAILURE_VIEW): the admin's look, what happened and what to do.

Django's own page has an inline ``<style>`` (which the Content-Security-Policy
blocks: an unstyled page and a violation report) and tells the user only that
"more information is available with DEBUG=True". The usual cause is a form
opened before the user signed in again (another tab, an expired session):
signing in gives a new CSRF token, and the old form's no longer matches.
"""

from __future__ import annotations

from django.contrib import admin
from django.template.response import TemplateResponse
from django.views.decorators.csrf import csrf_exempt


@csrf_exempt
def csrf_failure(request, reason: str = ""):
    context = {**admin.site.each_context(request), "title": "Form refused: nothing was saved", "reason": reason}
    return TemplateResponse(request, "novaweb/csrf_failure.html", context, status=403)
