"""The query log in the admin: who ran what, when, how long, how many rows. Nobody edits it."""

from __future__ import annotations

from django.contrib import admin
from django.template.defaultfilters import truncatechars

from .models import QueryLog


@admin.register(QueryLog)
class QueryLogAdmin(admin.ModelAdmin):
    list_display = (
        "started_at",
        "username",
        "kind",
        "report",
        "duration_ms",
        "rows",
        "truncated",
        "short_sql",
        "error",
    )
    list_filter = ("kind", "truncated", "started_at")
    search_fields = ("=username", "sql")
    date_hierarchy = "started_at"
    readonly_fields = [f.name for f in QueryLog._meta.fields]
    show_facets = admin.ShowFacets.NEVER

    @admin.display(description="SQL")
    def short_sql(self, obj):
        return truncatechars(" ".join(obj.sql.split()), 120)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
