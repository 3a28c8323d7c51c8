"""Flavor editing in the admin, on every backend, against a clone of the Essex reference dump.

The dump holds Nova's five default flavors: m1.tiny (id 1, flavorid "1") ... m1.xlarge (id 5).
"""

import re
import uuid

import pytest
from django.contrib.admin.models import ADDITION, CHANGE, DELETION, LogEntry
from django.utils.html import escape

from inventory import flavor_versions, flavors
from inventory.models import Flavor, FlavorExtraSpec, Instance

ADD_URL = "/admin/inventory/flavor/add/"


def change_url(pk):
    return f"/admin/inventory/flavor/{pk}/change/"


def clone_url(pk):
    return f"/admin/inventory/flavor/{pk}/clone/"


@pytest.fixture
def nova(admin_client, backend, make_db, nova_db_alias):
    """A dump clone as the ``nova`` alias (after ``admin_client``, so Django's test DB exists first)."""
    db = make_db("dump")
    nova_db_alias(db, alias="nova")
    return db


def flavor_post(flavor=None, specs=(), **overrides):
    """The admin form's POST data: a new flavor, or ``flavor`` as it is; ``specs`` the inline rows.

    ``specs`` items: ``(spec_or_None, key, value, delete)``. An edit carries the
    version of the flavor as it is now (what its change page would hold).
    """
    data = {
        "name": "m1.test",
        "flavorid": "test-1",
        "memory_mb": "1024",
        "vcpus": "1",
        "root_gb": "10",
        "ephemeral_gb": "0",
        "swap": "0",
        "rxtx_factor": "1.0",
    }
    if flavor is not None:
        data.update({field: str(getattr(flavor, field)) for field in data})
        data[flavor_versions.FIELD_NAME] = flavor_versions.token(flavor.pk, using="nova")
    initial = [s for s in specs if s[0] is not None]
    data.update(
        {
            "extra_specs-TOTAL_FORMS": str(len(specs)),
            "extra_specs-INITIAL_FORMS": str(len(initial)),
            "extra_specs-MIN_NUM_FORMS": "0",
            "extra_specs-MAX_NUM_FORMS": "1000",
        }
    )
    for i, (spec, key, value, delete) in enumerate(specs):
        prefix = f"extra_specs-{i}-"
        data[prefix + "key"], data[prefix + "value"] = key, value
        if spec is not None:
            data[prefix + "id"], data[prefix + "flavor"] = str(spec.pk), str(spec.flavor_id)
        if delete:
            data[prefix + "DELETE"] = "on"
    data.update(overrides)
    return data


def add_instances(flavor_id, live, deleted):
    for i in range(live + deleted):
        Instance.objects.create(flavor_id=flavor_id, uuid=str(uuid.uuid4()), deleted=i >= live, memory_mb=1)


def listed(client, url):
    """The flavor names a changelist page shows, in order."""
    return re.findall(r'<th class="field-name"><a href="[^"]*">([^<]*)</a>', client.get(url).content.decode())


def last_log(flag):
    return LogEntry.objects.filter(action_flag=flag).order_by("-pk").first()


NAME_FORMAT = flavors.NAME_FORMAT_MESSAGE
FLAVORID_FORMAT = flavors.FLAVORID_FORMAT_MESSAGE
RXTX = "'rxtx_factor' argument must be a float between 0 and 3.40282e+38"
KEY = flavors.EXTRA_SPEC_KEY_MESSAGE

#: (what is wrong, POST overrides, Nova's message)
BAD_INPUT = [
    ("empty name", {"name": ""}, "name has a minimum character requirement of 1."),
    ("name with a leading space", {"name": " m1.x"}, NAME_FORMAT),
    ("name with a trailing space", {"name": "m1.x "}, NAME_FORMAT),
    ("name with a tab", {"name": "m1\tx"}, NAME_FORMAT),
    ("name of 256 characters", {"name": "n" * 256}, "name has more than 255 characters."),
    ("flavorid with a slash", {"flavorid": "a/b"}, FLAVORID_FORMAT),
    ("flavorid with a leading space", {"flavorid": " a"}, FLAVORID_FORMAT),
    ("flavorid of 256 characters", {"flavorid": "f" * 256}, "id has more than 255 characters."),
    ("memory 0", {"memory_mb": "0"}, "ram must be >= 1"),
    ("memory above INT", {"memory_mb": "2147483648"}, "ram must be <= 2147483647"),
    ("memory not a number", {"memory_mb": "lots"}, "ram must be an integer"),
    ("vcpus 0", {"vcpus": "0"}, "vcpus must be >= 1"),
    ("vcpus above INT", {"vcpus": "2147483648"}, "vcpus must be <= 2147483647"),
    ("root disk negative", {"root_gb": "-1"}, "disk must be >= 0"),
    ("root disk above INT", {"root_gb": "2147483648"}, "disk must be <= 2147483647"),
    ("ephemeral negative", {"ephemeral_gb": "-1"}, "ephemeral must be >= 0"),
    ("swap negative", {"swap": "-1"}, "swap must be >= 0"),
    ("swap above INT", {"swap": "2147483648"}, "swap must be <= 2147483647"),
    ("rxtx_factor 0", {"rxtx_factor": "0"}, RXTX),
    ("rxtx_factor negative", {"rxtx_factor": "-1.5"}, RXTX),
    ("rxtx_factor above float max", {"rxtx_factor": "3.5e38"}, RXTX),
    ("rxtx_factor not a number", {"rxtx_factor": "fast"}, RXTX),
    ("name of a live flavor", {"name": "m1.tiny"}, "Flavor with name m1.tiny already exists."),
    ("flavorid of a live flavor", {"flavorid": "1"}, "Flavor with ID 1 already exists."),
]

