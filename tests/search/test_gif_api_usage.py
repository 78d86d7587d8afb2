"""GIF API usage: searches, impressions and shares per client and platform.

The counters run on SQLite and PostgreSQL through the API a client calls, and the
report is read back through ``/api/v1/stats/gif-api`` as an operator or a client
key would.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from conftest import make_settings
from gif_factory import make_gif
from starlette.testclient import TestClient

from gifdist.accounts.keys import Scope
from gifdist.search import (
    GifApi,
    GifApiUsage,
    MemoryUsageStore,
    UsageKey,
    UsageKind,
    UsageStore,
)
from gifdist.stores.database import create_database_engine
from gifdist.stores.gif_api_usage_sql import SqlUsageStore
from gifdist.stores.migrate import upgrade_database
from gifdist.web.app import create_app
from gifdist.wiring import Service


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def usage_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[UsageStore]:
    if request.param == "memory":
        yield MemoryUsageStore()
        return
    url = (
        f"sqlite:///{tmp_path / 'usage.db'}"
        if request.param == "sqlite"
        else request.getfixturevalue("pg_schema_url")
    )
    engine = create_database_engine(url)
    upgrade_database(engine)
    try:
        yield SqlUsageStore(engine)
    finally:
        engine.dispose()


def test_counts_are_reported_before_and_after_a_flush(usage_store: UsageStore) -> None:
    day = [date(2026, 11, 30)]
    usage = GifApiUsage(usage_store, today=lambda: day[0])
    usage.record(
        GifApi.TENOR, "k1", "chat", "discord", {UsageKind.SEARCHES: 1, UsageKind.IMPRESSIONS: 8}
    )
    usage.record(
        GifApi.TENOR, "k1", "chat", "discord", {UsageKind.SEARCHES: 1, UsageKind.IMPRESSIONS: 2}
    )
    usage.record(GifApi.GIPHY, None, "", "other", {UsageKind.SEARCHES: 1, UsageKind.IMPRESSIONS: 5})
    (first, second) = usage.report(days=7)
    assert (first.api, first.key_id, first.client_key, first.platform) == (
        "tenor",
        "k1",
        "chat",
        "discord",
    )
    assert (first.searches, first.impressions, first.shares) == (2, 10, 0)
    assert (second.api, second.key_id, second.searches, second.impressions) == ("giphy", "", 1, 5)

    assert usage.flush() == 2
    assert usage.flush() == 0  # nothing pending: no write
    day[0] = date(2026, 12, 1)
    usage.record(GifApi.TENOR, "k1", "chat", "discord", {UsageKind.SHARES: 1})
    usage.flush()
    (tenor, _) = usage.report(days=7)
    assert (tenor.searches, tenor.impressions, tenor.shares) == (2, 10, 1)
    # the deltas were added to the stored rows, day by day
    stored = usage_store.totals(date(2026, 11, 1))
    key = UsageKey(date(2026, 11, 30), GifApi.TENOR, "k1", "chat", "discord")
    assert +stored[key] == Counter({UsageKind.SEARCHES: 2, UsageKind.IMPRESSIONS: 10})
    assert len(stored) == 3
    # one day's window leaves yesterday out; one key's report leaves others out
    (today,) = usage.report(days=1)
    assert (today.searches, today.shares) == (0, 1)
    assert [r.key_id for r in usage.report(days=7, key_id="k1")] == ["k1"]


def test_a_failed_write_keeps_the_counts_for_the_next_flush() -> None:
    class Down(MemoryUsageStore):
        fail = True

        def add(self, deltas):  # type: ignore[no-untyped-def]
            if self.fail:
                raise ConnectionError("database down")
            super().add(deltas)

    store = Down()
    usage = GifApiUsage(store)
    usage.record(GifApi.TENOR, "k", "c", "web", {UsageKind.SEARCHES: 3})
    with pytest.raises(ConnectionError):
        usage.flush()
    usage.record(GifApi.TENOR, "k", "c", "web", {UsageKind.SEARCHES: 1})
    store.fail = False
    assert usage.flush() == 1
    assert store.totals(date(2000, 1, 1))
    (row,) = usage.report()
    assert row.searches == 4


def test_report_days_out_of_range_is_refused() -> None:
    usage = GifApiUsage(MemoryUsageStore())
    with pytest.raises(Exception, match="days must be between 1 and 366"):
        usage.report(days=0)


def _upload(service: Service, tmp_path: Path, title: str, seed: int) -> str:
    path = tmp_path / f"{seed}.gif"
    path.write_bytes(make_gif(width=20, height=20, frames=2, seed=seed))
    meta = service.uploads.clean_metadata(title, "", "")
    return service.uploads.ingest_file(path, meta, None).asset.asset_id


def test_clients_see_their_own_usage_and_admins_everyones(
    service: Service, client: TestClient, tmp_path: Path
) -> None:
    cats = [_upload(service, tmp_path, f"cat {i}", i) for i in range(1, 4)]
    picker, picker_key = service.keys.create("picker", [Scope.SEARCH, Scope.STATS])
    bot, _ = service.keys.create("bot", [Scope.SEARCH, Scope.STATS])
    anon = TestClient(client.app, base_url="http://gifdist.test")

    def call(path: str, **params: str) -> None:
        r = anon.get(path, params=params)
        assert r.status_code == 200, r.text

    call("/v2/search", q="cat", key=picker, client_key="chat-app", via="discord", limit="2")
    call("/v2/search", q="cat", key=picker, client_key="chat-app", via="discord")
    call("/v2/registershare", id=cats[0], key=picker, client_key="chat-app", via="discord")
    call("/v1/gifs/search", q="cat", api_key=bot, limit="1")
    call(f"/v1/gifs/{cats[1]}", api_key=bot)

    mine = anon.get("/api/v1/stats/gif-api", headers={"Authorization": f"Bearer {picker}"})
    assert mine.status_code == 200, mine.text
    body = mine.json()
    assert body["totals"] == {"searches": 2, "impressions": 5, "shares": 1}
    assert body["clients"] == [
        {
            "api": "tenor",
            "key_id": picker_key.key_id,
            "client_key": "chat-app",
            "platform": "discord",
            "searches": 2,
            "impressions": 5,
            "shares": 1,
        }
    ]
    everyone = client.get("/api/v1/stats/gif-api", params={"days": 7}).json()
    assert everyone["totals"] == {"searches": 4, "impressions": 7, "shares": 1}
    assert {(c["api"], c["platform"]) for c in everyone["clients"]} == {
        ("tenor", "discord"),
        ("giphy", "other"),
    }

    # the share also counts in the GIF's own analytics, on the platform named
    service.events.flush()
    assert service.analytics_store.counts(asset_id=cats[0]) == Counter({("discord", "share"): 1})


def test_bad_via_and_client_key_are_refused(service: Service, client: TestClient) -> None:
    key, _ = service.keys.create("picker", [Scope.SEARCH])
    bad = client.get("/v2/search", params={"q": "cat", "key": key, "via": "myspace"})
    assert bad.status_code == 400
    assert "via must be one of web, slack" in bad.json()["error"]["message"]
    long = client.get(
        "/v1/gifs/search", params={"q": "cat", "api_key": key, "client_key": "x" * 300}
    )
    assert long.status_code == 400
    assert client.get("/api/v1/stats/gif-api", params={"days": 0}).status_code in (400, 422)
    assert service.gif_api_usage.report() == []  # refused calls count nothing


def test_usage_survives_a_restart(tmp_path: Path, database_url: str) -> None:
    settings = make_settings(tmp_path, database_url, gif_api_access="public")
    first = Service(settings)
    with TestClient(create_app(service=first), base_url="http://gifdist.test") as web:
        assert web.get("/v2/featured", params={"client_key": "kbd"}).status_code == 200
    first.close()  # stopping flushes what is pending
    second = Service(settings)
    try:
        (row,) = second.gif_api_usage.report()
        assert (row.client_key, row.searches, row.key_id) == ("kbd", 1, "")
    finally:
        second.close()
