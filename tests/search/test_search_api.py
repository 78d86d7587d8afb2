"""The Tenor v2 and GIPHY v1 shapes, in process, on SQLite and PostgreSQL.

Requests use the parameters each API's public reference documents; assertions read
the fields those references document (names and JSON types).
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from conftest import make_settings
from gif_factory import make_gif
from starlette.testclient import TestClient

from gifdist.accounts.keys import Scope
from gifdist.assets import AssetStatus
from gifdist.media.rendition_store import StoredRendition
from gifdist.media.renditions import RenditionKind as MediaKind
from gifdist.web.app import create_app
from gifdist.wiring import Service

TENOR_FORMATS = ("gif", "mediumgif", "tinygif")


@pytest.fixture
def search_key(service: Service) -> str:
    secret, _ = service.keys.create("picker", [Scope.SEARCH])
    return secret


@pytest.fixture
def anon(client: TestClient) -> TestClient:
    """The app client without the admin bearer token (keys go in the query)."""
    client.headers.pop("Authorization", None)
    return client


def upload(service: Service, tmp_path: Path, title: str, tags: str = "", **kw: Any) -> str:
    seed = len(list(tmp_path.glob("*.gif"))) + 1
    path = tmp_path / f"{seed}.gif"
    path.write_bytes(make_gif(width=40, height=30, frames=3, seed=seed, pattern="stripes"))
    meta = service.uploads.clean_metadata(title, tags, kw.get("description", ""))
    return service.uploads.ingest_file(path, meta, None).asset.asset_id


# --- Tenor v2 -----------------------------------------------------------------------


def test_tenor_search_returns_documented_response_objects(
    service: Service, anon: TestClient, search_key: str, tmp_path: Path
) -> None:
    asset_id = upload(service, tmp_path, "Dancing cat", "party, cat", description="a cat dancing")
    r = anon.get("/v2/search", params={"q": "cats", "key": search_key, "client_key": "app"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == {"results", "next"}
    (result,) = body["results"]
    assert result["id"] == asset_id
    assert result["title"] == "Dancing cat"
    assert result["content_description"] == "a cat dancing"
    assert result["itemurl"] == f"http://gifdist.test/a/{asset_id}"
    assert result["tags"] == ["party", "cat"]
    assert isinstance(result["created"], float)
    assert result["hasaudio"] is False
    for name in TENOR_FORMATS:
        media = result["media_formats"][name]
        assert media["url"] == f"http://gifdist.test/a/{asset_id}.gif"
        assert media["dims"] == [40, 30]
        assert isinstance(media["duration"], float) and media["duration"] > 0
        assert isinstance(media["size"], int) and media["size"] > 0
    assert "mp4" not in result["media_formats"]  # no rendition made yet
    assert anon.get(result["media_formats"]["tinygif"]["url"]).status_code == 200


def test_tenor_pages_with_opaque_next_and_pos(
    service: Service, anon: TestClient, search_key: str, tmp_path: Path
) -> None:
    ids = {upload(service, tmp_path, f"wave {i}") for i in range(5)}
    seen: list[str] = []
    pos = None
    for _ in range(4):
        params = {"q": "wave", "key": search_key, "limit": 2, **({"pos": pos} if pos else {})}
        body = anon.get("/v2/search", params=params).json()
        seen += [r["id"] for r in body["results"]]
        pos = body["next"]
        if not pos:
            break
    assert sorted(seen) == sorted(ids) and len(seen) == 5
    assert pos == ""
    tampered = anon.get("/v2/search", params={"q": "wave", "key": search_key, "pos": "MTAw"})
    assert tampered.status_code == 400
    error = tampered.json()["error"]
    assert error["code"] == 400 and error["status"] == "INVALID_ARGUMENT"
    assert "pos" in error["message"]


@pytest.mark.parametrize(
    ("params", "word"),
    [
        ({"limit": "0"}, "limit"),
        ({"limit": "51"}, "limit"),
        ({"limit": "-5"}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"media_filter": "gif,hologram"}, "media_filter"),
        ({"contentfilter": "extreme"}, "contentfilter"),
        ({"locale": "'; drop"}, "locale"),
        ({"q": "cat " * 2600}, "characters"),
        ({"pos": "🙃"}, "pos"),
    ],
)
def test_tenor_bad_parameters_are_precise_400s(
    anon: TestClient, search_key: str, params: dict[str, str], word: str
) -> None:
    r = anon.get("/v2/search", params={"q": "cat", "key": search_key, **params})
    assert r.status_code == 400, r.text
    assert word in r.json()["error"]["message"]


def store_renditions(
    service: Service, sha256: str, made: list[tuple[MediaKind, int, int, int, str]]
) -> None:
    """Renditions as the rendition worker records them (the conversion is tested apart)."""
    now = datetime.now(UTC)
    service.renditions.store.record(
        StoredRendition(sha256, kind, f"{n:064x}", ctype, w, h, size, now)
        for n, (kind, w, h, size, ctype) in enumerate(made, start=1)
    )
    service.renditions.cache.invalidate(sha256)


def test_tenor_media_filter_and_renditions(
    service: Service, anon: TestClient, search_key: str, tmp_path: Path
) -> None:
    asset_id = upload(service, tmp_path, "otter")
    record = service.catalog.require(asset_id)
    store_renditions(
        service,
        record.sha256,
        [(MediaKind.MP4, 40, 30, 900, "video/mp4"), (MediaKind.TINY_GIF, 20, 15, 300, "image/gif"),
         (MediaKind.STILL, 40, 30, 200, "image/jpeg")],
    )  # fmt: skip
    formats = anon.get("/v2/posts", params={"ids": asset_id, "key": search_key}).json()
    media = formats["results"][0]["media_formats"]
    assert media["mp4"] == {
        "url": f"http://gifdist.test/a/{asset_id}.mp4",
        "dims": [40, 30],
        "duration": media["gif"]["duration"],
        "size": 900,
    }
    assert media["tinygif"]["url"] == f"http://gifdist.test/a/{asset_id}/tiny.gif"
    assert media["gifpreview"]["duration"] == 0
    only = anon.get(
        "/v2/posts", params={"ids": asset_id, "key": search_key, "media_filter": "tinygif,webm"}
    ).json()
    assert set(only["results"][0]["media_formats"]) == {"tinygif"}


def test_tenor_posts_leave_out_what_is_not_public(
    service: Service, anon: TestClient, search_key: str, tmp_path: Path
) -> None:
    shown = upload(service, tmp_path, "walrus")
    hidden = upload(service, tmp_path, "walrus too")
    service.catalog.set_private(hidden, True, None)
    body = anon.get("/v2/posts", params={"ids": f"{hidden},{shown},ffff", "key": search_key})
    assert [r["id"] for r in body.json()["results"]] == [shown]
    assert anon.get("/v2/search", params={"q": "walrus", "key": search_key}).json()["results"] == [
        body.json()["results"][0]
    ]
    bad = anon.get("/v2/posts", params={"ids": "not-an-id", "key": search_key})
    assert bad.status_code == 400


def test_tenor_categories_autocomplete_suggestions_and_terms(
    service: Service, anon: TestClient, search_key: str, tmp_path: Path
) -> None:
    upload(service, tmp_path, "cat nap", "cat, sleepy")
    newest = upload(service, tmp_path, "cat jump", "cat, cute")
    key = {"key": search_key, "locale": "en_GB"}
    cats = anon.get("/v2/categories", params=key).json()
    assert cats["locale"] == "en_GB"
    first = cats["tags"][0]
    assert first["searchterm"] == "cat" and first["name"] == "#cat"
    assert first["image"] == f"http://gifdist.test/a/{newest}.gif"
    assert first["path"].startswith("http://gifdist.test/v2/search?q=cat")
    complete = anon.get("/v2/autocomplete", params={**key, "q": "sl"}).json()
    assert complete == {"locale": "en_GB", "results": ["sleepy"]}
    suggest = anon.get("/v2/search_suggestions", params={**key, "q": "cats"}).json()
    assert sorted(suggest["results"]) == ["cute", "sleepy"]
    terms = anon.get("/v2/trending_terms", params=key).json()
    assert terms["results"][0] == "cat"


def test_tenor_registershare_counts_a_share(
    service: Service, anon: TestClient, search_key: str, tmp_path: Path
) -> None:
    asset_id = upload(service, tmp_path, "otter")
    other = upload(service, tmp_path, "otter two")
    r = anon.get(
        "/v2/registershare",
        params={"id": asset_id, "key": search_key, "client_key": "chat", "q": "otter"},
    )
    assert r.status_code == 200 and r.json() == {}
    service.events.flush()
    # counted in the rollups (its client_key is kept only with GIFDIST_ANALYTICS_RAW_EVENTS)
    assert service.analytics_store.counts(asset_id=asset_id) == Counter({("other", "share"): 1})
    featured = anon.get("/v2/featured", params={"key": search_key}).json()
    assert [x["id"] for x in featured["results"]] == [asset_id, other]
    missing = anon.get("/v2/registershare", params={"id": "abcdef", "key": search_key})
    assert missing.status_code == 404
    assert missing.json()["error"]["status"] == "NOT_FOUND"


# --- keys -------------------------------------------------------------------------------


def test_gif_apis_need_a_search_key_by_default(
    service: Service, anon: TestClient, search_key: str
) -> None:
    missing = anon.get("/v2/search", params={"q": "cat"})
    assert missing.status_code == 401
    assert missing.json()["error"]["status"] == "UNAUTHENTICATED"
    unknown = anon.get("/v1/gifs/search", params={"q": "cat", "api_key": "LIVDSRZULELA"})
    assert unknown.status_code == 401
    assert unknown.json()["meta"]["status"] == 401
    upload_only, _ = service.keys.create("uploader", [Scope.UPLOAD])
    scoped = anon.get("/v2/search", params={"q": "cat", "key": upload_only})
    assert scoped.status_code == 403
    assert (
        anon.get("/v1/gifs/search", params={"q": "cat", "api_key": search_key}).status_code == 200
    )
    bearer = anon.get(
        "/v2/search", params={"q": "cat"}, headers={"Authorization": f"Bearer {search_key}"}
    )
    assert bearer.status_code == 200


def test_public_access_needs_no_key_and_ignores_unknown_ones(
    service: Service, anon: TestClient
) -> None:
    service.settings.gif_api_access = "public"
    assert anon.get("/v2/search", params={"q": "cat"}).status_code == 200
    assert anon.get("/v2/search", params={"q": "cat", "key": "LIVDSRZULELA"}).status_code == 200
    service.settings.gif_api_access = "off"
    off = anon.get("/v1/gifs/trending", params={"api_key": "x"})
    assert off.status_code == 404
    assert off.json()["meta"]["status"] == 404


# --- GIPHY v1 ---------------------------------------------------------------------------


def test_giphy_search_returns_documented_gif_objects(
    service: Service, anon: TestClient, search_key: str, tmp_path: Path
) -> None:
    ids = [upload(service, tmp_path, f"happy dance {i}", "dance") for i in range(3)]
    r = anon.get(
        "/v1/gifs/search",
        params={"api_key": search_key, "q": "dancing", "limit": 2, "offset": 1, "rating": "pg-13"},
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["pagination"] == {"total_count": 3, "count": 2, "offset": 1}
    assert body["meta"]["status"] == 200 and body["meta"]["msg"] == "OK"
    assert isinstance(body["meta"]["response_id"], str) and body["meta"]["response_id"]
    assert [g["id"] for g in body["data"]] == list(reversed(ids))[1:3]
    gif = body["data"][0]
    assert gif["type"] == "gif" and gif["rating"] == "g"
    assert gif["url"] == f"http://gifdist.test/a/{gif['id']}"
    for name in (
        "original",
        "fixed_height",
        "fixed_width",
        "fixed_height_small",
        "downsized",
        "preview_gif",
    ):
        image = gif["images"][name]
        assert image["url"] == f"http://gifdist.test/a/{gif['id']}.gif"
        assert (image["width"], image["height"]) == ("40", "30")
        assert int(image["size"]) > 0
    assert gif["images"]["original"]["frames"] == "3"
    assert "original_mp4" not in gif["images"]


def test_giphy_images_carry_mp4_and_webp_renditions(
    service: Service, anon: TestClient, search_key: str, tmp_path: Path
) -> None:
    asset_id = upload(service, tmp_path, "otter")
    sha = service.catalog.require(asset_id).sha256
    store_renditions(
        service,
        sha,
        [(MediaKind.MP4, 40, 30, 900, "video/mp4"), (MediaKind.WEBP, 40, 30, 700, "image/webp"),
         (MediaKind.STILL, 40, 30, 100, "image/jpeg")],
    )  # fmt: skip
    gif = anon.get(f"/v1/gifs/{asset_id}", params={"api_key": search_key}).json()["data"]
    images = gif["images"]
    assert images["original"]["mp4"] == f"http://gifdist.test/a/{asset_id}.mp4"
    assert images["original"]["mp4_size"] == "900"
    assert images["original"]["webp"] == f"http://gifdist.test/a/{asset_id}.webp"
    assert images["original_mp4"] == {
        "width": "40", "height": "30", "mp4": f"http://gifdist.test/a/{asset_id}.mp4", "mp4_size": "900"
    }  # fmt: skip
    assert images["original_still"]["url"] == f"http://gifdist.test/a/{asset_id}.jpg"


def test_giphy_by_ids_trending_and_tags(
    service: Service, anon: TestClient, search_key: str, tmp_path: Path
) -> None:
    a = upload(service, tmp_path, "cat", "cat, cute")
    b = upload(service, tmp_path, "dog", "dog, cute")
    hidden = upload(service, tmp_path, "secret", "cute")
    service.assets.set_status(hidden, AssetStatus.FLAGGED)
    service.catalog.changed(hidden)
    key = {"api_key": search_key}
    many = anon.get("/v1/gifs", params={**key, "ids": f"{b},{hidden},{a}"}).json()
    assert [g["id"] for g in many["data"]] == [b, a]
    assert many["pagination"]["count"] == 2
    assert anon.get(f"/v1/gifs/{hidden}", params=key).status_code == 404
    trending = anon.get("/v1/gifs/trending", params={**key, "limit": 5}).json()
    assert [g["id"] for g in trending["data"]] == [b, a]
    tags = anon.get("/v1/gifs/search/tags", params={**key, "q": "cu"}).json()
    assert tags["data"] == [{"name": "cute", "analytics_response_payload": ""}]
    bad = anon.get("/v1/gifs/search", params={**key, "q": "cat", "rating": "nc-17"})
    assert bad.status_code == 400
    assert bad.json()["meta"]["status"] == 400 and "rating" in bad.json()["meta"]["msg"]
    assert anon.get("/v1/gifs/search", params={**key, "q": "x", "offset": "-1"}).status_code == 400
    assert (
        anon.get("/v1/gifs/search", params={**key, "q": "x", "offset": "99999"}).status_code == 400
    )


HOSTILE = ['"', "*", "NEAR(a b)", "a OR b", "-cat", '"unbalanced', "😺", "\\", "%_", "' OR 1=1 --"]


@pytest.mark.parametrize(
    "path",
    [
        "/v2/search",
        "/v2/autocomplete",
        "/v2/search_suggestions",
        "/v1/gifs/search",
        "/v1/gifs/search/tags",
    ],
)
def test_hostile_queries_answer_cleanly(
    service: Service, anon: TestClient, search_key: str, tmp_path: Path, path: str
) -> None:
    upload(service, tmp_path, "cat", "cat")
    for q in HOSTILE:
        r = anon.get(path, params={"q": q, "key": search_key, "api_key": search_key})
        assert r.status_code == 200, (q, r.text)
        assert isinstance(r.json(), dict)


def test_gif_apis_are_rate_limited_per_query_key(tmp_path: Path) -> None:
    settings = make_settings(
        tmp_path, f"sqlite:///{tmp_path / 'r.db'}", rate_limits="on", rate_limit_gif_api=2
    )
    service = Service(settings)
    try:
        first, _ = service.keys.create("one", [Scope.SEARCH])
        second, _ = service.keys.create("two", [Scope.SEARCH])
        with TestClient(create_app(service=service), base_url="http://gifdist.test") as client:
            for _ in range(2):
                assert client.get("/v2/search", params={"q": "a", "key": first}).status_code == 200
            refused = client.get("/v2/search", params={"q": "a", "key": first})
            assert refused.status_code == 429 and refused.headers["Retry-After"]
            assert refused.json()["error"]["status"] == "RESOURCE_EXHAUSTED"
            giphy = client.get("/v1/gifs/search", params={"q": "a", "api_key": first})
            assert giphy.status_code == 429 and giphy.json()["meta"]["status"] == 429
            other = client.get("/v1/gifs/search", params={"q": "a", "api_key": second})
            assert other.status_code == 200 and other.headers["RateLimit-Limit"] == "2"
    finally:
        service.close()
