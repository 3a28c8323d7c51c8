"""Roles: what a viewer, a flavor manager, a schema operator and staff without a role see and are refused.

Each user is made the README's way (``manage.py novaweb_roles``, then
``manage.py demo_user --role ROLE``, which prints the login) and signs in
through the admin's login form.
"""

from __future__ import annotations

import io
import re

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.base import CommandError

from inventory.models import Flavor, Instance
from inventory.roles import ROLES

# The Nova database only serves the pages here: one backend is enough.
pytestmark = pytest.mark.parametrize("seeded", ["sqlite"], indirect=True)

NOVA_LISTS = [
    "/admin/inventory/instance/",
    "/admin/inventory/computenode/",
    "/admin/inventory/service/",
    "/admin/inventory/network/",
    "/admin/inventory/fixedip/",
    "/admin/inventory/floatingip/",
    "/admin/inventory/flavor/",
    "/admin/inventory/project/",
    "/admin/inventory/user/",
    "/admin/schema/migrateversion/",
]
NOVA_PAGES = [
    *NOVA_LISTS,
    "/admin/inventory/",
    "/admin/inventory/dashboard/",
    "/admin/schema/",
    "/admin/inventory/instance/export.csv",
    "/admin/inventory/flavor/1/change/",
]
DJANGO_PAGES = ["/admin/auth/user/", "/admin/auth/group/", "/admin/auth/user/add/"]


def _login_as(client, role: str | None, username: str | None = None):
    """A user made by ``demo_user`` (with ``--role`` unless None), signed in through the login form."""
    out = io.StringIO()
    args = ["--role", role] if role else []
    if username:
        args += ["--username", username]
    call_command("demo_user", *args, stdout=out)
    printed = re.fullmatch(r"demo user created: username (\S+)  password (\S+)\n", out.getvalue())
    assert printed, out.getvalue()
    response = client.post(
        "/admin/login/?next=/admin/", {"username": printed[1], "password": printed[2], "next": "/admin/"}
    )
    assert response.status_code == 302 and response.url == "/admin/", response.status_code
    return get_user_model().objects.get(username=printed[1])


def _staff_without_role(client):
    user = get_user_model().objects.create_user("staff-only", password="a-staff-password", is_staff=True)
    client.force_login(user)
    return user


@pytest.fixture
def roles(nova, db):
    out = io.StringIO()
    call_command("novaweb_roles", stdout=out)
    return out.getvalue()


def _status(client, url):
    return client.get(url).status_code


def test_novaweb_roles_creates_three_groups_and_is_repeatable(roles):
    assert sorted(Group.objects.values_list("name", flat=True)) == ["flavor manager", "schema operator", "viewer"]
    assert "group 'viewer' created" in roles
    viewer = Group.objects.get(name="viewer")
    viewer.permissions.clear()  # someone changed a group: running it again puts the role back
    again = io.StringIO()
    call_command("novaweb_roles", stdout=again)
    assert "group 'viewer' updated" in again.getvalue()
    assert viewer.permissions.count() == len(ROLES["viewer"].permissions())
    assert Group.objects.count() == 3


def test_viewer_reads_every_nova_page_and_changes_nothing(roles, client):
    user = _login_as(client, "viewer")
    assert user.is_staff and not user.is_superuser
    assert [g.name for g in user.groups.all()] == ["viewer"]
    for url in NOVA_PAGES:
        assert _status(client, url) == 200, url
    flavor_page = client.get("/admin/inventory/flavor/1/change/").content.decode()
    assert 'name="_save"' not in flavor_page  # a view-only page
    before = Flavor.objects.get(pk=1)
    client.post("/admin/inventory/flavor/1/change/", {"name": "x", "memory_mb": "1"})
    after = Flavor.objects.get(pk=1)
    assert (after.name, after.memory_mb, after.updated_at) == (before.name, before.memory_mb, before.updated_at)
    assert _status(client, "/admin/inventory/flavor/add/") == 403
    assert _status(client, "/admin/inventory/flavor/1/delete/") == 403
    for url in DJANGO_PAGES:
        assert _status(client, url) == 403, url
    index = client.get("/admin/").content.decode()
    assert "/admin/inventory/instance/" in index and "/admin/schema/" in index
    assert "/admin/auth/" not in index


def test_flavor_manager_edits_flavors_and_nothing_else(roles, client):
    _login_as(client, "flavor-manager")
    for url in NOVA_PAGES:
        assert _status(client, url) == 200, url
    assert _status(client, "/admin/inventory/flavor/add/") == 200
    flavor_page = client.get("/admin/inventory/flavor/1/change/").content.decode()
    assert 'name="_save"' in flavor_page
    instance = Instance.objects.live().order_by("id").first()
    assert client.post(f"/admin/inventory/instance/{instance.pk}/change/", {}).status_code == 403
    for url in DJANGO_PAGES:
        assert _status(client, url) == 403, url


def test_schema_operator_reads_like_a_viewer_and_may_operate_the_schema(roles, client):
    user = _login_as(client, "schema-operator")
    for url in NOVA_PAGES:
        assert _status(client, url) == 200, url
    assert user.has_perm("schema.operate_schema")
    assert _status(client, "/admin/inventory/flavor/add/") == 403
    for url in DJANGO_PAGES:
        assert _status(client, url) == 403, url
    viewer = _login_as(client, "viewer")
    assert not viewer.has_perm("schema.operate_schema")


def test_staff_without_a_role_see_nothing_of_novas(roles, client):
    _staff_without_role(client)
    index = client.get("/admin/").content.decode()
    assert "/admin/inventory/" not in index and "/admin/schema/" not in index
    for url in NOVA_PAGES:
        assert _status(client, url) in (403, 404), url
    # the app index of a model-less user is a 404 (Django's rule); every page of a model is a 403
    assert _status(client, "/admin/schema/") == 403
    assert _status(client, "/admin/inventory/dashboard/") == 403
    assert _status(client, "/admin/inventory/instance/export.csv") == 403


def test_demo_user_without_role_is_a_superuser_and_a_role_user_loses_it(roles, client):
    user = _login_as(client, None)
    assert user.username == "demo" and user.is_superuser
    out = io.StringIO()
    call_command("demo_user", "--role", "viewer", "--username", "demo", stdout=out)
    assert out.getvalue().startswith("demo user reset: username demo  password ")
    user.refresh_from_db()
    assert not user.is_superuser and [g.name for g in user.groups.all()] == ["viewer"]


def test_demo_user_rejects_an_unknown_role(roles):
    with pytest.raises(CommandError, match="invalid choice: 'admin'"):
        call_command("demo_user", "--role", "admin")
