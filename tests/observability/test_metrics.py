"""Prometheus metrics: route templates, cardinality, live state, multi-process mode."""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from conftest import ADMIN_KEY, make_settings
from gif_factory import make_gif
from prometheus_client import CONTENT_TYPE_LATEST
from prometheus_client.parser import text_string_to_metric_families
from servers import SERVER_KEY, running_server
from starlette.testclient import TestClient

from gifdist.observability import metrics
from gifdist.web.app import create_app
from gifdist.wiring import Service

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"


@pytest.fixture
def sqlite_service(tmp_path: Path) -> Iterator[Service]:
    service = Service(make_settings(tmp_path, f"sqlite:///{tmp_path / 'gifdist.db'}"))
    try:
        yield service
    finally:
        service.close()


@pytest.fixture
def app_client(sqlite_service: Service) -> Iterator[TestClient]:
    app = create_app(service=sqlite_service)
    with TestClient(app, base_url="http://gifdist.test") as client:
        client.headers["Authorization"] = f"Bearer {ADMIN_KEY}"
        yield client


def scrape(client: TestClient | httpx.Client) -> dict[str, list[tuple[dict[str, str], float]]]:
    """Every sample of ``/metrics`` as name -> [(labels, value)]."""
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"] == CONTENT_TYPE_LATEST
    samples: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples.setdefault(sample.name, []).append((sample.labels, sample.value))
    return samples


def requests_count(samples: dict, method: str, route: str, status: str) -> float:
    for labels, value in samples.get("gifdist_http_requests_total", []):
        if labels == {"method": method, "route": route, "status": status}:
            return float(value)
    return 0.0


def route_labels(samples: dict) -> set[str]:
    return {labels["route"] for labels, _ in samples.get("gifdist_http_requests_total", [])}


def test_hot_paths_and_api_routes_are_counted_under_their_templates(
    app_client: TestClient,
) -> None:
    created = app_client.post(
        "/api/v1/assets", files={"file": ("cat.gif", make_gif(seed=7), "image/gif")}
    )
    asset_id = created.json()["asset_id"]
    code = app_client.post(f"/api/v1/assets/{asset_id}/links", json={}).json()["short_code"]
    before = scrape(app_client)

    assert (
        app_client.get(
            f"/s/{code}", headers={"User-Agent": FIREFOX}, follow_redirects=False
        ).status_code
        == 302
    )
    assert app_client.get(f"/a/{asset_id}.gif").status_code == 200
    assert app_client.get(f"/api/v1/assets/{asset_id}").status_code == 200
    after = scrape(app_client)

    for method, route, status in (
        ("GET", "/s/{code}", "302"),
        ("GET", "/a/{asset_id}.gif", "200"),
        ("GET", "/api/v1/assets/{asset_id}", "200"),
    ):
        delta = requests_count(after, method, route, status) - requests_count(
            before, method, route, status
        )
        assert delta == 1, (method, route, status)
    assert not any(code in route or asset_id in route for route in route_labels(after))
    durations = {
        labels["route"]
        for labels, _ in after["gifdist_http_request_duration_seconds_count"]
        if labels["method"] == "GET"
    }
    assert {"/s/{code}", "/a/{asset_id}.gif", "/api/v1/assets/{asset_id}"} <= durations


def test_a_thousand_random_unknown_paths_add_only_a_handful_of_route_labels(
    app_client: TestClient,
) -> None:
    before = route_labels(scrape(app_client))
    tokens = [secrets.token_hex(6) for _ in range(1000)]
    shapes = ("/{t}", "/x/{t}/y", "/s/{t}", "/a/{t}.gif", "/api/v1/{t}", "/static/{t}.css")
    for i, token in enumerate(tokens):
        response = app_client.get(shapes[i % len(shapes)].format(t=token))
        assert response.status_code == 404
    after = route_labels(scrape(app_client))
    assert len(after - before) <= 5, after - before
    assert not any(token in label for label in after for token in tokens)
    assert "other" in after


def test_unknown_methods_are_labelled_other(app_client: TestClient) -> None:
    app_client.request("BREW", "/healthz")
    methods = {labels["method"] for labels, _ in scrape(app_client)["gifdist_http_requests_total"]}
    assert "BREW" not in methods and "other" in methods


def test_live_state_is_read_at_scrape_time(app_client: TestClient, sqlite_service: Service) -> None:
    service = sqlite_service
    service.events.written += 5
    samples = scrape(app_client)
    assert samples["gifdist_analytics_buffer_depth"][0][1] == service.events.depth
    assert samples["gifdist_analytics_events_written_total"][0][1] == service.events.written
    assert "gifdist_analytics_events_dropped_total" in samples
    assert "gifdist_analytics_events_spilled_total" in samples
    assert samples["gifdist_db_pool_checked_out"][0][1] >= 0


