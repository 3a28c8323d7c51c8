"""The console and the saved reports in the admin, on each backend: who may use them, what they show,
what they refuse, the CSV, and the query log."""

from __future__ import annotations

import csv
import io

import pytest
from django.contrib.auth.models import Permission

from inventory.console.models import QueryLog
from inventory.console.reports import REPORTS

CONSOLE = "/admin/console/"
LIVE = "deleted IS NULL OR deleted = {false}"


def live(db) -> str:
    return LIVE.format(false="false" if db.backend == "postgresql" else "0")


@pytest.fixture
def operator(django_user_model):
    """Staff with console.run_sql and nothing else."""
    user = django_user_model.objects.create_user("operator", password="operator-password", is_staff=True)
    user.user_permissions.add(Permission.objects.get(content_type__app_label="console", codename="run_sql"))
    return user


@pytest.fixture
def console(client, operator, readonly):
    client.force_login(operator)
    return client


def run(client, sql, action="run"):
    return client.post(CONSOLE, {"sql": sql, "action": action})


def test_a_select_shows_its_rows_and_is_logged(console, readonly):
    response = run(console, "SELECT uuid, host FROM instances ORDER BY id")
    assert response.status_code == 200
    page = response.content.decode()
    uuids = [uuid for (uuid,) in readonly.fetchall("SELECT uuid FROM instances ORDER BY id")]
    assert all(uuid in page for uuid in uuids)
    assert f"{len(uuids)} rows" in page
    entry = QueryLog.objects.get()
    assert (entry.username, entry.kind, entry.rows, entry.error) == ("operator", "query", len(uuids), "")
    assert entry.sql == "SELECT uuid, host FROM instances ORDER BY id" and entry.duration_ms >= 0


@pytest.mark.parametrize(
    "sql", ["SELECT secret_key FROM users", "SELECT * FROM users", "SELECT name || access_key FROM users"]
)
def test_a_hidden_column_is_refused_and_the_refusal_logged(console, readonly, sql):
    keys = [key for (key,) in readonly.fetchall("SELECT secret_key FROM users WHERE secret_key IS NOT NULL")]
    response = run(console, sql)
    assert response.status_code == 400
    page = response.content.decode()
    assert "Refused:" in page and not any(key in page for key in keys if len(key) > 3)
    assert QueryLog.objects.get().error.startswith("refused: ")


def test_a_write_shows_the_servers_read_only_error_and_changes_nothing(console, readonly):
    before = readonly.fetchall("SELECT id, hostname FROM instances ORDER BY id")
    response = run(console, f"UPDATE instances SET hostname = 'changed' WHERE id = {before[0][0]}")
    assert response.status_code == 400
    assert "read" in response.context["error"].lower() and "only" in response.context["error"].lower()
    assert readonly.fetchall("SELECT id, hostname FROM instances ORDER BY id") == before


def test_a_slow_query_says_it_stopped_at_the_limit(console, readonly):
    slow = {
        "postgresql": "SELECT pg_sleep(30)",
        "mysql": "SELECT SLEEP(30)",
        "sqlite": "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT max(x) FROM c",
    }[readonly.backend]
    response = run(console, slow)
    assert response.status_code == 400
    assert response.context["error"] == "stopped at the console's time limit of 1 s"


def test_the_page_shows_at_most_the_row_cap(console, readonly, settings):
    settings.NOVA_CONSOLE_MAX_ROWS = 7
    response = run(console, "SELECT id FROM instances ORDER BY id")
    assert len(response.context["result"].rows) == 7
    assert "only the first 7 rows are shown" in response.content.decode()
    assert QueryLog.objects.get().truncated


def test_the_csv_streams_the_rows_up_to_its_cap(console, readonly, settings):
    settings.NOVA_CONSOLE_CSV_MAX_ROWS = 5
    response = run(console, "SELECT id, uuid FROM instances ORDER BY id", action="csv")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    lines = b"".join(response.streaming_content).decode().splitlines()
    expected = readonly.fetchall("SELECT id, uuid FROM instances ORDER BY id")[:5]
    assert lines == ["id,uuid", *(f"{pk},{uuid}" for pk, uuid in expected)]
    entry = QueryLog.objects.get()
    assert (entry.kind, entry.rows, entry.truncated) == ("csv", 5, True)


FORMULA = '=HYPERLINK("http://x")'


@pytest.fixture
def formula_host(readonly):
    """One live instance whose host is a spreadsheet formula (a hostile row), put back afterwards."""
    pk, host = readonly.fetchall(f"SELECT id, host FROM instances WHERE {live(readonly)} ORDER BY id")[0]
    mark = readonly.placeholder
    readonly.execute(f"UPDATE instances SET host = {mark} WHERE id = {mark}", (FORMULA, pk))
    yield pk
    readonly.execute(f"UPDATE instances SET host = {mark} WHERE id = {mark}", (host, pk))


def csv_rows(response) -> list[list[str]]:
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode(), newline="")))


def test_the_csv_writes_a_formula_as_text_and_raw_as_stored(console, readonly, formula_host):
    sql = f"SELECT host, -5 AS n, '-3' AS t, '@a' AS at FROM instances WHERE id = {formula_host}"
    assert csv_rows(run(console, sql, action="csv"))[1] == ["'" + FORMULA, "-5", "'-3", "'@a"]
    raw = console.post(CONSOLE, {"sql": sql, "action": "csv", "raw": "on"})
    assert csv_rows(raw)[1] == [FORMULA, "-5", "-3", "@a"]