BAD_SPECS = [
    ("key with a slash", [(None, "a/b", "1", False)], KEY),
    ("empty key", [(None, "", "1", False)], KEY),
    ("key of 256 characters", [(None, "k" * 256, "1", False)], "extra_specs key has more than 255 characters."),
    ("value of 256 characters", [(None, "k", "v" * 256, False)], "extra_specs value has more than 255 characters."),
    (
        "the same key twice",
        [(None, "k", "1", False), (None, "k", "2", False)],
        "Extra spec key k is given twice: remove one of them.",
    ),
]


def test_each_bad_input_is_rejected_with_novas_message(admin_client, nova):
    failures = []
    for what, overrides, message in BAD_INPUT:
        response = admin_client.post(ADD_URL, flavor_post(**overrides))
        if response.status_code != 200 or escape(message) not in response.content.decode():
            failures.append(f"{what}: status {response.status_code}, no {message!r}")
    for what, specs, message in BAD_SPECS:
        response = admin_client.post(ADD_URL, flavor_post(specs=specs))
        if response.status_code != 200 or escape(message) not in response.content.decode():
            failures.append(f"{what}: status {response.status_code}, no {message!r}")
    assert not failures, "\n".join(failures)
    assert Flavor.objects.count() == 5
    assert FlavorExtraSpec.objects.count() == 0
    assert not LogEntry.objects.exists()


