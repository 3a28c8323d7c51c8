"""Every Nova row has a name an operator recognises: no page title or breadcrumb says "object (N)"."""

from __future__ import annotations

import html
import re
import string

from django.apps import apps
from django.contrib import admin
from django.db import models
from hypothesis import given, settings
from hypothesis import strategies as st

from inventory.models import ComputeNode, FixedIp, Instance, Network, Service, User
from novaweb.router import NOVA_APPS

NOVA_MODELS = [model for label in sorted(NOVA_APPS) for model in apps.get_app_config(label).get_models()]
REGISTERED = [model for model in admin.site._registry if model._meta.app_label in NOVA_APPS]
#: Columns that hold secrets: never part of a name.
SECRETS = {"secret_key", "access_key", "password", "key_data", "public_key", "token_hash"}
DEFAULT_NAME = re.compile(r"\bobject \(")


def _title_and_breadcrumbs(page: str) -> str:
    title = re.search(r"<title>(.*?)</title>", page, re.S)[1]
    crumbs = re.search(r'<div class="breadcrumbs">(.*?)</div>', page, re.S)[1]
    return html.unescape(f"{title} | {re.sub(r'<[^>]+>', ' ', crumbs)}")


def test_every_registered_models_change_page_is_titled_by_the_rows_name(nova, admin_client):
    assert len(REGISTERED) >= 10
    for model in REGISTERED:
        obj = model.objects.order_by("pk").first()
        assert obj is not None, f"the seeded cloud has no {model.__name__}"
        opts = model._meta
        url = f"/admin/{opts.app_label}/{opts.model_name}/{obj.pk}/change/"
        response = admin_client.get(url)
        assert response.status_code == 200, url
        shown = _title_and_breadcrumbs(response.content.decode())
        assert not DEFAULT_NAME.search(shown), (url, shown)
        assert str(obj) in shown, (url, str(obj), shown)


def test_operators_names_for_the_rows_they_look_up(nova):
    instance = Instance.objects.exclude(display_name=None).order_by("id").first()
    assert str(instance) == f"{instance.display_name} ({instance.uuid})"
    ip = FixedIp.objects.order_by("id").first()
    assert str(ip) == ip.address
    network = Network.objects.order_by("id").first()
    assert str(network) == f"{network.label} ({network.cidr})"
    node = ComputeNode.objects.select_related("service").order_by("id").first()
    assert str(node) in (node.hypervisor_hostname, node.service.host)
    service = Service.objects.order_by("id").first()
    assert str(service) == f"{service.binary} on {service.host}"
    user = User.objects.order_by("id").first()
    assert user.secret_key not in str(user) and (user.access_key or "\0") not in str(user)


#: Marks a secret column's value; no other generated value holds it.
SECRET_MARK = "§"
TEXT = st.text(alphabet=string.ascii_letters + string.digits + "-_. :/", min_size=1, max_size=12).filter(
    lambda text: "None" not in text
)


def _value(field):
    """Values the column can hold (NULL where it may); a secret column's values carry SECRET_MARK."""
    target = field.target_field if field.is_relation else field
    if field.name in SECRETS:
        values = TEXT.map(lambda text: SECRET_MARK + text)
    elif isinstance(target, models.BooleanField):
        values = st.booleans()
    elif isinstance(target, models.IntegerField | models.FloatField):
        values = st.integers(-5, 10_000)
    elif isinstance(target, models.DateTimeField):
        values = st.datetimes()
    else:
        values = TEXT
    return st.one_of(st.none(), values) if field.null else values


@st.composite
def nova_rows(draw):
    model = draw(st.sampled_from(NOVA_MODELS))
    return model(**{field.attname: draw(_value(field)) for field in model._meta.concrete_fields})


@settings(max_examples=300, deadline=None)
@given(nova_rows())
def test_any_row_has_a_name_without_default_or_secret_parts(row):
    name = str(row)
    assert name.strip(), type(row).__name__
    assert not DEFAULT_NAME.search(name), (type(row).__name__, name)
    assert "None" not in name, (type(row).__name__, name)
    assert SECRET_MARK not in name, (type(row).__name__, name)
