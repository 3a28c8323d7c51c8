"""The query string a list (and its CSV export) accepts: its own filters, search, sort and page.

Django's admin applies any lookup on a model's own fields from the query
string (``?secret_key__startswith=3eb1``): the row count then answers
questions about columns the list never shows. Here a list accepts only:

- the parameters its own list filters produce (``list_filter``), each with a
  value the filtered column can hold (an integer within the column's range,
  a string no longer than the column, a boolean);
- ``q`` (the search box), ``o`` (sorting by a column the list shows and
  offers to sort), ``p`` (a page number), and Django's own flags
  (``all``, ``e``, ``_facets``, ``_popup``, ``_to_field`` of the primary key);
- values without NUL characters and at most ``MAX_VALUE_LENGTH`` long.

Everything else is refused with a message naming the parameter:
:class:`QueryStringPolicy.changelist_view` shows it on the list (the refused
parameters dropped), an export answers 400 with it. The check runs in
``get_changelist_instance``, the one place the list and every export build
their rows from.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from django.contrib import messages
from django.contrib.admin import SimpleListFilter
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.utils import get_fields_from_path
from django.contrib.admin.views.main import (
    ALL_VAR,
    ERROR_FLAG,
    IS_FACETS_VAR,
    IS_POPUP_VAR,
    ORDER_VAR,
    PAGE_VAR,
    SEARCH_VAR,
    TO_FIELD_VAR,
)
from django.core.exceptions import BadRequest, FieldDoesNotExist, ValidationError
from django.db import DatabaseError, connections, models, router
from django.http import HttpResponseRedirect

from novaweb.database_errors import bad_input_reason

#: Nova's string columns hold at most 255 characters: a longer value can match nothing.
MAX_VALUE_LENGTH = 255
#: Django's flags that select nothing by themselves (their values are not used as lookups).
FLAGS = frozenset({ALL_VAR, ERROR_FLAG, IS_FACETS_VAR, IS_POPUP_VAR})
ORDER_RE = re.compile(r"-?\d{1,4}")
ISNULL_VALUES = frozenset({"True", "False", "true", "false", "1", "0"})

Check = Callable[[str], "str | None"]


class QueryStringError(BadRequest):
    """Query parameters a list refuses: ``problems`` maps each parameter to the reason."""

    def __init__(self, problems: dict[str, str]):
        self.problems = problems
        super().__init__("; ".join(problems.values()))


def nova_alias(model_admin) -> str:
    return router.db_for_read(model_admin.model)


def value_refusal(field: models.Field, value: str, using: str) -> str | None:
    """Why ``value`` cannot be a value of ``field``'s column, or None when it can."""
    target = field.target_field if field.is_relation else field
    try:
        python = target.to_python(value)
    except ValidationError as exc:
        return " ".join(exc.messages)
    if isinstance(target, models.IntegerField) and python is not None:
        low, high = connections[using].ops.integer_field_range(target.get_internal_type())
        if (low is not None and python < low) or (high is not None and python > high):
            return f"{value} is outside the column's range ({low} to {high})."
    if getattr(target, "max_length", None) and len(value) > target.max_length:
        return f"the column holds at most {target.max_length} characters."
    return None


def field_value_check(model, path: str, using: str) -> Check:
    field = get_fields_from_path(model, path)[-1]
    return lambda value: value_refusal(field, value, using)


def isnull_check(value: str) -> str | None:
    return None if value in ISNULL_VALUES else "expected True or False."


def field_filter_parameters(model, path: str, using: str) -> dict[str, Check]:
    """The parameters Django's field list filter for ``path`` produces, each with its value check."""
    field = get_fields_from_path(model, path)[-1]
    params = {f"{path}__isnull": isnull_check}
    if field.is_relation:
        params[f"{path}__{field.target_field.name}__exact"] = field_value_check(model, path, using)
    elif isinstance(field, models.DateField):
        for lookup in ("gte", "lt"):
            params[f"{path}__{lookup}"] = field_value_check(model, path, using)
    elif isinstance(field, models.BooleanField) or field.choices:  # Boolean/ChoicesFieldListFilter
        params[f"{path}__exact"] = field_value_check(model, path, using)
    else:  # AllValuesFieldListFilter
        params[path] = field_value_check(model, path, using)
    return params


def filter_parameters(model_admin, request) -> dict[str, Check]:
    """Every query parameter the list's filters produce, each with a check of its value.

    A :class:`~django.contrib.admin.SimpleListFilter` declares its check as the
    class method ``refusal(value, model_admin)``; one without accepts any value.
    """
    using = nova_alias(model_admin)
    params: dict[str, Check] = {}
    for item in model_admin.get_list_filter(request):
        if isinstance(item, type) and issubclass(item, SimpleListFilter):
            refusal = getattr(item, "refusal", None)
            params[item.parameter_name] = (
                (lambda value, refusal=refusal: refusal(value, model_admin)) if refusal else (lambda value: None)
            )
        else:
            path = item[0] if isinstance(item, (list, tuple)) else item
            params.update(field_filter_parameters(model_admin.model, path, using))
    if model_admin.date_hierarchy:  # the drill-down links: year, month, day numbers
        for part in ("year", "month", "day"):
            params[f"{model_admin.date_hierarchy}__{part}"] = date_part_refusal
    return params


