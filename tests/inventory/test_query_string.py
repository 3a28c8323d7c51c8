"""The query string every admin list and export accepts: its own filters, search, sort and page only.

Rules: no URL parameter can query or sort by a column the admin hides (issue 17.1); no query
parameter makes a 500 (10.10); bad input to the database is a message, not a 503 (10.11).
Run on every backend against the module's shared seeded database (``seeded`` in conftest).
"""

from __future__ import annotations

import csv
import io
import string

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inventory.admin import query_string
from inventory.models import Instance, User
from tests.inventory.inventory_support import LIST_URL, listed_uuids, page

#: Every list in the admin, by its URL (the Nova inventory, flavors, migrate_version).
ADMINS = {
    f"/admin/{model._meta.app_label}/{model._meta.model_name}/": model_admin
    for model, model_admin in admin.site._registry.items()
    if model._meta.app_label in ("inventory", "schema")
}
EXPORTS = [url for url, model_admin in ADMINS.items() if hasattr(model_admin, "export_view")]
USER_URL = "/admin/inventory/user/"


@pytest.fixture
def viewer(client, django_user_model, nova):
    """A staff user whose only permission is ``view_user`` (no superuser), logged in."""
    user = django_user_model.objects.create_user("viewer", password="x", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_user", content_type__app_label="inventory"))
    client.force_login(user)
    return client


def body(response) -> str:
    return (b"".join(response.streaming_content) if response.streaming else response.content).decode()


def refused(client, url, params) -> str:
    """Asserts the list refuses ``params`` (a redirect without them, then the list with a message)."""
    response = client.get(url, params)
    assert response.status_code == 302, (url, params, response.status_code)
    location = response["Location"]
    assert location.startswith(url), location
    for key in params:
        assert f"{key}=" not in location.split("?", 1)[-1], (key, location)
    shown = client.get(location)
    assert shown.status_code == 200, location
    text = [str(m) for m in get_messages(shown.wsgi_request)]
    assert any(m.startswith("Ignored ") for m in text), text
    return shown.content.decode()


def user_names(html: str) -> list[str]:
    return sorted(set(__import__("re").findall(r'<td class="field-name">([^<]*)</td>', html)))


def test_secret_and_access_keys_are_no_oracle(nova, viewer):
    user = User.objects.exclude(secret_key=None).order_by("id").first()
    everyone = user_names(page(viewer, USER_URL))
    assert len(everyone) > 1
    probes = [
        {"secret_key__startswith": user.secret_key[:4]},
        {"secret_key__startswith": "zzzz"},
        {"secret_key": user.secret_key},
        {"secret_key__isnull": "False"},
        {"access_key__startswith": user.access_key[:6]},
        {"access_key__gt": user.access_key},
        {"secret_key__regex": "^3"},
        {"name__startswith": user.name[:2]},  # a shown column, but no filter of this list
        {"id__in": user.id},
    ]
    for params in probes:
        html = refused(viewer, USER_URL, params)
        assert user_names(html) == everyone, params  # the same page whatever the secret
        export = viewer.get(USER_URL + "export.csv", params)
        assert export.status_code == 400, params
        text = export.content.decode()
        assert text.startswith("Refused: ") and "not a filter of this list" in text
        assert text.count("\n") == 1, text  # one line saying why, no rows
    # searching is by name or id only: a secret's prefix finds nothing
    assert user_names(page(viewer, USER_URL, q=user.secret_key[:8])) == []


def test_sorting_only_by_shown_sortable_columns(nova, viewer):
    # users: 0 id, 1 name, 2 masked access key (not sortable: an oracle on the hidden key), 3 is_admin, 4 created_at
    assert page(viewer, USER_URL, o="1")
    assert page(viewer, USER_URL, o="-4.0")
    for bad in ("2", "-2", "1.2", "5", "99", "x", "1;2", "-", "1e3", "1..2"):
        refused(viewer, USER_URL, {"o": bad})
    assert viewer.get(USER_URL + "export.csv", {"o": "2"}).status_code == 400
    refused(viewer, USER_URL, {"_to_field": "secret_key"})


def test_every_admin_refuses_lookups_on_its_columns(nova, admin_client):
    """No model field can be queried directly, on any list or export: only the filters' parameters."""
    lookups = ("startswith", "isnull", "gte", "exact", "in", "regex")
    for url, model_admin in ADMINS.items():
        allowed = query_string.filter_parameters(model_admin, None)
        fields = model_admin.model._meta.concrete_fields
        for n, field in enumerate(fields):
            lookup = f"{(field.attname, field.name)[n % 2]}__{lookups[n % len(lookups)]}"
            if lookup in allowed:
                continue
            response = admin_client.get(url, {lookup: "1"})
            assert response.status_code == 302 and lookup not in response["Location"], (url, lookup)
            if url in EXPORTS:
                assert admin_client.get(url + "export.csv", {lookup: "1"}).status_code == 400, (url, lookup)
        plain = next(f.attname for f in reversed(fields) if f.attname not in allowed)
        refused(admin_client, url, {plain: "1"})


@pytest.mark.parametrize(
    ("url", "params", "message"),
    [
        (LIST_URL, {"power_state": "abc"}, "must be an integer"),
        (LIST_URL, {"flavor": "abc"}, "must be an integer"),
        (LIST_URL, {"flavor": "99999999999999999999"}, "outside the column's range"),
        (LIST_URL, {"flavor": "-99999999999999999999"}, "outside the column's range"),
        (LIST_URL, {"power_state": "1.5"}, "must be an integer"),
        (LIST_URL, {"host": "a\x00b"}, "NUL"),
        (LIST_URL, {"q": "a\x00b"}, "NUL"),
        (LIST_URL, {"q": "x" * 200_000}, "at most 255 characters"),
        (LIST_URL, {"deleted": "maybe"}, "expected one of live, deleted, all"),
        (LIST_URL, {"p": "0"}, "not a page number"),
        ("/admin/inventory/fixedip/", {"network": "abc"}, "must be an integer"),
        ("/admin/inventory/fixedip/", {"allocated__exact": "maybe"}, "must be either True, False"),
        ("/admin/inventory/service/", {"binary": "b" * 256}, "at most 255 characters"),
        ("/admin/inventory/service/", {"binary__exact": "nova-compute"}, "not a filter of this list"),
        ("/admin/inventory/fixedip/", {"allocated": "1"}, "not a filter of this list"),
        ("/admin/inventory/flavor/", {"memory_mb__gt": "1"}, "not a filter of this list"),
    ],
)
def test_invalid_filter_values_are_a_message_on_the_list(nova, admin_client, url, params, message):
    refused(admin_client, url, params)
    response = admin_client.get(url, params, follow=True)
    text = " ".join(str(m) for m in get_messages(response.wsgi_request))
    assert message in response.content.decode() or message in text, (params, text)
    if url + "export.csv" in [u + "export.csv" for u in EXPORTS]:
        export = admin_client.get(url + "export.csv", params)
        assert export.status_code == 400, params
        assert message in export.content.decode()


#: Input each database itself refuses (MariaDB compares any string without an error).
DATABASE_REFUSES = {
    "sqlite": [{"q": "x" * 200_000}, {"q": "%" * 60_000}],  # "LIKE or GLOB pattern too complex"
    "postgresql": [{"host": "a\x00b"}, {"project_id": "\x00"}],  # "text fields cannot contain NUL"
}


def test_input_the_database_refuses_is_a_message_not_a_503(nova, admin_client, monkeypatch):
    """Past the query-string check, the database's own refusal of the input is still a message on the list."""
    if nova.backend not in DATABASE_REFUSES:
        pytest.skip("MariaDB refuses none of these inputs")
    monkeypatch.setattr(query_string, "any_value_refusal", lambda value: None)
    for params in DATABASE_REFUSES[nova.backend]:
        html = refused(admin_client, LIST_URL, params)
        assert "the database refused this query" in html
        export = admin_client.get(LIST_URL + "export.csv", params)
        assert export.status_code == 400 and "the database refused this query" in export.content.decode()


def test_a_page_past_the_end_is_a_message(nova, admin_client, monkeypatch):
    from inventory.admin.instances import InstanceAdmin

    monkeypatch.setattr(InstanceAdmin, "list_per_page", 10)
    assert len(listed_uuids(page(admin_client, LIST_URL, p="2"))) == 10
    html = refused(admin_client, LIST_URL, {"p": "999"})
    assert "this list has no page 999" in html
    assert len(listed_uuids(html)) == 10  # the first page
    assert admin_client.get(LIST_URL + "export.csv", {"p": "999"}).status_code == 400


def test_refusal_keeps_the_valid_parameters(nova, admin_client):
    response = admin_client.get(LIST_URL, {"power_state": "abc", "vm_state": "active", "secret": "1"})
    assert response["Location"] == f"{LIST_URL}?vm_state=active"
    html = page(admin_client, response["Location"])
    expected = Instance.objects.live().filter(vm_state="active").values_list("uuid", flat=True)
    assert sorted(listed_uuids(html)) == sorted(expected)
    assert "Ignored power_state=" in html and "Ignored secret=" in html


def test_the_filters_own_links_are_accepted(nova, admin_client, monkeypatch):
    """Every link a list offers (filter choices, sort headers, pages) opens without a refusal (a 200, no message)."""
    import re
    from html import unescape

    for url, model_admin in ADMINS.items():
        monkeypatch.setattr(model_admin, "list_per_page", 5)  # pages to follow, and fewer rows to draw
        html = page(admin_client, url)
        for query in set(re.findall(r'href="(\?[^"#]*)"', html)):
            response = admin_client.get(url + unescape(query))
            assert response.status_code == 200, (url, query)
            assert not list(get_messages(response.wsgi_request)), (url, query)


# --- the fuzzer: every list and export, any parameters the lists know, any values --------------------

LIST_KEYS = sorted(
    {"q", "o", "p", "all", "e", "_to_field", "_facets", "_popup", "x", "id", "deleted__exact"}
    | {key for model_admin in ADMINS.values() for key in query_string.filter_parameters(model_admin, None)}
)
VALUES = st.one_of(
    st.text(max_size=20),
    st.text(alphabet=string.digits + "-.", max_size=25),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.sampled_from(["none", "True", "False", "all", "deleted", "1", "0", "-1", "😀", "\x00", "%", "_", "'", "\\"]),
    st.text(min_size=250, max_size=300, alphabet="ab%"),
)


def csv_rows(response):
    return list(csv.reader(io.StringIO(body(response))))


@settings(
    max_examples=120,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    url=st.sampled_from(sorted(ADMINS)),
    export=st.booleans(),
    params=st.lists(st.tuples(st.sampled_from(LIST_KEYS), VALUES), max_size=4),
)
def test_no_query_string_makes_an_error_page(nova, admin_client, url, export, params):
    target = url + "export.csv" if export and url in EXPORTS else url
    query = {}
    for key, value in params:
        query.setdefault(key, []).append(value)
    response = admin_client.get(target, query)
    if target.endswith("export.csv"):
        assert response.status_code in (200, 400), (target, query, response.status_code)
        if response.status_code == 200:
            assert csv_rows(response), (target, query)
        else:
            assert body(response).startswith("Refused: ")
        return
    assert response.status_code in (200, 302), (target, query, response.status_code)
    if response.status_code == 302:
        after = admin_client.get(response["Location"])
        assert after.status_code == 200, (target, query, response["Location"], after.status_code)


def test_a_date_hierarchy_adds_its_drill_down_parameters(rf):
    from inventory.admin.instances import InstanceAdmin

    class DatedInstanceAdmin(InstanceAdmin):
        date_hierarchy = "created_at"

    dated, plain = DatedInstanceAdmin(Instance, admin.site), ADMINS[LIST_URL]
    drill_down = rf.get(LIST_URL, {"created_at__year": "2026", "created_at__month": "2", "vm_state": "active"})
    query_string.check_query_string(dated, drill_down)
    with pytest.raises(query_string.QueryStringError, match="created_at__year='2026': not a filter"):
        query_string.check_query_string(plain, drill_down)
    with pytest.raises(query_string.QueryStringError, match="not a year, month or day number"):
        query_string.check_query_string(dated, rf.get(LIST_URL, {"created_at__day": "x"}))
