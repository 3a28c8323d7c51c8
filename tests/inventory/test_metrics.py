"""``/metrics``: 403 without the bearer token (and to everyone while METRICS_TOKEN is unset); with it,
the schema version, live instances by state and host, backlogs and request metrics, on each backend,
and a second scrape that asks the Nova database nothing (the figures are cached)."""

from __future__ import annotations

import re

import pytest
from django.db import connections
from django.test.utils import CaptureQueriesContext

from inventory.metrics.figures import FIGURES, forget_all

TOKEN = "scrape-me-0123456789"


@pytest.fixture
def scrape(client, nova, settings):
    settings.METRICS_TOKEN = TOKEN
    forget_all()
    yield lambda token=TOKEN: client.get("/metrics", headers={"Authorization": f"Bearer {token}"} if token else {})
    forget_all()


def samples(body: str, name: str) -> dict[str, float]:
    """``{label value or "": value}`` of a metric's samples."""
    found = {}
    for line in body.splitlines():
        match = re.fullmatch(rf'{name}(?:\{{\w+="([^"]*)"\}})? (\S+)', line)
        if match:
            found[match.group(1) or ""] = float(match.group(2))
    return found


def test_with_the_token_the_schema_version_and_instance_gauges(scrape, nova):
    response = scrape()
    assert response.status_code == 200 and response["Content-Type"].startswith("text/plain")
    body = response.content.decode()
    assert samples(body, "novaweb_schema_version") == {"": 82.0}
    assert samples(body, "novaweb_nova_database_up") == {"": 1.0}
    false = "false" if nova.backend == "postgresql" else "0"
    live = f"deleted IS NULL OR deleted = {false}"
    by_state = dict(nova.fetchall(f"SELECT vm_state, COUNT(*) FROM instances WHERE {live} GROUP BY vm_state"))
    assert samples(body, "novaweb_instances") == {k or "": float(v) for k, v in by_state.items()}
    by_host = dict(nova.fetchall(f"SELECT host, COUNT(*) FROM instances WHERE {live} GROUP BY host"))
    assert samples(body, "novaweb_instances_by_host") == {k or "": float(v) for k, v in by_host.items()}
    true = "true" if nova.backend == "postgresql" else "1"
    waiting = nova.fetchall(f"SELECT COUNT(*) FROM instances WHERE deleted = {true}")[0][0]
    assert samples(body, "novaweb_soft_deleted_rows")["instances"] == waiting
    assert samples(body, "novaweb_schema_drift_differences") == {"": 0.0}
    assert "novaweb_data_migration_pending_rows" in body and "novaweb_archive_backlog_rows" in body


def test_a_second_scrape_reads_only_the_cache(scrape):
    assert scrape().status_code == 200
    with CaptureQueriesContext(connections["nova"]) as queries:
        body = scrape().content.decode()
    assert len(queries) == 0, [q["sql"] for q in queries]
    assert samples(body, "novaweb_schema_version") == {"": 82.0}
    assert set(FIGURES) == {"schema_version", "drift", "instances", "soft_deleted", "data_migrations"}


def test_request_metrics_count_each_view(scrape, client):
    scrape()
    body = scrape().content.decode()
    assert re.search(r'novaweb_http_requests_total\{method="GET",status="200",view="metrics"\} \d', body)
    assert "novaweb_http_request_duration_seconds_bucket" in body


def test_a_method_a_client_makes_up_adds_no_series(scrape, client):
    # Each unknown method was a series of its own, kept for the process's life: anyone could grow it.
    def other(body) -> dict:
        pattern = r'novaweb_http_requests_total\{method="other",status="(\d+)",view="([^"]*)"\} (\S+)'
        return {(status, view): float(n) for status, view, n in re.findall(pattern, body)}

    before = other(scrape().content.decode())
    for n in range(5):
        assert client.generic(f"PROBE{n}", "/healthz").status_code == 405
    client.generic("PROBE0", "/no-such-page")
    body = scrape().content.decode()
    assert "PROBE" not in body
    after = other(body)
    assert after[("405", "healthz")] - before.get(("405", "healthz"), 0) == 5
    assert after[("404", "unresolved")] - before.get(("404", "unresolved"), 0) == 1


@pytest.mark.parametrize("token", [None, "wrong", TOKEN[:-1], f"{TOKEN}x", ""])
def test_without_the_right_token_403(scrape, token):
    response = scrape(token)
    assert response.status_code == 403
    assert b"novaweb_" not in response.content


def test_without_metrics_token_set_403_to_everyone(client, settings):
    settings.METRICS_TOKEN = ""
    for headers in ({}, {"Authorization": "Bearer "}, {"Authorization": "Bearer anything"}):
        response = client.get("/metrics", headers=headers)
        assert response.status_code == 403 and b"METRICS_TOKEN is not set" in response.content


def test_a_stale_figure_is_served_at_once_and_refreshed_in_the_background(scrape, monkeypatch):
    from collections import Counter

    from django.core.cache import cache

    figure = FIGURES["instances"]
    real = samples(scrape().content.decode(), "novaweb_instances")
    cache.set(figure.key, ({"vm_state": Counter({"made-up": 7}), "host": Counter()}, 0.0))  # computed in 1970
    assert samples(scrape().content.decode(), "novaweb_instances") == {"made-up": 7.0}
    with figure._lock:  # held by the background refresh until it has stored the new figures
        pass
    assert samples(scrape().content.decode(), "novaweb_instances") == real
