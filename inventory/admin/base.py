"""What every read-only inventory admin shares: no writes, cheap counts, no facet counts.

Nova's services own these rows; the admin only shows them. Staff may view
every page; add, change and delete are refused, and so is any POST.

Counting is the expensive part of a changelist on a million rows (see
``EstimatedCountPaginator``): the default view shows the catalog's row estimate
(``Dialect.estimated_row_counts``: InnoDB's ``table_rows``, PostgreSQL's
``reltuples``), a filtered view of a big table shows its pages up to the next
one without counting, and a small table is counted exactly.
``show_full_result_count`` is off and facets are never computed.
"""

from __future__ import annotations

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import connections
from django.http import HttpResponseBadRequest
from django.urls import path
from django.utils.functional import cached_property

from schema.dialects import dialect_for

from .export import export_csv
from .query_string import QueryStringError, QueryStringPolicy

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
    """A paginator that never runs ``COUNT(*)`` over a big table.

    - small table (catalog estimate at most ``COUNT_CAP``, or no estimate): an
      exact count, capped at ``COUNT_CAP`` (``capped``);
    - big table, default view: the catalog's estimate (``estimated``);
    - big table, filtered or searched: no count at all. The requested page's ids
      are read with one row more than a page (``open_ended``: there is a next
      page), so the list shows the pages up to the next one.

    Deep pages and peeked pages are a deferred join: the ids of the page first
    (``ORDER BY ... LIMIT/OFFSET`` over the id only), then the rows by id.
    """

    DEFERRED_JOIN_FROM = 1000

    def __init__(self, object_list, per_page, orphans=0, allow_empty_first_page=True, *, filtered=True, page=1):
        super().__init__(object_list, per_page, orphans, allow_empty_first_page)
        self.filtered = filtered
        self.page_number = page
        self.estimated = self.capped = self.open_ended = False
        self._ids = None

    @cached_property
    def count(self):
        queryset = self.object_list
        estimate = estimated_rows(queryset.model, queryset.db)
        if estimate is not None and estimate > COUNT_CAP:
            if not self.filtered:
                self.estimated = True
                return estimate
            offset = (self.page_number - 1) * self.per_page
            self._ids = self._page_ids(offset, offset + self.per_page + 1)
            self.open_ended = len(self._ids) > self.per_page
            return offset + len(self._ids)
        counted = queryset.order_by()[: COUNT_CAP + 1].count()
        if counted > COUNT_CAP:
            self.capped = True
            return COUNT_CAP
        return counted

    @property
    def count_label(self) -> str:
        if self.estimated:
            return f"about {self.count}"
        if self.open_ended:
            return f"more than {self.count - 1}"
        if self.capped:
            return f"more than {self.count}"
        return str(self.count)

    def _page_ids(self, bottom, top):
        return list(self.object_list.values_list("pk", flat=True)[bottom:top])

    def page(self, number):
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        if self._ids is not None and number == self.page_number:
            ids = self._ids[: self.per_page]
        elif bottom >= self.DEFERRED_JOIN_FROM:
            ids = self._page_ids(bottom, bottom + self.per_page)
        else:
            return super().page(number)
        # The list's ordering is kept: the same ORDER BY over the page's ids.
        return self._get_page(self.object_list.filter(pk__in=ids), number, self)


class ReadOnlyPermissions:
    """Users with the model's view permission may look (the roles of ``inventory.roles``);
    nobody adds, changes or deletes (Nova's services own these rows)."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyAdmin(ReadOnlyPermissions, QueryStringPolicy, admin.ModelAdmin):
    """Viewable by staff; no add, change or delete; POSTs get 403; only the list's own query parameters."""

    paginator = EstimatedCountPaginator
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    list_per_page = 100
    actions = None

    def get_paginator(self, request, queryset, per_page, orphans=0, allow_empty_first_page=True):
        filtered = any(key not in NOT_FILTERS for key in request.GET)
        try:
            page = max(int(request.GET.get("p", 1)), 1)
        except ValueError:
            page = 1
        return self.paginator(queryset, per_page, orphans, allow_empty_first_page, filtered=filtered, page=page)

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
        try:
            return export_csv(self, request)
        except QueryStringError as exc:  # the list's own check (``query_string``): a 400 saying why
            return HttpResponseBadRequest(f"Refused: {exc}\n", content_type="text/plain; charset=utf-8")

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        if request.method == "POST":
            raise PermissionDenied("the Nova inventory is read-only")
        return super().changeform_view(request, object_id, form_url, extra_context)

    def get_readonly_fields(self, request, obj=None):
        if self.fields:
            return self.fields
        return [f.name for f in self.model._meta.fields if f.name not in (self.exclude or ())]