def test_domain_counters_count_what_their_helpers_record(app_client: TestClient) -> None:
    def value(samples: dict, name: str, label: str, wanted: str) -> float:
        return sum(v for labels, v in samples.get(name, []) if labels.get(label) == wanted)

    before = scrape(app_client)
    metrics.record_upload("duplicate")
    metrics.record_moderation_decision("approved")
    metrics.record_ratelimit_refusal("uploads")
    metrics.record_ratelimit_refusal("not-a-policy")
    after = scrape(app_client)
    for name, label, wanted in (
        ("gifdist_uploads_total", "result", "duplicate"),
        ("gifdist_moderation_decisions_total", "decision", "approved"),
        ("gifdist_ratelimit_refusals_total", "policy", "uploads"),
        ("gifdist_ratelimit_refusals_total", "policy", "other"),
    ):
        assert value(after, name, label, wanted) - value(before, name, label, wanted) == 1
    with pytest.raises(ValueError):
        metrics.record_upload("exploded")


def test_rate_limit_refusals_are_counted_by_policy(tmp_path: Path) -> None:
    settings = make_settings(
        tmp_path,
        f"sqlite:///{tmp_path / 'gifdist.db'}",
        rate_limits="on",
        rate_limit_shortlinks=1,
    )
    service = Service(settings)
    try:
        with TestClient(create_app(service=service), base_url="http://gifdist.test") as client:
            before = scrape(client)
            statuses = [client.get("/s/abcdefg").status_code for _ in range(3)]
            after = scrape(client)
    finally:
        service.close()
    assert statuses.count(429) == 2

    def refusals(samples: dict) -> float:
        return sum(
            v
            for labels, v in samples["gifdist_ratelimit_refusals_total"]
            if labels["policy"] == "shortlinks"
        )

    assert refusals(after) - refusals(before) == 2
    assert requests_count(after, "GET", "/s/{code}", "429") - requests_count(
        before, "GET", "/s/{code}", "429"
    ) == pytest.approx(2)


def test_telemetry_off_skips_request_metrics_but_still_serves_metrics(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, f"sqlite:///{tmp_path / 'gifdist.db'}", telemetry="off")
    service = Service(settings)
    try:
        with TestClient(create_app(service=service), base_url="http://gifdist.test") as client:
            before = requests_count(scrape(client), "GET", "/healthz", "200")
            client.get("/healthz")
            samples = scrape(client)
            assert "traceparent" not in client.get("/healthz").headers
    finally:
        service.close()
    assert requests_count(samples, "GET", "/healthz", "200") == before
    assert "gifdist_analytics_buffer_depth" in samples


@pytest.mark.server
def test_workers_share_counters_through_the_multiprocess_directory(tmp_path: Path) -> None:
    with running_server(tmp_path, GIFDIST_WORKERS="2") as server:
        for _ in range(20):
            assert httpx.get(f"{server.base}/healthz", timeout=5).status_code == 200
        counts, pids = [], set()
        for _ in range(4):
            with httpx.Client(base_url=server.base, timeout=5) as client:
                samples = scrape(client)
            counts.append(requests_count(samples, "GET", "/healthz", "200"))
            pids |= {labels["pid"] for labels, _ in samples["gifdist_analytics_buffer_depth"]}
        assert (tmp_path / next(tmp_path.glob("data-*")).name / "metrics").is_dir()
    # Every scrape, whichever worker answers it, sees both workers' requests
    # (the readiness probe may add a few).
    assert all(count >= 20 for count in counts), counts
    assert pids  # live state is per worker in multi-process mode


@pytest.mark.server
def test_two_workers_count_every_short_link_hit_once_between_them(tmp_path: Path) -> None:
    """The hot front's pre-bound counters write to each worker's multi-process file:
    a scrape answered by either worker sums both, exactly."""
    auth = {"Authorization": f"Bearer {SERVER_KEY}"}
    with running_server(tmp_path, GIFDIST_WORKERS="2") as server:
        gif = make_gif(width=20, height=20, frames=2, seed=3)
        for attempt in range(5):  # the two workers' first writes may meet a busy SQLite
            uploaded = httpx.post(
                f"{server.base}/api/v1/assets",
                headers=auth,
                files={"file": ("a.gif", gif, "image/gif")},
                timeout=10,
            )
            if uploaded.status_code != 503 or attempt == 4:
                break
            time.sleep(0.5)
        asset_id = uploaded.json()["asset_id"]
        code = httpx.post(
            f"{server.base}/api/v1/assets/{asset_id}/links", headers=auth, json={}, timeout=10
        ).json()["short_code"]
        hits = 60
        for _ in range(hits):  # a new connection each: the workers share them
            response = httpx.get(f"{server.base}/s/{code}", headers={"User-Agent": FIREFOX})
            assert response.status_code == 302
        counts, pids = [], set()
        for _ in range(40):
            with httpx.Client(base_url=server.base, timeout=5) as client:
                samples = scrape(client)
            counts.append(requests_count(samples, "GET", "/s/{code}", "302"))
            pids |= {labels["pid"] for labels, _ in samples["gifdist_analytics_buffer_depth"]}
            if len(pids) == 2 and len(counts) >= 4:
                break
    assert len(pids) == 2, "every scrape reached the same worker"
    assert counts == [hits] * len(counts), counts


