"""Flavor integrity (issue 17, points 7-9): stale pages, flavorids never reused, input that the storage holds.

The concurrent writes of point 6 are tested against a real multi-worker server
in ``tests/deploy/test_flavor_concurrency.py``.
"""

import itertools
import re
import struct

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils.html import escape
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from inventory import flavor_locks, flavors
from inventory.models import Flavor, FlavorExtraSpec
from tests.inventory.test_flavors import ADD_URL, change_url, clone_url, flavor_post
from tests.support.backends import quote

DB_EXAMPLES = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture], database=None
)
_names = itertools.count(1)


@pytest.fixture
def nova(admin_client, backend, make_db, nova_db_alias):
    """A fresh dump clone as the ``nova`` alias: these tests write (the conftest's seeded one is shared)."""
    db = make_db("dump")
    nova_db_alias(db, alias="nova")
    return db


@pytest.fixture
def bob_client(django_user_model):
    """A second administrator in a second browser."""
    client = Client()
    client.force_login(django_user_model.objects.create_superuser("bob", "bob@example.org", "x"))
    return client


def open_page(client, pk):
    """What the change page of flavor ``pk`` submits as it is: its values and the version it carries."""
    html = client.get(change_url(pk)).content.decode()
    version = re.search(r'name="_flavor_version" value="([^"]+)"', html).group(1)
    specs = [(s, s.key, s.value, False) for s in FlavorExtraSpec.objects.live().filter(flavor_id=pk).order_by("pk")]
    return {**flavor_post(Flavor.objects.get(pk=pk), specs=specs), "_flavor_version": version}


def with_new_spec(page, key, value):
    """``page`` with one more extra-spec row filled in."""
    i = int(page["extra_specs-TOTAL_FORMS"])
    return {**page, "extra_specs-TOTAL_FORMS": str(i + 1), f"extra_specs-{i}-key": key, f"extra_specs-{i}-value": value}


def messages_after(client, response):
    assert response.status_code == 302, response.content.decode()[:2000]
    return client.get(response["Location"]).content.decode()


# --- 7. no lost updates ------------------------------------------------------------------


def test_a_save_from_a_stale_page_is_refused_naming_who_changed_what(admin_client, admin_user, bob_client, nova):
    alice_page, bob_page = open_page(admin_client, 1), open_page(bob_client, 1)
    assert admin_client.post(change_url(1), {**alice_page, "memory_mb": "4096"}).status_code == 302

    response = bob_client.post(change_url(1), {**bob_page, "vcpus": "8"})
    page = messages_after(bob_client, response)
    assert escape(f"This flavor (m1.tiny) was changed by {admin_user.username} at ") in page
    assert escape("since you opened it: memory_mb 512 → 4096. Your changes were not saved (vcpus 1 → 8)") in page
    assert 'name="memory_mb" value="4096"' in page  # the page shows the current values
    tiny = Flavor.objects.get(pk=1)
    assert (tiny.memory_mb, tiny.vcpus) == (4096, 1)
    history = LogEntry.objects.filter(object_id="1", action_flag=CHANGE)
    assert [(e.user.username, e.change_message) for e in history] == [
        (admin_user.username, "Changed memory_mb 512 → 4096.")
    ]

    # Bob makes his change again on the current page: both changes stand, each in the history under its author
    assert bob_client.post(change_url(1), {**open_page(bob_client, 1), "vcpus": "8"}).status_code == 302
    tiny.refresh_from_db()
    assert (tiny.memory_mb, tiny.vcpus) == (4096, 8)
    assert history.order_by("-pk").first().change_message == "Changed vcpus 1 → 8."

    # Alice's own page is stale too now (a second tab, a double submit)
    page = messages_after(admin_client, admin_client.post(change_url(1), {**alice_page, "root_gb": "5"}))
    assert "memory_mb 512 → 4096, vcpus 1 → 8" in page and "(and 1 earlier changes)" in page
    assert "Your changes were not saved (root_gb" in page
    assert Flavor.objects.get(pk=1).root_gb != 5


