"""Every API route answers hostile input with a 4xx and the error shape, never a 500."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from gif_factory import make_gif
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

HOSTILE_SEGMENTS = [
    "../etc/passwd",
    "%2e%2e%2f",
    "a" * 3000,
    "\u202egif",
    "0123456789abcdef",
    "Zz99Zz99",
    "💥",
    "%00",
    "-1",
    "9" * 40,
]

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False)
    | st.text(max_size=50),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)
bodies = st.one_of(
    json_values.map(lambda v: json.dumps(v).encode()),
    st.binary(max_size=200),
    st.dictionaries(
        st.sampled_from(
            [
                "title",
                "tags",
                "via",
                "decision",
                "notes",
                "private",
                "expires_in",
                "reason",
                "event_type",
                "asset_id",
            ]
        ),
        json_values,
        max_size=4,
    ).map(lambda d: json.dumps(d).encode()),
)
queries = st.dictionaries(
    st.sampled_from(
        [
            "from",
            "to",
            "interval",
            "format",
            "limit",
            "metric",
            "status",
            "offset",
            "asset_id",
            "decision",
            "min_views",
            "url",
            "maxwidth",
            "q",
            "pos",
            "ids",
            "media_filter",
            "rating",
            "locale",
        ]
    ),
    st.text(max_size=30) | st.integers(min_value=-(10**12), max_value=10**12).map(str),
    max_size=4,
)


def api_routes(client: TestClient) -> list[tuple[str, str]]:
    schema = client.get("/api/v1/openapi.json").json()
    return [
        (method.upper(), path)
        for path, operations in schema["paths"].items()
        for method in operations
        if path != "/api/v1/assets" or method != "post"  # multipart upload: its own tests
    ]


def assert_clean(response: Any, context: object) -> None:
    if response.status_code == 501:  # oEmbed's answer to a format it does not serve
        assert response.json()["error"]["code"] == "unsupported_format", context
        return
    assert response.status_code < 500, (context, response.status_code, response.text[:300])
    if response.status_code >= 400 and response.headers.get("content-type", "").startswith(
        "application/json"
    ):
        body = response.json()
        if "meta" in body:  # GIPHY's error shape under /v1/gifs
            assert body["meta"]["status"] == response.status_code and body["meta"]["msg"], context
            return
        error = body["error"]
        assert error["code"] and error["message"], context


def test_every_route_survives_hostile_paths_queries_and_bodies(client: TestClient) -> None:
    data = make_gif(seed=90)
    asset_id = client.post("/api/v1/assets", files={"file": ("a.gif", data, "image/gif")}).json()[
        "asset_id"
    ]
    routes = [*api_routes(client), ("POST", "/api/v1/events")]  # beacons: a hot path
    assert len(routes) >= 20

    @settings(
        max_examples=300,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(
        route=st.sampled_from(routes),
        segment=st.sampled_from([*HOSTILE_SEGMENTS, asset_id]),
        query=queries,
        body=bodies,
        content_type=st.sampled_from(["application/json", "text/plain", "application/xml", ""]),
    )
    def probe(route, segment, query, body, content_type) -> None:  # type: ignore[no-untyped-def]
        method, template = route
        if method == "DELETE" and segment == asset_id:
            segment = "0123456789abcdef"  # deleting the real GIF is a request, not an attack
        path = re.sub(r"\{[^}]+\}", segment.replace("/", "%2F"), template)
        response = client.request(
            method,
            path,
            params=query,
            content=body if method in ("POST", "PATCH", "PUT") else None,
            headers={"Content-Type": content_type} if content_type else {},
        )
        assert_clean(response, (method, path, query, body[:80]))

    probe()
    assert client.get(f"/a/{asset_id}.gif").content == data  # nothing stored was damaged


@pytest.mark.parametrize("path", ["/s/{}", "/a/{}", "/a/{}.gif", "/oembed?url={}"])
def test_public_routes_survive_hostile_segments(client: TestClient, path: str) -> None:
    for segment in HOSTILE_SEGMENTS:
        response = client.get(path.format(segment), headers={"User-Agent": "Mozilla/5.0"})
        assert_clean(response, (path, segment))