def list_columns(model_admin, request) -> list:
    """The changelist's columns as ``o`` numbers them (the action checkbox first, when there are actions)."""
    columns = list(model_admin.get_list_display(request))
    if model_admin.get_actions(request):
        columns = ["action_checkbox", *columns]
    return columns


def sortable(model_admin, request, column) -> bool:
    """Whether the list offers to sort by ``column`` (a model field or a display with an ordering)."""
    if column not in model_admin.get_sortable_by(request):
        return False
    if callable(column):
        return getattr(column, "admin_order_field", None) is not None
    try:
        model_admin.model._meta.get_field(column)
        return True
    except FieldDoesNotExist:
        attr = getattr(model_admin, column, None) or getattr(model_admin.model, column, None)
        if isinstance(attr, property):
            attr = attr.fget
        return getattr(attr, "admin_order_field", None) is not None


def order_refusal(model_admin, request, value: str) -> str | None:
    if not value:  # Django's "remove from sorting" link: the default order
        return None
    columns = list_columns(model_admin, request)
    for part in value.split("."):
        if not ORDER_RE.fullmatch(part):
            return f"{part!r} is not a column number."
        index = int(part.lstrip("-"))
        if index >= len(columns) or not sortable(model_admin, request, columns[index]):
            return f"column {index} cannot be sorted."
    return None


def page_refusal(value: str) -> str | None:
    if not value.isascii() or not value.isdigit() or int(value) < 1:
        return f"{value!r} is not a page number."
    return None


def date_part_refusal(value: str) -> str | None:
    if not value.isascii() or not value.isdigit() or not 1 <= int(value) <= 9999:
        return f"{value!r} is not a year, month or day number."
    return None


def to_field_refusal(model_admin, value: str) -> str | None:
    pk = model_admin.model._meta.pk
    return None if value in (pk.name, pk.attname) else "only the primary key."


def any_value_refusal(value: str) -> str | None:
    """What no parameter may hold: a NUL character (PostgreSQL refuses it), more than MAX_VALUE_LENGTH."""
    if "\x00" in value:
        return "a NUL character is not allowed."
    if len(value) > MAX_VALUE_LENGTH:
        return f"at most {MAX_VALUE_LENGTH} characters."
    return None


def check_query_string(model_admin, request) -> None:
    """Raise :class:`QueryStringError` unless every query parameter is one the list offers."""
    checks: dict[str, Check] = {
        SEARCH_VAR: lambda value: None,
        ORDER_VAR: lambda value: order_refusal(model_admin, request, value),
        PAGE_VAR: page_refusal,
        TO_FIELD_VAR: lambda value: to_field_refusal(model_admin, value),
        **{flag: (lambda value: None) for flag in FLAGS},
    }
    filters = filter_parameters(model_admin, request)
    checks.update(filters)
    problems = {}
    for key, values in request.GET.lists():
        check = checks.get(key, lambda value: "not a filter of this list.")
        for value in values:
            reason = any_value_refusal(value) or check(value)
            if reason:
                problems[key] = f"{'search' if key == SEARCH_VAR else key}={value[:40]!r}: {reason}"
                break
    if problems:
        raise QueryStringError(problems)


def without(request, keys) -> str:
    """The request's path and query string without ``keys``."""
    query = request.GET.copy()
    for key in keys:
        query.pop(key, None)
    query.pop(ERROR_FLAG, None)
    return f"{request.path}?{query.urlencode()}" if query else request.path


class QueryStringPolicy:
    """A ModelAdmin mixin: the list and its exports accept only the list's own query parameters."""

    def lookup_allowed(self, lookup, value, request=None):
        # Django's own check, made strict: only the parameters the list filters produce.
        return request is not None and lookup in filter_parameters(self, request)

    def get_changelist_instance(self, request):
        check_query_string(self, request)
        try:
            return super().get_changelist_instance(request)
        except IncorrectLookupParameters as exc:  # a page past the end, a date that does not exist
            if PAGE_VAR in request.GET:
                raise QueryStringError({PAGE_VAR: f"this list has no page {request.GET[PAGE_VAR]}."}) from None
            dates = [key for key in request.GET if self.date_hierarchy and key.startswith(self.date_hierarchy)]
            raise QueryStringError(dict.fromkeys(dates or [ERROR_FLAG], f"no such date ({exc}).")) from None
        except DatabaseError as exc:
            reason = bad_input_reason(exc)
            if reason is None:  # unavailable: the 503 of novaweb.database_errors
                raise
            keys = [key for key in request.GET if key not in (ORDER_VAR, PAGE_VAR)] or [SEARCH_VAR]
            refused = f"the database refused this query: {reason}"
            raise QueryStringError(dict.fromkeys(keys, refused)) from None

    def changelist_view(self, request, extra_context=None):
        try:
            return super().changelist_view(request, extra_context)
        except QueryStringError as exc:
            for problem in dict.fromkeys(exc.problems.values()):
                messages.error(request, f"Ignored {problem}")
            return HttpResponseRedirect(without(request, exc.problems))