def test_changes_from_outside_deletes_and_pages_without_a_version_are_refused(
    admin_client, admin_user, bob_client, nova
):
    page = open_page(admin_client, 3)
    nova.execute("UPDATE instance_types SET rxtx_factor = 2 WHERE id = 3")  # Nova or another tool writes
    response = admin_client.post(change_url(3), {**page, "name": "m1.medium2"})
    assert escape(
        "This flavor (m1.medium) was changed outside this admin since you opened it: rxtx_factor 1.0 → 2.0"
    ) in (messages_after(admin_client, response))

    forged = {key: value for key, value in open_page(admin_client, 3).items() if key != "_flavor_version"}
    response = admin_client.post(change_url(3), {**forged, "name": "m1.medium2"})
    assert "could not be checked for changes made since you opened it" in messages_after(admin_client, response)
    tampered = {**forged, "_flavor_version": "x" + open_page(admin_client, 3)["_flavor_version"]}
    assert admin_client.post(change_url(3), tampered).status_code == 302
    assert Flavor.objects.get(pk=3).name == "m1.medium"

    # soft-deleted since the page was opened
    bob_page = open_page(bob_client, 4)
    assert admin_client.post("/admin/inventory/flavor/4/delete/", {"post": "yes"}).status_code == 302
    page = messages_after(bob_client, bob_client.post(change_url(4), {**bob_page, "memory_mb": "1"}))
    assert f"This flavor (m1.large) was soft-deleted by {admin_user.username} at" in page
    large = Flavor.objects.get(pk=4)
    assert large.deleted and large.memory_mb == 8192

    # a clone of a flavor that someone cloned since the page was opened
    clone_form = {**flavor_post(Flavor.objects.get(pk=5)), "flavorid": "", "memory_mb": "32768"}
    assert admin_client.post(clone_url(5), clone_form).status_code == 302
    page = bob_client.post(clone_url(5), {**clone_form, "name": "m1.xlarge-b"}).content.decode()
    assert f"m1.xlarge was soft-deleted by {admin_user.username} at " in page and "nothing was cloned" in page
    assert Flavor.objects.live().filter(name__startswith="m1.xlarge").count() == 1


def test_two_stale_pages_adding_the_same_extra_spec_key_leave_one(admin_client, bob_client, nova):
    alice_page, bob_page = open_page(admin_client, 2), open_page(bob_client, 2)
    assert admin_client.post(change_url(2), with_new_spec(alice_page, "k1", "a")).status_code == 302
    page = messages_after(bob_client, bob_client.post(change_url(2), with_new_spec(bob_page, "k1", "b")))
    assert "extra spec k1=a added" in page
    assert list(FlavorExtraSpec.objects.live().filter(flavor_id=2).values_list("key", "value")) == [("k1", "a")]
    # later saves of the flavor keep working
    assert admin_client.post(change_url(2), {**open_page(admin_client, 2), "swap": "1"}).status_code == 302

    # duplicate live keys already in the database (left by racing writers before) can be repaired
    for value in ("1", "2"):  # as two racing writers left them before novaweb serialized writes
        nova.execute(
            f"INSERT INTO instance_type_extra_specs (instance_type_id, {quote(nova.backend, 'key')}, value, deleted) "
            f"VALUES (5, 'k2', '{value}', {'false' if nova.backend == 'postgresql' else 0})"
        )
    page = open_page(admin_client, 5)
    response = admin_client.post(change_url(5), page)
    assert response.status_code == 200 and "Extra spec key k2 is given twice: remove one of them." in (
        response.content.decode()
    )
    assert admin_client.post(change_url(5), {**page, "extra_specs-1-DELETE": "on"}).status_code == 302
    assert list(FlavorExtraSpec.objects.live().filter(flavor_id=5).values_list("key", "value")) == [("k2", "1")]


# --- 8. a flavorid is never reused -----------------------------------------------------------


def test_a_soft_deleted_flavors_flavorid_is_never_used_again(admin_client, nova):
    page = admin_client.get("/admin/inventory/flavor/2/delete/").content.decode()
    assert "flavorid can be used again" not in page and "no other flavor will ever have it" in page
    assert admin_client.post("/admin/inventory/flavor/2/delete/", {"post": "yes"}).status_code == 302

    refused = "Flavor with ID 2 already exists. It belonged to m1.small (id 2), soft-deleted"
    for url, data in [
        (ADD_URL, flavor_post(name="m1.small", flavorid="2")),  # the add form
        (change_url(1), {**open_page(admin_client, 1), "flavorid": "2"}),  # another flavor's edit
        (clone_url(3), {**flavor_post(Flavor.objects.get(pk=3)), "flavorid": "2", "name": "m1.medium"}),  # a clone
    ]:
        response = admin_client.post(url, data)
        assert response.status_code == 200 and escape(refused) in response.content.decode(), url
    assert Flavor.objects.filter(flavorid="2").count() == 1
    # its name is free again, and a flavor keeps its own flavorid when edited
    assert admin_client.post(ADD_URL, flavor_post(name="m1.small", flavorid="")).status_code == 302
    assert admin_client.post(change_url(1), {**open_page(admin_client, 1), "name": "m1.tiny2"}).status_code == 302
    assert Flavor.objects.get(pk=1).flavorid == "1"
    # a flavor that an older tool left sharing flavorid and name with another can still be edited
    nova.execute("UPDATE instance_types SET flavorid = '1', name = 'm1.tiny2' WHERE id = 5")
    assert admin_client.post(change_url(5), {**open_page(admin_client, 5), "vcpus": "9"}).status_code == 302
    response = admin_client.post(change_url(3), {**open_page(admin_client, 3), "flavorid": "1"})
    assert "Flavor with ID 1 already exists." in response.content.decode()


