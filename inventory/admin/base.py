"""What every read-only inventory admin shares: no writes, cheap counts, no facet counts.

Nova's services own these rows; the admin only shows them. Staff may view
every page; add, change and delete are refused, and so is any POST.

Counting is the expensive part of a changelist on a million rows:

- the default view (nothing but the default "live" filter) shows the table's
  row estimate from the catalog's statistics (``Dialect.estimated_row_counts``:
  InnoDB's ``table_rows``, PostgreSQL's ``reltuples``), never ``COUNT(*)``;
- a filtered view counts exactly, but at most ``COUNT_CAP`` rows (a
  ``COUNT(*)`` over a ``LIMIT`` subquery), and says "more than" beyond it;
- ``show_full_result_count`` is off and facets are never computed.
"""

from __future__ import annotations

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import connections
from django.urls import path
from django.utils.functional import cached_property

from schema.dialects import dialect_for

from .export import export_csv

#: A filtered list counts exactly up to this many rows.
COUNT_CAP = 10_000
#: Query parameters that do not filter a changelist.
NOT_FILTERS = frozenset({"p", "o", "all", "_changelist_filters", "_to_field", "_popup"})


def estimated_rows(model, using: str) -> int | None:
    """The catalog's row estimate for ``model``'s table, or None when there is none."""
    connection = connections[using]
    with connection.cursor() as cursor:
        return dialect_for(connection).estimated_row_counts(cursor).get(model._meta.db_table)


class EstimatedCountPaginator(Paginator):
    """A paginator whose ``count`` is an estimate or a capped count, never a full ``COUNT(*)``.

    ``estimated`` says the count is approximate; ``capped`` that it stopped at ``COUNT_CAP``.
    """

    def __init__(self, object_list, per_page, *args, use_estimate=False, **kwargs):
        super().__init__(object_list, per_page, *args, **kwargs)
        self.use_estimate = use_estimate
        self.estimated = False
        self.capped = False

    @cached_property
    def count(self):
        queryset = self.object_list
        if self.use_estimate:
            estimate = estimated_rows(queryset.model, queryset.db)
            if estimate is not None and estimate > COUNT_CAP:
                self.estimated = True
                return estimate
        counted = queryset.order_by()[: COUNT_CAP + 1].count()
        if counted > COUNT_CAP:
            self.capped = True
            return COUNT_CAP
        return counted


class ReadOnlyAdmin(admin.ModelAdmin):
    """Viewable by staff; no add, change or delete; POSTs get 403."""

    paginator = EstimatedCountPaginator
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    list_per_page = 100
    actions = None

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_staff

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_staff

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_paginator(self, request, queryset, per_page, orphans=0, allow_empty_first_page=True):
        filtered = any(key not in NOT_FILTERS for key in request.GET)
        return self.paginator(queryset, per_page, orphans, allow_empty_first_page, use_estimate=not filtered)

    def changelist_view(self, request, extra_context=None):
        if request.method == "POST":
            raise PermissionDenied("the Nova inventory is read-only")
        return super().changelist_view(request, {"has_export": True, **(extra_context or {})})

    def get_urls(self):
        opts = self.model._meta
        export = path(
            "export.csv",
            self.admin_site.admin_view(self.export_view),
            name=f"{opts.app_label}_{opts.model_name}_export",
        )
        return [export, *super().get_urls()]

    def export_view(self, request):
        """The filtered list as CSV, all pages (``inventory.admin.export``)."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        return export_csv(self, request)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        if request.method == "POST":
            raise PermissionDenied("the Nova inventory is read-only")
        return super().changeform_view(request, object_id, form_url, extra_context)

    def get_readonly_fields(self, request, obj=None):
        if self.fields:
            return self.fields
        return [f.name for f in self.model._meta.fields if f.name not in (self.exclude or ())]