def sample_value(samples: dict, name: str, **labels: str) -> float:
    for found, value in samples.get(name, []):
        if found == labels:
            return float(value)
    return 0.0


def test_uploads_and_moderation_decisions_are_counted_where_they_happen(
    app_client: TestClient,
) -> None:
    before = scrape(app_client)
    data = make_gif(seed=77)
    for payload, name in ((data, "a.gif"), (data, "b.gif"), (b"\x89PNG\r\n\x1a\nnope", "c.gif")):
        app_client.post("/api/v1/assets", files={"file": (name, payload, "image/gif")})
    asset_id = app_client.get("/api/v1/moderation/queue", params={"status": "approved"}).json()[
        "items"
    ][0]["asset_id"]
    app_client.post(f"/api/v1/moderation/assets/{asset_id}/decision", json={"decision": "reject"})
    after = scrape(app_client)
    for result in ("created", "duplicate", "rejected"):
        grew = sample_value(after, "gifdist_uploads_total", result=result) - sample_value(
            before, "gifdist_uploads_total", result=result
        )
        assert grew == 1, result
    rejected = "gifdist_moderation_decisions_total"
    assert (
        sample_value(after, rejected, decision="rejected")
        - sample_value(before, rejected, decision="rejected")
        == 1
    )


def test_a_redis_outage_is_counted_once(tmp_path: Path) -> None:
    from servers import free_port

    from gifdist.ratelimit import LimitRule, RateLimitConfig
    from gifdist.web.middleware.ratelimits import open_limit_backend

    settings = make_settings(
        tmp_path,
        f"sqlite:///{tmp_path / 'o.db'}",
        redis_url=f"redis://127.0.0.1:{free_port()}/0",  # nothing listens there
    )
    before = metrics.RATELIMIT_OUTAGES._value.get()
    backend = open_limit_backend(settings, on_outage=metrics.record_ratelimit_outage)
    try:
        rule = LimitRule("ip:192.0.2.1", RateLimitConfig(requests_per_window=5, window_seconds=60))
        for _ in range(5):
            assert backend.hit([rule]) is not None  # in-process fallback keeps answering
    finally:
        backend.close()
    assert metrics.RATELIMIT_OUTAGES._value.get() - before == 1


def test_admin_dashboard_is_a_live_view_of_the_service(
    app_client: TestClient, sqlite_service: Service
) -> None:
    app_client.post("/api/v1/assets", files={"file": ("a.gif", make_gif(seed=88), "image/gif")})
    app_client.get("/s/Nothing1", headers={"User-Agent": FIREFOX})
    logging.getLogger("gifdist.test").warning("disk almost full", extra={"x": 1})
    data = app_client.get("/api/v1/admin/dashboard").json()
    assert data["service"] == "gifdist" and data["assets"] == 1
    assert data["backends"]["database"] == "sqlite"
    assert set(data["logs"]) >= {"total", "by_level"}
    assert any(e["message"] == "disk almost full" for e in data["recent_logs"])
    gauges = data["metrics"]["gauges"]
    uploads = [g for g in gauges["gifdist_uploads_total"] if g["tags"] == {"result": "created"}]
    assert uploads and uploads[0]["value"] >= 1
    requests = gauges["gifdist_http_requests_total"]
    assert any(g["tags"].get("route") == "/s/{code}" for g in requests)
    assert data["analytics"]["buffer_depth"] >= 0 and "traces" in data


def test_admin_dashboard_needs_the_admin_scope(
    app_client: TestClient, sqlite_service: Service
) -> None:
    from gifdist.accounts.keys import Scope

    reader, _ = sqlite_service.keys.create("reader", [Scope.READ, Scope.STATS])
    refused = app_client.get(
        "/api/v1/admin/dashboard", headers={"Authorization": f"Bearer {reader}"}
    )
    assert refused.status_code == 403
