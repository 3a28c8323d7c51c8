"""The inventory lists' rows and drop-down filters, rendered in Python with the stock admin's output.

A list page of 50 instances has 750 cells and drop-down filters of ~800
choices (hosts, projects). Django's admin renders each cell through
``items_for_result`` (a ``reverse()`` and a preserved-filters merge per row,
the column's field lookup and ``format_html`` per cell) and each choice
through a template loop; that was two thirds of a page's server time.

- ``{% inventory_result_list cl %}``: ``{% result_list cl %}`` with the same
  HTML (``change_list_results.html``), each row built once per page: what
  does not change between rows (the column's class, link, field, empty value,
  the change URL around the primary key, the preserved filters) is worked out
  once, and each row is one string. Lists the fast path does not cover
  (editable, popups, a custom ``url_for_result``) get Django's own rows.
- ``{{ choices|select_options }}``: the ``<option>`` elements of a drop-down
  filter (``admin/inventory/select_filter.html``) in one join.
"""

from __future__ import annotations

import datetime
import html
import re
from urllib.parse import quote as url_quote

from django.contrib.admin.templatetags import admin_list
from django.contrib.admin.templatetags.admin_urls import add_preserved_filters
from django.contrib.admin.templatetags.base import InclusionAdminNode
from django.contrib.admin.utils import (
    FieldIsAForeignKeyColumnName,
    _get_non_gfk_field,
    display_for_field,
    display_for_value,
    lookup_field,
)
from django.contrib.admin.utils import quote as admin_quote
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import FieldDoesNotExist, ObjectDoesNotExist
from django.db import models
from django.template import Library
from django.urls import NoReverseMatch, reverse
from django.utils.encoding import iri_to_uri
from django.utils.html import conditional_escape
from django.utils.http import RFC3986_SUBDELIMS
from django.utils.safestring import mark_safe

register = Library()

#: Stands for the primary key in the change URL reversed once per page (``<path:object_id>`` takes it).
PK_MARKER = "novaweb-pk-marker"
#: What ``reverse()`` leaves unquoted in a URL (django.urls.resolvers).
URL_SAFE = RFC3986_SUBDELIMS + "/~:@"
#: The characters ``iri_to_uri`` leaves as they are (django.utils.encoding).
URI_SAFE = re.compile(r"[A-Za-z0-9_.~/#%\[\]=:;$&()+,!?*@'-]*")
#: Fields shown as their text (``display_for_field`` of a value that is a ``str``, or the empty value).
PLAIN_TEXT_FIELDS = (models.CharField, models.TextField)
#: Fields whose cells do not wrap (``items_for_result``).
NOWRAP_FIELDS = (models.DateField, models.TimeField, models.ForeignKey)


def _escape(value) -> str:
    """``conditional_escape``, with a plain ``str`` (nearly every value here) escaped directly."""
    return html.escape(value) if type(value) is str else conditional_escape(value)


def _uri(query_string) -> str:
    """``iri_to_uri``, skipped for what it leaves alone (every query string ``urlencode`` makes)."""
    if type(query_string) is str and URI_SAFE.fullmatch(query_string):
        return query_string
    return iri_to_uri(query_string)


@register.filter
def select_options(choices):
    """``<option value="{query string}"[ selected]>{display}</option>`` for each of a filter's choices."""
    return mark_safe(
        "".join(
            f'<option value="{_escape(_uri(choice["query_string"]))}"'
            f"{' selected' if choice['selected'] else ''}>{_escape(choice['display'])}</option>"
            for choice in choices
        )
    )


