"""Django's admin app with novaweb's site (:mod:`novaweb.admin_site`) as ``admin.site``."""

from django.contrib.admin.apps import AdminConfig


class NovaAdminConfig(AdminConfig):
    default_site = "novaweb.admin_site.NovaAdminSite"