def test_a_reports_csv_writes_a_formula_as_text(console, readonly, formula_host):
    url = f"{CONSOLE}reports/instances-by-host-and-state.csv"
    assert [row[0] for row in csv_rows(console.get(url)) if "HYPERLINK" in row[0]] == ["'" + FORMULA]
    assert [row[0] for row in csv_rows(console.get(f"{url}?raw=1")) if "HYPERLINK" in row[0]] == [FORMULA]


@pytest.fixture
def long_user_data(readonly):
    """One live instance with 60,000 characters of user_data (a TEXT column holds 64 KiB), put back afterwards."""
    pk, before = readonly.fetchall(f"SELECT id, user_data FROM instances WHERE {live(readonly)} ORDER BY id")[0]
    mark = readonly.placeholder
    readonly.execute(f"UPDATE instances SET user_data = {mark} WHERE id = {mark}", ("x" * 60_000, pk))
    yield pk
    readonly.execute(f"UPDATE instances SET user_data = {mark} WHERE id = {mark}", (before, pk))


def test_the_page_cuts_a_long_value_and_the_csv_keeps_it_whole(console, readonly, long_user_data):
    # Was the whole value on the page: SELECT * FROM instances on a cloud with user_data, a page of hundreds of MB.
    sql = f"SELECT id, user_data FROM instances WHERE id = {long_user_data}"
    response = run(console, sql)
    assert response.status_code == 200
    ((pk, shown),) = response.context["result"].rows
    assert shown == "x" * 1000 + "…"
    page = response.content.decode()
    assert "x" * 1001 not in page
    assert "1 value longer than 1000 characters is cut on this page" in page
    assert csv_rows(run(console, sql, action="csv"))[1] == [str(pk), "x" * 60_000]


def test_explain_shows_a_plan(console, readonly):
    response = run(console, "SELECT host, count(*) FROM instances GROUP BY host", action="explain")
    assert response.status_code == 200 and response.context["result"].rows
    assert QueryLog.objects.get().kind == "explain"


def test_each_saved_report_runs_explains_and_exports(console, readonly):
    for slug in REPORTS:
        for suffix in ("/", "/?explain=1"):
            response = console.get(f"{CONSOLE}reports/{slug}{suffix}")
            assert response.status_code == 200, (slug, suffix, response.context and response.context["error"])
        response = console.get(f"{CONSOLE}reports/{slug}.csv")
        assert response.status_code == 200
        assert len(b"".join(response.streaming_content).splitlines()) >= 1
    assert console.get(f"{CONSOLE}reports/").status_code == 200


def test_the_reports_count_what_the_database_holds(console, readonly):
    by_host = console.get(f"{CONSOLE}reports/instances-by-host-and-state/").context["result"]
    assert (
        sum(row[2] for row in by_host.rows)
        == readonly.fetchall(f"SELECT COUNT(*) FROM instances WHERE {live(readonly)}")[0][0]
    )
    without_ip = console.get(f"{CONSOLE}reports/instances-without-ip/").context["result"]
    expected = readonly.fetchall(
        f"SELECT uuid FROM instances i WHERE ({live(readonly)}) AND i.id NOT IN "
        f"(SELECT instance_id FROM fixed_ips WHERE instance_id IS NOT NULL AND ({live(readonly)})) ORDER BY id"
    )
    assert [row[0] for row in without_ip.rows] == [uuid for (uuid,) in expected]
    waiting = dict(console.get(f"{CONSOLE}reports/soft-deleted-waiting/").context["result"].rows)
    true = "true" if readonly.backend == "postgresql" else "1"
    assert waiting["instances"] == readonly.fetchall(f"SELECT COUNT(*) FROM instances WHERE deleted = {true}")[0][0]


URLS = [CONSOLE, f"{CONSOLE}reports/", f"{CONSOLE}reports/flavors-in-use/", f"{CONSOLE}reports/flavors-in-use.csv"]


@pytest.mark.parametrize("url", URLS)
def test_anonymous_and_staff_without_the_permission_get_nothing(client, django_user_model, url):
    response = client.get(url)
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    assert client.post(CONSOLE, {"sql": "SELECT 1"}).status_code == 302
    staff = django_user_model.objects.create_user("staff", password="staff-password", is_staff=True)
    client.force_login(staff)
    assert client.get(url).status_code == 403
    assert client.post(CONSOLE, {"sql": "SELECT uuid FROM instances"}).status_code == 403
    assert not QueryLog.objects.exists()


def test_no_role_has_the_console_until_it_is_granted(client, django_user_model, readonly):
    from django.contrib.auth.models import Group

    from inventory.roles import sync_roles

    sync_roles()
    viewer = django_user_model.objects.create_user("viewer", password="viewer-password", is_staff=True)
    viewer.groups.add(Group.objects.get(name="viewer"))
    assert not Group.objects.filter(permissions__codename="run_sql").exists()
    client.force_login(viewer)
    assert client.get(CONSOLE).status_code == 403
    viewer.user_permissions.add(Permission.objects.get(content_type__app_label="console", codename="run_sql"))
    client.force_login(django_user_model.objects.get(pk=viewer.pk))  # a fresh permission cache
    assert run(client, "SELECT count(*) FROM instances").status_code == 200


def test_the_query_log_is_in_the_admin_and_nobody_edits_it(admin_client, console, readonly):
    run(console, "SELECT count(*) FROM instances")
    entry = QueryLog.objects.get()
    page = admin_client.get("/admin/console/querylog/").content.decode()
    assert "SELECT count(*) FROM instances" in page and "operator" in page
    assert admin_client.get(f"/admin/console/querylog/{entry.pk}/change/").status_code == 200
    assert admin_client.post(f"/admin/console/querylog/{entry.pk}/delete/", {"post": "yes"}).status_code == 403
    assert admin_client.get("/admin/console/querylog/add/").status_code == 403
    assert QueryLog.objects.filter(pk=entry.pk).exists()
