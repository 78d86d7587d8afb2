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

BODY_KEYS = [
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
        st.sampled_from(BODY_KEYS),
        json_values,
        max_size=4,
    ).map(lambda d: json.dumps(d).encode()),
)
QUERY_KEYS = [
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
queries = st.dictionaries(
    st.sampled_from(QUERY_KEYS),
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


def test_every_route_refuses_every_hostile_path_segment(client: TestClient) -> None:
    """Each route with each hostile segment, not a random sample of them: a NUL byte in a
    user id once reached PostgreSQL (which cannot store one) and came back as a 500."""
    data = make_gif(seed=89)
    asset_id = client.post("/api/v1/assets", files={"file": ("a.gif", data, "image/gif")}).json()[
        "asset_id"
    ]
    templated = [(m, t) for m, t in api_routes(client) if "{" in t]
    assert len(templated) >= 10
    for method, template in templated:
        for segment in [*HOSTILE_SEGMENTS, "a%00b", "%ff%fe", "%0a", "%20"]:
            path = re.sub(r"\{[^}]+\}", segment.replace("/", "%2F"), template)
            body = b"{}" if method in ("POST", "PATCH", "PUT") else None
            response = client.request(
                method, path, content=body, headers={"Content-Type": "application/json"}
            )
            assert_clean(response, (method, path))
    for method, template in api_routes(client):  # every query parameter holding a NUL
        path = re.sub(r"\{[^}]+\}", asset_id, template)
        if method == "DELETE":
            continue
        params = dict.fromkeys(QUERY_KEYS, "a\x00b")
        response = client.request(method, path, params=params)
        assert_clean(response, (method, path, "NUL in every query parameter"))
        if method in ("POST", "PATCH", "PUT"):
            fields = [*BODY_KEYS, "username", "password", "email", "name", "role", "code"]
            body = json.dumps(dict.fromkeys(fields, "a\x00b")).encode()
            response = client.request(
                method, path, content=body, headers={"Content-Type": "application/json"}
            )
            assert_clean(response, (method, path, "NUL in every body field"))
    assert client.get(f"/a/{asset_id}.gif").content == data


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


# Against a real server: the holes closed after an attack on a running one -----------

HOSTILE_HEADERS = st.dictionaries(
    st.sampled_from(
        [
            "Host",
            "Forwarded",
            "X-Forwarded-For",
            "Origin",
            "Sec-Fetch-Site",
            "Cookie",
            "User-Agent",
            "Referer",
        ]
    ),
    st.sampled_from(
        [
            "evil.example",
            "for=1.2.3.4",
            'for="[2001:db8::1]:99", for=unknown',
            "1.1.1.1, 10.0.0.1",
            "https://evil.example",
            "null",
            "cross-site",
            "same-site",
            "gifdist_session=forged.value.sig",
            "Slackbot-LinkExpanding 1.0",
            "\u202e".encode().decode("latin-1"),  # raw UTF-8 bytes on the wire
            "",
        ]
    ),
    max_size=5,
).map(lambda headers: {k: v.encode("latin-1") for k, v in headers.items()})
LINK_BODIES = st.fixed_dictionaries(
    {},
    optional={
        "title": json_values | st.sampled_from(["free money now", "p0rn", "Monday mood"]),
        "tags": json_values | st.just(["gore"]),
        "via": json_values,
    },
)
NUMBERISH = st.sampled_from([True, False, "60", 60.5, None, [], {}, 10**30, -1])


@pytest.mark.server
def test_a_running_server_keeps_the_closed_holes_closed(tmp_path: Any) -> None:
    import os
    import subprocess
    import sys

    import httpx
    from servers import SERVER_KEY, running_server

    env = {
        "GIFDIST_TRUSTED_PROXIES": '["127.0.0.1"]',
        "GIFDIST_MODERATION": "sync",
        "GIFDIST_MODERATION_STRICT": "false",
    }
    with (
        running_server(tmp_path, **env) as server,
        httpx.Client(base_url=server.base, timeout=15) as http,
    ):
        admin = {"Authorization": f"Bearer {SERVER_KEY}"}
        data = make_gif(seed=91)
        owned = http.post(
            "/api/v1/assets",
            files={"file": ("a.gif", data, "image/gif")},
            data={"title": "owner secret title"},
            headers=admin,
        ).json()
        asset_id = owned["asset_id"]
        port = server.base.rsplit(":", 1)[1]
        created = subprocess.run(
            [sys.executable, "-m", "gifdist.cli", "keys", "create", "stranger"],
            env={**os.environ, "GIFDIST_DATA_DIR": str(tmp_path / f"data-{port}")},
            capture_output=True,
            text=True,
            check=True,
        )
        callers = {
            "admin": admin,
            "stranger": {"Authorization": f"Bearer {created.stdout.strip().splitlines()[-1]}"},
            "nobody": {},
        }
        probes = [
            ("GET", f"/a/{asset_id}/"),
            ("GET", "/api/v1/docs/"),
            ("POST", "/signin"),
            ("POST", "/signout"),
            ("GET", "/"),
            ("GET", f"/a/{asset_id}"),
            ("POST", f"/api/v1/assets/{asset_id}/links"),
            ("POST", f"/api/v1/assets/{asset_id}/signed-url"),
            ("PATCH", f"/api/v1/assets/{asset_id}"),
        ]

        @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
        @given(
            probe=st.sampled_from(probes),
            headers=HOSTILE_HEADERS,
            link=LINK_BODIES,
            number=NUMBERISH,
            caller=st.sampled_from(sorted(callers)),
        )
        def check(probe, headers, link, number, caller) -> None:  # type: ignore[no-untyped-def]
            method, path = probe
            as_admin = caller == "admin"
            sent = {**headers, **callers[caller]}
            body: Any = None
            if path.endswith("/links"):
                body = link
            elif path.endswith("/signed-url"):
                body = {"expires_in": number}
            elif method == "PATCH":
                body = {"private": number}
            form = {"key": SERVER_KEY} if path in ("/signin", "/signout") else None
            try:
                if body is not None:  # json.dumps, like a hostile client: Infinity too
                    sent = {**sent, "Content-Type": "application/json"}
                response = http.request(
                    method,
                    path,
                    headers=sent,
                    content=None if body is None else json.dumps(body).encode(),
                    data=form,
                    follow_redirects=False,
                )
            except httpx.LocalProtocolError:
                return  # the client itself refused to send that header value
            context = (method, path, headers, body, caller)
            assert_clean(response, context)
            location = response.headers.get("location")
            if location and location.startswith("http"):
                assert location.startswith(server.base), context  # never from Host
            if response.headers.get("content-type", "").startswith("text/html"):
                assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
                assert response.headers["x-frame-options"] == "DENY"
            if path == "/signin" and (
                headers.get("Sec-Fetch-Site") in (b"cross-site", b"same-site")
                or headers.get("Origin") in (b"https://evil.example", b"null")
            ):
                assert response.status_code == 403 and "set-cookie" not in response.headers
            if body is not None and not as_admin:
                assert response.status_code in (401, 403, 404, 422), context
            if isinstance(number, bool) and path.endswith("/signed-url"):
                assert response.status_code in (401, 422), context
            if path.endswith("/links") and response.status_code == 201:
                assert as_admin, context
                title = link.get("title")
                assert title not in ("free money now", "p0rn"), context
                assert link.get("tags") != ["gore"], context
            if path.endswith("/links") and not as_admin:
                assert "owner secret title" not in response.text, context

        check()
        # nothing stored was damaged (the admin's probes may have made it private)
        http.patch(f"/api/v1/assets/{asset_id}", json={"private": False}, headers=admin)
        assert http.get(f"/a/{asset_id}.gif").content == data
