"""GIF bytes over HTTP: validators, conditional requests, ranges, HEAD (RFC 9110)."""

from __future__ import annotations

import email
import re
from collections.abc import Iterator

import pytest
from conftest import ADMIN_KEY, make_settings
from gif_factory import make_gif
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from gifdist.web.app import create_app
from gifdist.wiring import Service

DATA = make_gif(width=64, height=64, frames=4, seed=31)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, str, dict]]:
    tmp_path = tmp_path_factory.mktemp("delivery")
    service = Service(make_settings(tmp_path, f"sqlite:///{tmp_path / 'd.db'}"))
    with TestClient(create_app(service=service)) as client:
        asset = client.post(
            "/api/v1/assets",
            headers={"Authorization": f"Bearer {ADMIN_KEY}"},
            files={"file": ("d.gif", DATA, "image/gif")},
        ).json()
        yield client, f"/a/{asset['asset_id']}.gif", asset
    service.close()


def test_full_response_headers(served: tuple[TestClient, str, dict]) -> None:
    client, url, asset = served
    response = client.get(url)
    assert response.status_code == 200 and response.content == DATA
    assert response.headers["etag"] == f'"{asset["sha256"]}"'
    assert response.headers["accept-ranges"] == "bytes"
    assert response.headers["cache-control"] == "public, max-age=31536000, s-maxage=60, immutable"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "default-src 'none'" in response.headers["content-security-policy"]
    assert email.utils.parsedate_to_datetime(response.headers["last-modified"])


def test_head_has_the_get_headers_and_no_body(served: tuple[TestClient, str, dict]) -> None:
    client, url, _ = served
    get, head = client.get(url), client.head(url)
    assert head.content == b""
    for name in ("etag", "content-length", "content-type", "last-modified", "cache-control"):
        assert head.headers[name] == get.headers[name]


def test_if_none_match_and_if_modified_since_give_304(served: tuple[TestClient, str, dict]) -> None:
    client, url, asset = served
    etag = f'"{asset["sha256"]}"'
    for headers in (
        {"If-None-Match": etag},
        {"If-None-Match": f'W/{etag}, "other"'},
        {"If-None-Match": "*"},
        {"If-Modified-Since": client.get(url).headers["last-modified"]},
    ):
        response = client.get(url, headers=headers)
        assert response.status_code == 304, headers
        assert response.content == b"" and response.headers["etag"] == etag
    assert client.get(url, headers={"If-None-Match": '"other"'}).status_code == 200
    stale = {"If-None-Match": '"other"', "If-Modified-Since": "Sun, 06 Nov 2099 08:49:37 GMT"}
    assert client.get(url, headers=stale).status_code == 200  # If-None-Match wins
    assert client.get(url, headers={"If-Modified-Since": "garbage"}).status_code == 200


def test_if_match_failure_is_412(served: tuple[TestClient, str, dict]) -> None:
    client, url, asset = served
    assert client.get(url, headers={"If-Match": '"nope"'}).status_code == 412
    assert client.get(url, headers={"If-Match": f'"{asset["sha256"]}"'}).status_code == 200


def test_single_suffix_and_open_ranges(served: tuple[TestClient, str, dict]) -> None:
    client, url, _ = served
    size = len(DATA)
    for header, (start, end) in (
        ("bytes=0-9", (0, 9)),
        ("bytes=-7", (size - 7, size - 1)),
        (f"bytes={size - 5}-", (size - 5, size - 1)),
    ):
        response = client.get(url, headers={"Range": header})
        assert response.status_code == 206, header
        assert response.content == DATA[start : end + 1]
        assert response.headers["content-range"] == f"bytes {start}-{end}/{size}"


def test_multiple_ranges_are_multipart_byteranges(served: tuple[TestClient, str, dict]) -> None:
    client, url, _ = served
    response = client.get(url, headers={"Range": "bytes=0-3,10-19"})
    assert response.status_code == 206
    assert response.headers["content-type"].startswith("multipart/byteranges; boundary=")
    assert int(response.headers["content-length"]) == len(response.content)
    parts = _multipart_parts(response.headers["content-type"], response.content)
    assert parts == [((0, 3), DATA[0:4]), ((10, 19), DATA[10:20])]


def test_unsatisfiable_range_is_416_with_star_range(served: tuple[TestClient, str, dict]) -> None:
    client, url, _ = served
    response = client.get(url, headers={"Range": f"bytes={len(DATA) + 10}-"})
    assert response.status_code == 416
    assert response.headers["content-range"] == f"bytes */{len(DATA)}"


@pytest.mark.parametrize(
    "header",
    [
        "bytes=",
        "bytes=5-1",
        "bytes=abc",
        "items=0-1",
        "bytes=-",
        "bytes=" + ",".join(["0-0,2-2"] * 600),
    ],
)
def test_invalid_ranges_get_the_whole_file(
    served: tuple[TestClient, str, dict], header: str
) -> None:
    client, url, _ = served
    response = client.get(url, headers={"Range": header})
    assert response.status_code == 200 and response.content == DATA


def test_if_range_mismatch_sends_the_whole_file(served: tuple[TestClient, str, dict]) -> None:
    client, url, asset = served
    stale = client.get(url, headers={"Range": "bytes=0-9", "If-Range": '"old"'})
    assert stale.status_code == 200 and stale.content == DATA
    fresh = client.get(url, headers={"Range": "bytes=0-9", "If-Range": f'"{asset["sha256"]}"'})
    assert fresh.status_code == 206


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.one_of(
        st.text(max_size=60),
        st.lists(st.tuples(st.integers(0, 3000), st.integers(0, 3000)), min_size=1, max_size=5).map(
            lambda pairs: "bytes=" + ",".join(f"{a}-{b}" for a, b in pairs)
        ),
    )
)
def test_any_range_gives_200_206_or_416_with_true_bytes(
    served: tuple[TestClient, str, dict], header: str
) -> None:
    client, url, _ = served
    try:
        header.encode("ascii")
    except UnicodeEncodeError:
        return  # not sendable as an HTTP header
    response = client.get(url, headers={"Range": header})
    assert response.status_code in (200, 206, 416)
    if response.status_code == 200:
        assert response.content == DATA
    elif response.status_code == 206:
        if response.headers["content-type"].startswith("multipart/byteranges"):
            parts = _multipart_parts(response.headers["content-type"], response.content)
        else:
            match = re.fullmatch(r"bytes (\d+)-(\d+)/\d+", response.headers["content-range"])
            assert match
            parts = [((int(match[1]), int(match[2])), response.content)]
        for (start, end), body in parts:
            assert body == DATA[start : end + 1]


def _multipart_parts(content_type: str, body: bytes) -> list[tuple[tuple[int, int], bytes]]:
    boundary = content_type.split("boundary=")[1].encode()
    parts = []
    for chunk in body.split(b"--" + boundary)[1:]:
        if chunk.startswith(b"--"):
            break
        head, _, data = chunk.partition(b"\r\n\r\n")
        match = re.search(rb"Content-Range: bytes (\d+)-(\d+)/\d+", head, re.IGNORECASE)
        assert match
        parts.append(((int(match[1]), int(match[2])), data.removesuffix(b"\r\n")))
    return parts