# --- 9. input validation matches the storage --------------------------------------------------

FLAVORID_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789. _-")
KEY_CHARS = FLAVORID_CHARS | {":"}
EDGY = st.sampled_from(["\n", "\r", "\t", "\x00", "\x0b", "\u2028", "é", "/", " ", "😀"])


def _text(alphabet_chars):
    return st.text(st.one_of(st.sampled_from(sorted(alphabet_chars)), EDGY), max_size=12)


@given(_text(FLAVORID_CHARS))
@example("abc\n")
@example("abc\r\n")
@example("\nabc")
@example("a\nb")
def test_flavorid_is_checked_against_the_whole_value(value):
    valid = bool(value) and set(value) <= FLAVORID_CHARS and value[0] != " " and value[-1] != " "
    try:
        flavors.validate_flavorid(value)
        accepted = True
    except ValidationError:
        accepted = False
    assert accepted == valid


@given(_text(KEY_CHARS))
@example("k1\n")
def test_extra_spec_key_is_checked_against_the_whole_value(value):
    valid = bool(value) and set(value) <= KEY_CHARS
    try:
        flavors.validate_extra_spec_key(value)
        accepted = True
    except ValidationError:
        accepted = False
    assert accepted == valid


@pytest.mark.parametrize("backend", ["sqlite"])  # validation before any write: no database behaviour
def test_a_trailing_newline_is_refused_in_the_form(admin_client, nova):
    for data in (
        flavor_post(flavorid="abc\n"),
        flavor_post(flavorid="abc\r\n"),
        flavor_post(specs=[(None, "k1\n", "v", False)]),
    ):
        response = admin_client.post(ADD_URL, data)
        assert response.status_code == 200
    assert admin_client.post(ADD_URL, flavor_post(flavorid="abc")).status_code == 302
    assert list(Flavor.objects.filter(flavorid__startswith="abc").values_list("flavorid", flat=True)) == ["abc"]


def _what_the_column_holds(db, column, table, value, where):
    """The database's own answer, through its driver: what ``column`` holds after storing ``value``.

    MySQL's text protocol shows a FLOAT with 6 digits; ``+ 0e0`` reads the stored number exactly.
    """
    try:
        db.execute(f"UPDATE {table} SET {quote(db.backend, column)} = {db.placeholder} WHERE {where}", [value])
    except Exception:  # noqa: BLE001 -- the server (or its driver) refuses the value: it cannot hold it
        return None
    read = quote(db.backend, column) + (" + 0e0" if isinstance(value, float) and db.backend == "mysql" else "")
    return db.fetchall(f"SELECT {read} FROM {table} WHERE {where}")[0][0]


@DB_EXAMPLES
@given(st.floats(min_value=5e-324, max_value=flavors.SQL_SP_FLOAT_MAX))
@example(1e-50)
@example(1e-40)
@example(1.17549435e-38)
@example(1e-30)
@example(3.40282e38)
@example(1.1)
def test_rxtx_factor_is_refused_when_the_column_would_store_another_number(admin_client, nova, value):
    held = _what_the_column_holds(nova, "rxtx_factor", "instance_types", value, "id = 5")
    storable = bool(held) and abs(held - value) <= abs(value) * 1e-6  # 6 significant digits, FLOAT's promise
    name = f"rx{next(_names)}"
    response = admin_client.post(ADD_URL, flavor_post(name=name, flavorid="", rxtx_factor=repr(value)))
    if storable:
        assert response.status_code == 302, response.content.decode()[-3000:]
        pk = Flavor.objects.get(name=name).pk
        assert _what_the_column_holds(nova, "rxtx_factor", "instance_types", held, f"id = {pk}") == held
    else:
        assert response.status_code == 200
        assert "cannot be stored" in response.content.decode() and not Flavor.objects.filter(name=name).exists()


def test_rxtx_factor_limits_follow_the_columns_precision(admin_client, nova, backend):
    single = backend == "mysql"  # Essex: FLOAT on MySQL, double precision on PostgreSQL, REAL (8 bytes) on SQLite
    response = admin_client.post(ADD_URL, flavor_post(name="tiny-rx", rxtx_factor="1e-50"))
    assert (response.status_code == 200) == single
    if single:
        assert escape("rxtx_factor 1e-50 cannot be stored") in response.content.decode()
        assert "would hold 0." in response.content.decode()
    else:
        assert Flavor.objects.get(name="tiny-rx").rxtx_factor == 1e-50
    assert struct.unpack("f", struct.pack("f", 1e-50))[0] == 0.0  # the yardstick: single precision loses it


