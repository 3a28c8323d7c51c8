"""Projects and users. A user's ``secret_key`` is never shown: not in a list, a page or an export."""

from __future__ import annotations

from django.contrib import admin

from inventory.exports.columns import Column, masked
from inventory.models import Project, User
from schema.models import MigrateVersion

from . import filters
from .base import ReadOnlyAdmin


def mask(value: str | None) -> str:
    """The first four characters of a credential, the rest hidden."""
    if not value:
        return "-"
    return f"{value[:4]}****"


@admin.register(Project)
class ProjectAdmin(ReadOnlyAdmin):
    list_display = ("id", "name", "description", "manager_id", "created_at")
    list_filter = (filters.DeletedFilter,)
    search_fields = ("^name", "=id")
    search_help_text = "Search by exact project id or the beginning of its name."
    ordering = ("name",)


@admin.register(User)
class UserAdmin(ReadOnlyAdmin):
    #: Every column a page or an export may show; ``secret_key`` is deliberately absent.
    fields = ("id", "name", "masked_access_key", "is_admin", "created_at", "updated_at", "deleted", "deleted_at")
    exclude = ("secret_key", "access_key")
    list_display = ("id", "name", "masked_access_key", "is_admin", "created_at")
    export_columns = {"masked_access_key": Column("Access key", masked("access_key"))}
    list_filter = (filters.DeletedFilter, "is_admin")
    search_fields = ("^name", "=id")
    search_help_text = "Search by exact user id or the beginning of the name."
    ordering = ("name",)

    def get_queryset(self, request):
        return super().get_queryset(request).defer("secret_key")

    @admin.display(description="access key")
    def masked_access_key(self, obj):
        return mask(obj.access_key)


@admin.register(MigrateVersion)
class MigrateVersionAdmin(ReadOnlyAdmin):
    list_display = ("repository_id", "version", "repository_path")
    ordering = ("repository_id",)