class _Column:
    """One ``list_display`` entry, resolved once per page; ``cell()`` is ``items_for_result``'s cell."""

    def __init__(self, cl, index, name, link, tag):
        self.name = name
        self.link = link
        self.tag = tag
        self.row_class = f"field-{admin_list._coerce_field_name(name, index)}"
        self.empty = cl.model_admin.get_empty_value_display()
        self.field = self.method = None
        if isinstance(name, str):  # a callable in list_display takes lookup_field's way below
            try:
                self.field = _get_non_gfk_field(cl.lookup_opts, name)
            except (FieldDoesNotExist, FieldIsAForeignKeyColumnName):
                if name != "__str__" and hasattr(cl.model_admin, name):
                    self.method = getattr(cl.model_admin, name)
        # Exactly these classes (a subclass may display otherwise: URLField links), without choices.
        self.plain_text = type(self.field) in PLAIN_TEXT_FIELDS and not self.field.choices

    def cell(self, cl, result):
        """``(classes, representation)`` of this column for ``result``."""
        if self.plain_text:
            value = getattr(result, self.name)
            if value is None or type(value) is str:
                return self.row_class, self.empty if value is None or not value.strip() else value
        try:
            if self.field is not None:
                field, attr, value = self.field, None, getattr(result, self.name)
            elif self.method is not None:
                field, attr, value = None, self.method, self.method(result)
            else:
                field, attr, value = lookup_field(self.name, result, cl.model_admin)
        except ObjectDoesNotExist:
            return self.row_class, self.empty
        empty = getattr(attr, "empty_value_display", self.empty)
        if isinstance(value, str) and value.strip() == "":
            value = ""
        classes = self.row_class
        if field is None or field.auto_created:
            if self.name == "action_checkbox":
                classes = "action-checkbox"
            boolean = getattr(attr, "boolean", False)
            if isinstance(attr, property) and hasattr(attr, "fget"):
                boolean = getattr(attr.fget, "boolean", False)
            shown = display_for_value(value, empty, boolean)
            nowrap = isinstance(value, (datetime.date, datetime.time))
        else:
            if isinstance(field.remote_field, models.ManyToOneRel):
                shown = empty if value is None else value
            else:
                shown = display_for_field(value, field, empty, avoid_link=self.link)
            nowrap = isinstance(field, NOWRAP_FIELDS)
        return (f"{classes} nowrap" if nowrap else classes), shown


def _change_url(cl):
    """``result -> its change URL with the preserved filters``: one ``reverse()`` per page, not per row."""
    opts = cl.opts
    url = reverse(
        f"admin:{opts.app_label}_{opts.model_name}_change",
        args=(PK_MARKER,),
        current_app=cl.model_admin.admin_site.name,
    )
    url = add_preserved_filters({"preserved_filters": cl.preserved_filters, "opts": cl.opts}, url)
    head, marker, tail = url.partition(PK_MARKER)
    if not marker:
        raise NoReverseMatch(f"the change URL of {opts.label} does not carry its key")
    pk_attname = cl.pk_attname

    def change_url(result):
        key = url_quote(str(admin_quote(getattr(result, pk_attname))), safe=URL_SAFE)
        return f"{head}{key}{tail}" if key else None  # an empty key: no URL (reverse() finds none)

    return change_url


def fast_rows(cl) -> list[admin_list.ResultList] | None:
    """Each result's row as one string of cells (None where the stock rows are needed)."""
    if cl.formset or cl.is_popup or cl.to_field or type(cl).url_for_result is not ChangeList.url_for_result:
        return None
    columns, first = [], True
    links = cl.list_display_links
    for index, name in enumerate(cl.list_display):
        link = links is not None and ((first and not links) or name in links)
        columns.append(_Column(cl, index, name, link, "th" if link and first else "td"))
        first = first and not link
    try:
        change_url = _change_url(cl) if any(c.link for c in columns) else None
    except NoReverseMatch:
        change_url = None
    rows = []
    for result in cl.result_list:
        url = change_url(result) if change_url else None
        cells = []
        for column in columns:
            classes, shown = column.cell(cl, result)
            shown = _escape(shown)
            if column.link and url is not None:
                shown = f'<a href="{_escape(url)}">{shown}</a>'
            cells.append(f'<{column.tag} class="{classes}">{shown}</{column.tag}>')
        rows.append(admin_list.ResultList(None, [mark_safe("".join(cells))]))
    return rows


def result_list(cl):
    """``admin_list.result_list`` with the rows of :func:`fast_rows` where they apply."""
    rows = fast_rows(cl)
    if rows is None:
        return admin_list.result_list(cl)
    headers = list(admin_list.result_headers(cl))
    return {
        "cl": cl,
        "result_hidden_fields": [],
        "result_headers": headers,
        "num_sorted_fields": sum(1 for h in headers if h["sortable"] and h["sorted"]),
        "results": rows,
    }


@register.tag(name="inventory_result_list")
def result_list_tag(parser, token):
    return InclusionAdminNode(
        parser, token, func=result_list, template_name="change_list_results.html", takes_context=False
    )
