"""Bad input, generated: whatever a date or a plan file holds, the answer is a value or the documented refusal."""

import datetime
import json
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from schema.dates import InvalidDate, parse_date
from schema.phases import PHASES
from schema.plan import PLAN_FORMAT, Plan, PlanError, StalePlan, verify_plan_file
from schema.plan_file import check_plan, load_plan_file
from tests.support.commands import call

FINGERPRINT = "sha256:" + "0" * 64

# ---- dates ----------------------------------------------------------------------------------


@given(st.text(max_size=40))
@example("9999-12-31T23:59:59-01:00")
@example("0001-01-01T00:00:00+01:00")
@example("2026-02-30")
@example("2026-01-31\x00")
@example("")
def test_any_text_is_a_naive_date_or_invalid(text):
    try:
        parsed = parse_date(text)
    except InvalidDate as exc:
        assert "\n" not in str(exc)
        return
    assert isinstance(parsed, datetime.datetime) and parsed.tzinfo is None


@given(
    st.datetimes(),
    # Time zones are whole minutes (ISO 8601's +hh:mm). Python 3.11 also reads seconds and
    # microseconds there, and reads +00:00:00.000001 as UTC itself (a bug of its fromisoformat).
    st.integers(min_value=-(23 * 60 + 59), max_value=23 * 60).map(lambda minutes: datetime.timedelta(minutes=minutes)),
)
def test_an_iso_date_with_an_offset_is_its_utc_time_or_out_of_range(moment, offset):
    aware = moment.replace(tzinfo=datetime.timezone(offset))
    text = aware.isoformat()
    try:
        expected = (moment - offset).replace(tzinfo=None)
    except OverflowError:
        with pytest.raises(InvalidDate, match="out of range"):
            parse_date(text)
        return
    assert parse_date(text) == expected


@given(st.dates(), st.sampled_from(["%Y-%m-%d", "%b %d %Y", "%d %B %Y", "%Y/%m/%d", "%B %d, %Y"]))
def test_dates_as_operators_type_them(day, fmt):
    text = day.strftime(fmt)
    if day.year < 1000:  # strftime does not pad the year everywhere; %Y of year 5 reads as '5'
        return
    assert parse_date(text) == datetime.datetime(day.year, day.month, day.day)


# ---- plan files ---------------------------------------------------------------------------------

VALID_PLAN = {
    "format": PLAN_FORMAT,
    "vendor": "sqlite",
    "database": "nova",
    "models_version": 82,
    "fingerprint": FINGERPRINT,
    "phases": list(PHASES),
    "operations": [
        {
            "phase": "expand",
            "kind": "create_index",
            "statements": [{"sql": "CREATE INDEX x ON t (c)", "transactional": True, "fallback": None}],
        }
    ],
}
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=8,
)
#: where a field can be replaced in a plan: top-level keys, an operation's, a statement's
PLACES = [
    ("format",), ("vendor",), ("fingerprint",), ("phases",), ("operations",),
    ("operations", 0), ("operations", 0, "phase"), ("operations", 0, "statements"),
    ("operations", 0, "statements", 0), ("operations", 0, "statements", 0, "sql"),
    ("operations", 0, "statements", 0, "transactional"), ("operations", 0, "statements", 0, "fallback"),
]  # fmt: skip


def _replaced(plan, place, value):
    data = json.loads(json.dumps(plan))
    target = data
    for key in place[:-1]:
        target = target[key]
    if value is _DELETE:
        del target[place[-1]]
    else:
        target[place[-1]] = value
    return data


_DELETE = object()


def _answer(data):
    """What a plan file holding ``data`` gets: 'valid', or the exception class it is refused with."""
    try:
        check_plan(data, "p.json")
    except PlanError as exc:
        assert "\n" not in str(exc) and "p.json" in str(exc)
        return PlanError
    today = Plan("sqlite", FINGERPRINT, [])
    try:
        verify_plan_file(data, today, PHASES)
    except StalePlan:
        return StalePlan
    return "valid"


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(PLACES), json_values | st.just(_DELETE))
def test_a_damaged_plan_is_refused_as_bad_input_or_as_stale(place, value):
    # the TypeError of a plan with "fingerprint": 12345 was exit 255; now PlanError (exit 2) or StalePlan (exit 1)
    assert _answer(_replaced(VALID_PLAN, place, value)) in (PlanError, StalePlan, "valid")


@pytest.mark.parametrize(
    ("place", "value"),
    [
        (("fingerprint",), 12345),
        (("operations",), 5),
        (("operations", 0, "statements", 0, "sql"), _DELETE),
        (("operations", 0, "statements", 0), "CREATE INDEX x ON t (c)"),
        (("operations", 0, "statements", 0, "transactional"), "yes"),
        (("vendor",), None),
        (("fingerprint",), "sha256:short"),
    ],
)
def test_the_reported_malformed_plans_are_bad_input(place, value):
    assert _answer(_replaced(VALID_PLAN, place, value)) is PlanError


def test_a_valid_plan_for_another_schema_is_stale_not_bad_input():
    assert _answer(VALID_PLAN) is StalePlan


@given(st.binary(max_size=64))
@example(b'{"format": "novaweb-plan/1", "fingerprint": 12345}')
@example(b"[" * 5000)
@example(b"\xff\xfe")
def test_any_file_content_loads_or_is_refused_in_one_line(content):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "plan.json"
        path.write_bytes(content)
        try:
            load_plan_file(str(path))
        except PlanError as exc:
            assert "\n" not in str(exc)


def test_a_plan_file_that_cannot_be_read_is_bad_input(tmp_path):
    with pytest.raises(PlanError, match="cannot read plan file"):
        load_plan_file(str(tmp_path / "missing.json"))
    with pytest.raises(PlanError, match="cannot read plan file"):
        load_plan_file(str(tmp_path))


# ---- the commands, end to end ------------------------------------------------------------------


def test_any_before_is_a_date_or_nova_managed_bad_input(db_factory, nova_db_alias):
    # archive: 0 nothing archived or 4 bad --before; purge: 3 nothing purged or 2 bad --before; never 255
    alias = nova_db_alias(db_factory("sqlite", "dump"))

    @settings(max_examples=40, deadline=None)
    @given(st.text(max_size=30).filter(lambda t: "\x00" not in t and not t.startswith("-")))
    @example("9999-12-31T23:59:59-01:00")
    @example("0001-01-01T00:00:00+01:00")
    def check(text):
        valid = _is_date(text)
        archive = call("db_archive_deleted_rows", "--before", text, database=alias)
        assert archive.code == (0 if valid else 4), archive
        purge = call("db_purge", "--before", text, database=alias)
        assert purge.code == (3 if valid else 2), purge
        for result in (archive, purge):
            assert len(result.err.strip().splitlines()) <= 1

    check()


def _is_date(text):
    try:
        parse_date(text)
    except InvalidDate:
        return False
    return True