#: What a browser can send: any character UTF-8 encodes (a lone surrogate has no bytes to post).
TEXT = st.text(st.one_of(st.characters(codec="utf-8"), EDGY), min_size=1, max_size=8)


@DB_EXAMPLES
@given(TEXT)
@example("flav😀or")
@example("nul\x00byte")
@example("Ünïcödé ✓")
def test_extra_spec_value_is_refused_naming_a_character_the_column_cannot_store(admin_client, nova, value):
    oracle_row = "instance_type_id = 1 AND deleted_at IS NOT NULL"
    if not nova.fetchall(f"SELECT id FROM instance_type_extra_specs WHERE {oracle_row}"):
        nova.execute(
            "INSERT INTO instance_type_extra_specs (instance_type_id, value, deleted, deleted_at) "
            f"VALUES (1, 'x', {'true' if nova.backend == 'postgresql' else 1}, '2020-01-01 00:00:00')"
        )
    storable = _what_the_column_holds(nova, "value", "instance_type_extra_specs", value, oracle_row) == value
    django_refuses = "\x00" in value  # Django's CharField refuses NUL on every backend
    name = f"cs{next(_names)}"
    response = admin_client.post(ADD_URL, flavor_post(name=name, flavorid="", specs=[(None, "k", value, False)]))
    if storable and not django_refuses:
        assert response.status_code == 302, response.content.decode()[-3000:]
        assert FlavorExtraSpec.objects.get(flavor__name=name).value == value
    else:
        assert response.status_code == 200
        page = response.content.decode()
        if django_refuses:
            assert "Null characters are not allowed." in page
        else:
            assert "which the column instance_type_extra_specs.value" in page and "cannot store" in page
        assert not Flavor.objects.filter(name=name).exists()


@pytest.mark.parametrize("backend", ["mysql"])  # the test databases are CHARACTER SET utf8 (3 bytes)
def test_an_emoji_in_a_name_is_a_form_error_on_a_utf8_table(admin_client, nova):
    response = admin_client.post(ADD_URL, flavor_post(name="flav😀or"))
    assert response.status_code == 200
    assert escape("name contains '😀' (U+1F600 GRINNING FACE), which the column instance_types.name (utf8") in (
        response.content.decode()
    )
    page = open_page(admin_client, 1)
    response = admin_client.post(change_url(1), {**page, "name": "tiny 🚀"})
    assert response.status_code == 200 and "U+1F680" in response.content.decode()
    # characters of the Basic Multilingual Plane are stored as they are
    assert admin_client.post(ADD_URL, flavor_post(name="Ünïcödé ✓ 雲")).status_code == 302
    assert Flavor.objects.filter(name="Ünïcödé ✓ 雲").count() == 1


@pytest.mark.parametrize("backend", ["mysql"])
def test_a_value_the_server_refuses_anyway_is_a_message_not_a_503(admin_client, nova, monkeypatch):
    """The last line of defence, for a column the forms do not check: MySQL's "Incorrect string value"."""
    monkeypatch.setattr("inventory.column_storage.validate_text", lambda value, *args, **kwargs: value)
    response = admin_client.post(ADD_URL, flavor_post(name="flav😀or"))
    page = messages_after(admin_client, response)
    assert "Nothing was saved: the database cannot store a value: Incorrect string value" in page
    assert not Flavor.objects.filter(name__startswith="flav").exists()
    assert not LogEntry.objects.exists()


# --- 6. one flavor writer at a time (the race itself: tests/deploy/test_flavor_concurrency.py) ---------


def test_a_flavor_write_waits_for_the_lock_and_says_so_when_it_cannot_have_it(admin_client, nova, monkeypatch):
    """Another session holding the flavor write lock keeps the admin from writing; the user is told to retry."""
    monkeypatch.setattr(flavor_locks, "WAIT_SECONDS", 1)
    holder = nova.connect()
    try:
        cursor = holder.cursor()
        if nova.backend == "mysql":
            cursor.execute(f"SELECT GET_LOCK({flavor_locks.MYSQL_LOCK_NAME}, 0)")
        elif nova.backend == "postgresql":
            cursor.execute("SELECT pg_advisory_lock(%s, %s)", flavor_locks.PG_LOCK_KEY)
        else:
            cursor.execute("BEGIN IMMEDIATE")
        response = admin_client.post(ADD_URL, flavor_post(name="m1.waiting"))
        assert "Another flavor change is taking long to finish: nothing was saved." in messages_after(
            admin_client, response
        )
        assert not Flavor.objects.filter(name="m1.waiting").exists()
    finally:
        holder.close()
    assert admin_client.post(ADD_URL, flavor_post(name="m1.waiting")).status_code == 302