def test_good_create_and_edit_are_saved_with_timestamps_and_history(admin_client, admin_user, nova):
    response = admin_client.post(
        ADD_URL,
        flavor_post(
            name="m1.huge",
            flavorid="huge",
            memory_mb="2147483647",
            rxtx_factor="3.40282e+38",
            specs=[(None, "hw:cpu_policy", "dedicated", False), (None, "quota:vif_outbound_peak", "", False)],
        ),
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    flavor = Flavor.objects.get(name="m1.huge")
    assert (flavor.flavorid, flavor.memory_mb, flavor.vcpus, flavor.root_gb) == ("huge", 2147483647, 1, 10)
    assert flavor.deleted is False and flavor.created_at is not None and flavor.deleted_at is None
    specs = dict(FlavorExtraSpec.objects.filter(flavor=flavor).values_list("key", "value"))
    assert specs == {"hw:cpu_policy": "dedicated", "quota:vif_outbound_peak": ""}
    entry = last_log(ADDITION)
    assert entry.user == admin_user and entry.object_id == str(flavor.pk)
    message = entry.get_change_message()
    assert message.startswith("Created flavor: name m1.huge, flavorid huge, memory_mb 2147483647, vcpus 1")
    assert "Added extra spec hw:cpu_policy=dedicated" in message

    # an empty flavorid is generated, as Nova does: a uuid4 string
    assert admin_client.post(ADD_URL, flavor_post(flavorid="")).status_code == 302
    flavorid = Flavor.objects.get(name="m1.test").flavorid
    assert uuid.UUID(flavorid).version == 4 and str(uuid.UUID(flavorid)) == flavorid

    # an edit of a flavor no instance uses is saved at once
    tiny = Flavor.objects.get(pk=1)
    response = admin_client.post(change_url(1), flavor_post(tiny, memory_mb="768", name="m1.tinier"))
    assert response.status_code == 302
    tiny.refresh_from_db()
    assert (tiny.name, tiny.memory_mb, tiny.flavorid) == ("m1.tinier", 768, "1")
    assert tiny.updated_at is not None
    entry = last_log(CHANGE)
    assert (entry.user, entry.object_id, entry.object_repr) == (admin_user, "1", "m1.tinier")
    assert entry.get_change_message() == "Changed name m1.tiny → m1.tinier; memory_mb 512 → 768."
    # history page shows who and what
    history = admin_client.get(f"/admin/inventory/flavor/{tiny.pk}/history/").content.decode()
    assert "memory_mb 512 → 768" in history and admin_user.username in history


def test_extra_specs_add_edit_soft_delete_then_flavor_soft_delete(admin_client, admin_user, nova):
    medium = Flavor.objects.get(pk=3)
    specs = [(None, "hw:numa_nodes", "1", False), (None, "capabilities:cpu_arch", "x86_64", False)]
    assert admin_client.post(change_url(3), flavor_post(medium, specs=specs)).status_code == 302
    numa = FlavorExtraSpec.objects.get(flavor_id=3, key="hw:numa_nodes")
    arch = FlavorExtraSpec.objects.get(flavor_id=3, key="capabilities:cpu_arch")
    assert arch.created_at is not None and numa.value == "1"

    # a bad key on edit is rejected and nothing changes
    bad = [(numa, "hw/numa", "1", False), (arch, arch.key, arch.value, False)]
    response = admin_client.post(change_url(3), flavor_post(medium, specs=bad))
    assert response.status_code == 200 and escape(KEY) in response.content.decode()

    edit = [(numa, "hw:numa_nodes", "2", False), (arch, arch.key, arch.value, True)]
    assert admin_client.post(change_url(3), flavor_post(medium, specs=edit)).status_code == 302
    numa.refresh_from_db()
    arch.refresh_from_db()
    assert numa.value == "2" and numa.updated_at is not None and not numa.deleted
    assert arch.deleted is True and arch.deleted_at is not None  # soft-deleted, as Nova does
    assert last_log(CHANGE).get_change_message() == (
        "Changed extra spec hw:numa_nodes=1 → hw:numa_nodes=2. Soft-deleted extra spec capabilities:cpu_arch=x86_64."
    )
    # the change page lists live specs only
    page = admin_client.get(change_url(3)).content.decode()
    assert "hw:numa_nodes" in page and "capabilities:cpu_arch" not in page

    # soft-deleting a flavor (m1.small) keeps its row and its specs' rows
    FlavorExtraSpec.objects.create(flavor_id=2, key="k", value="v", deleted=False)
    page = admin_client.get("/admin/inventory/flavor/2/delete/").content.decode()
    assert "Soft-delete the flavor" in page and "<code>deleted</code> = 1" in page

    assert admin_client.post("/admin/inventory/flavor/2/delete/", {"post": "yes"}).status_code == 302
    small = Flavor.objects.get(pk=2)
    assert small.deleted is True and small.deleted_at is not None
    spec = FlavorExtraSpec.objects.get(flavor_id=2)
    assert spec.deleted is True and spec.deleted_at is not None
    entry = last_log(DELETION)
    assert entry.user == admin_user and entry.object_id == "2"
    assert entry.get_change_message().startswith("Soft-deleted")
    assert "was soft-deleted" in admin_client.get("/admin/inventory/flavor/").content.decode()

    # hidden from the default list, shown by the "deleted" filter, read-only
    assert listed(admin_client, "/admin/inventory/flavor/") == ["m1.tiny", "m1.medium", "m1.large", "m1.xlarge"]
    assert listed(admin_client, "/admin/inventory/flavor/?deleted=deleted") == ["m1.small"]
    assert admin_client.post(change_url(2), flavor_post(small, memory_mb="4")).status_code == 403

    # a soft-deleted flavor's name may be used again, its flavorid never (Nova finds deleted rows by it)
    response = admin_client.post(ADD_URL, flavor_post(name="m1.small", flavorid="2"))
    assert response.status_code == 200 and "Flavor with ID 2 already exists." in response.content.decode()
    response = admin_client.post(ADD_URL, flavor_post(name="m1.small", flavorid="small-2"))
    assert response.status_code == 302
    assert Flavor.objects.filter(name="m1.small").count() == 2
    assert Flavor.objects.live().get(name="m1.small").flavorid == "small-2"

    # the "delete selected" action soft-deletes too
    page = admin_client.post(
        "/admin/inventory/flavor/", {"action": "delete_selected", "_selected_action": ["3", "4"]}
    ).content.decode()
    assert "Soft-delete the selected flavors" in page
    admin_client.post(
        "/admin/inventory/flavor/", {"action": "delete_selected", "_selected_action": ["3", "4"], "post": "yes"}
    )
    assert sorted(Flavor.objects.soft_deleted().values_list("pk", flat=True)) == [2, 3, 4]
    assert Flavor.objects.count() == 6
    assert LogEntry.objects.filter(action_flag=DELETION).count() == 3


def test_flavor_in_use_sizing_edit_needs_confirmation_or_clone(admin_client, admin_user, nova):
    add_instances(2, live=3, deleted=2)
    small = Flavor.objects.get(pk=2)
    page = admin_client.get(change_url(2)).content.decode()
    assert "3 live and 2 deleted instances" in page and "Clone with new sizing" in page

    # a non-sizing edit goes through without asking
    assert admin_client.post(change_url(2), flavor_post(small, rxtx_factor="2.0")).status_code == 302

    response = admin_client.post(change_url(2), flavor_post(small, memory_mb="4096", vcpus="2"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "m1.small is used by 3 live and 2 deleted instances" in page
    assert "memory_mb 2048 → 4096, vcpus 1 → 2" in page
    assert 'name="_confirm_sizing" value="3:2"' in page
    assert f"{clone_url(2)}?memory_mb=4096&amp;vcpus=2&amp;root_gb=10&amp;ephemeral_gb=20&amp;swap=0" in page
    small.refresh_from_db()
    assert small.memory_mb == 2048

    # counts that moved since the page was shown: asked again
    stale = flavor_post(small, memory_mb="4096", vcpus="2", _confirm_sizing="3:1")
    assert admin_client.post(change_url(2), stale).status_code == 200

    confirmed = flavor_post(small, memory_mb="4096", vcpus="2", _confirm_sizing="3:2")
    assert admin_client.post(change_url(2), confirmed).status_code == 302
    small.refresh_from_db()
    assert (small.memory_mb, small.vcpus, small.deleted) == (4096, 2, False)
    message = last_log(CHANGE).get_change_message()
    assert "memory_mb 2048 → 4096" in message and "confirmed, on a flavor used by 3 live and 2 deleted" in message

    # "clone with new sizing" (here of m1.large): a new flavor, the old one soft-deleted
    add_instances(4, live=1, deleted=1)
    FlavorExtraSpec.objects.create(flavor_id=4, key="hw:cpu_policy", value="shared", deleted=False)

    page = admin_client.get(clone_url(4) + "?memory_mb=16000").content.decode()
    assert 'value="16000"' in page and 'value="m1.large"' in page and "1 live and 1 deleted" in page

    # the old flavorid (or any flavorid a flavor ever had) is refused
    post = {"name": "m1.large", "flavorid": "4", "memory_mb": "16000", "vcpus": "4", "root_gb": "10"}
    response = admin_client.post(clone_url(4), {**post, "ephemeral_gb": "80", "swap": "0"})
    assert response.status_code == 200 and "Flavor with ID 4 already exists." in response.content.decode()
    bad = admin_client.post(clone_url(4), {**post, "flavorid": "", "memory_mb": "0"})
    assert "ram must be &gt;= 1" in bad.content.decode()

    response = admin_client.post(clone_url(4), {**post, "flavorid": "", "ephemeral_gb": "80", "swap": "0"})
    assert response.status_code == 302
    old = Flavor.objects.get(pk=4)
    new = Flavor.objects.live().get(name="m1.large")
    assert old.deleted is True and old.deleted_at is not None and old.memory_mb == 8192
    assert new.pk != 4 and new.memory_mb == 16000 and (new.vcpus, new.root_gb, new.ephemeral_gb) == (4, 10, 80)
    assert uuid.UUID(new.flavorid).version == 4 and new.rxtx_factor == old.rxtx_factor
    assert list(FlavorExtraSpec.objects.live().filter(flavor=new).values_list("key", "value")) == [
        ("hw:cpu_policy", "shared")
    ]
    assert not FlavorExtraSpec.objects.live().filter(flavor=old).exists()
    # the instances keep the old row, and with it their history
    assert set(Instance.objects.values_list("flavor_id", flat=True)) == {2, 4}
    assert response["Location"] == change_url(new.pk)

    removal, addition = last_log(DELETION), last_log(ADDITION)
    assert removal.user == admin_user and removal.object_id == "4"
    assert "replaced by clone m1.large" in removal.get_change_message()
    assert "memory_mb 8192 → 16000" in removal.get_change_message()
    assert addition.object_id == str(new.pk) and "Cloned from m1.large (id 4, flavorid 4)" in addition.change_message
    assert "1 extra specs copied" in addition.change_message


@pytest.mark.parametrize("backend", ["sqlite"])  # no database behaviour here
def test_anonymous_users_get_the_login_page(client, nova):
    for url in ("/admin/inventory/flavor/", ADD_URL, change_url(1), clone_url(1)):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/admin/login/"), url
    assert client.post(clone_url(1), {"name": "x"}).status_code == 302
    assert Flavor.objects.live().count() == 5
