"""gifdist.cdn: the seed examples, RFC 9110 ranges, and signed URLs."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlparse

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gifdist.cdn.http import (
    UNSATISFIABLE,
    CachePolicy,
    CDNHelper,
    RangeRequest,
    SignedURL,
    parse_ranges,
)


def test_seed_cdn_configuration_example() -> None:
    cdn = CDNHelper(secret_key="your-secret-key")
    headers, range_spec, status_code = cdn.get_asset_headers(
        content_type="image/gif",
        content_length=1024000,
        is_immutable=True,
        cache_duration=CachePolicy.IMMUTABLE_CACHE,
        range_header="bytes=0-1023",
    )
    assert (range_spec, status_code) == ((0, 1023), 206)
    assert headers["Content-Range"] == "bytes 0-1023/1024000"
    assert headers["Content-Length"] == "1024"
    assert headers["Cache-Control"] == "public, max-age=31536000, immutable"
    signed_url = cdn.create_signed_asset_url(
        asset_url="https://gifdist.io/a/abc123def456", expiration_seconds=3600
    )
    is_valid, error = cdn.validate_asset_url(signed_url)
    assert (is_valid, error) == (True, None)


def test_cache_policy_constants_and_headers() -> None:
    assert (
        CachePolicy.IMMUTABLE_CACHE,
        CachePolicy.LONG_CACHE,
        CachePolicy.SHORT_CACHE,
        CachePolicy.NO_CACHE,
    ) == (31536000, 86400, 3600, 0)
    assert (
        CachePolicy.get_headers(3600, is_private=True)["Cache-Control"] == "private, max-age=3600"
    )
    assert CachePolicy.get_headers(0)["Cache-Control"] == "no-cache, no-store, must-revalidate"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("bytes=0-99", [(0, 99)]),
        ("bytes=-500", [(500, 999)]),
        ("bytes=900-", [(900, 999)]),
        ("bytes=0-0,-1", [(0, 0), (999, 999)]),
        ("bytes=0-10,5-20,21-30", [(0, 30)]),
        ("bytes=500-5000", [(500, 999)]),
        ("bytes=-5000", [(0, 999)]),
        ("bytes = 0-1", None),
        ("bytes=", None),
        ("bytes=5-1", None),
        ("bytes=abc", None),
        ("bytes=-", None),
        ("bytes=--1", None),
        ("bytes=1-2-3", None),
        ("bytes=１-２", None),  # full-width digits are not digits here
        ("items=0-1", None),
        ("bytes=0-1," * 17, None),
        ("bytes=1000-", UNSATISFIABLE),
        ("bytes=2000-3000,5000-", UNSATISFIABLE),
        ("bytes=-0", UNSATISFIABLE),
        ("bytes=99999999999999999999-", None),
    ],
)
def test_parse_ranges(header: str, expected: object) -> None:
    assert parse_ranges(header, 1000) == expected


def test_amplification_by_repeated_ranges_is_coalesced() -> None:
    assert parse_ranges("bytes=" + ",".join(["0-0"] * 1000), 1000) == [(0, 0)]
    assert parse_ranges("bytes=" + ",".join(f"{i * 2}-{i * 2}" for i in range(100)), 1000) is None


@given(st.text(max_size=300), st.integers(min_value=0, max_value=10**6))
def test_parse_ranges_never_raises_and_stays_in_bounds(header: str, size: int) -> None:
    result = parse_ranges(header, size)
    if isinstance(result, list):
        assert result and all(0 <= s <= e < size for s, e in result)
        assert all(a[1] + 1 < b[0] for a, b in zip(result, result[1:], strict=False))


def test_seed_range_request_helpers() -> None:
    assert RangeRequest.parse_range_header("bytes=10-19", 100) == (10, 19)
    assert RangeRequest.parse_range_header("bytes=200-", 100) is None
    assert (
        RangeRequest.get_range_response_headers(10, 19, 100, "image/gif")["Content-Length"] == "10"
    )
    assert RangeRequest.get_full_response_headers(100, "image/gif")["Content-Length"] == "100"


def test_unsatisfiable_range_gets_416_with_star_content_range() -> None:
    headers, spec, status = CDNHelper().get_asset_headers(
        "image/gif", 100, range_header="bytes=500-"
    )
    assert (spec, status, headers["Content-Range"]) == (None, 416, "bytes */100")


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def _params(url: str) -> list[tuple[str, str]]:
    return parse_qsl(urlparse(url).query, keep_blank_values=True)


def _with_params(url: str, params: list[tuple[str, str]]) -> str:
    parsed = urlparse(url)
    return f"{parsed.scheme}://{parsed.netloc}{parsed.path}?{urlencode(params)}"


def test_signed_url_expires_with_skew_tolerance() -> None:
    clock = Clock(1_000_000)
    signer = SignedURL("k", clock=clock, clock_skew=30)
    url = signer.generate_signed_url("https://g.test/a/abc.gif", expiration_seconds=60)
    clock.now += 80
    assert signer.validate_signed_url(url) == (True, None)
    clock.now += 20
    assert signer.validate_signed_url(url) == (False, "URL has expired")


def test_reordered_parameters_still_validate_but_tampering_does_not() -> None:
    signer = SignedURL("k")
    url = signer.generate_signed_url("https://g.test/a/abc.gif?w=100", additional_params={"u": "1"})
    params = _params(url)
    assert signer.validate_signed_url(_with_params(url, list(reversed(params)))) == (True, None)
    changed = [(k, "200" if k == "w" else v) for k, v in params]
    assert signer.validate_signed_url(_with_params(url, changed)) == (False, "Invalid signature")
    added = [*params, ("extra", "1")]
    assert signer.validate_signed_url(_with_params(url, added)) == (False, "Invalid signature")
    duplicated = [*params, ("w", "100")]
    assert signer.validate_signed_url(_with_params(url, duplicated))[0] is False
    missing = [(k, v) for k, v in params if k != "signature"]
    assert signer.validate_signed_url(_with_params(url, missing)) == (
        False,
        "Missing signature parameter",
    )
    truncated = url[:-5]
    assert signer.validate_signed_url(truncated)[0] is False
    other_path = url.replace("/a/abc.gif", "/a/abd.gif")
    assert signer.validate_signed_url(other_path) == (False, "Invalid signature")
    assert SignedURL("other").validate_signed_url(url) == (False, "Invalid signature")


def test_key_rotation_keeps_old_urls_valid_until_the_key_is_retired() -> None:
    old = SignedURL({"v1": "one"}, active_key_id="v1")
    url = old.generate_signed_url("https://g.test/a/x.gif")
    rotated = SignedURL({"v1": "one", "v2": "two"}, active_key_id="v2")
    assert rotated.validate_signed_url(url) == (True, None)
    assert ("kid", "v2") in _params(rotated.generate_signed_url("https://g.test/a/x.gif"))
    retired = SignedURL({"v2": "two"})
    assert retired.validate_signed_url(url) == (False, "Unknown or retired signing key")


@given(st.text(max_size=200))
def test_validation_never_raises(garbage: str) -> None:
    ok, reason = SignedURL("k").validate_signed_url("https://g.test/a/x.gif?" + garbage)
    assert ok is False and reason


def test_bad_configuration_is_refused() -> None:
    with pytest.raises(ValueError):
        SignedURL("")
    with pytest.raises(ValueError):
        SignedURL({"a": "x"}, active_key_id="b")
    with pytest.raises(ValueError):
        CDNHelper().create_signed_asset_url("https://g.test/a/x")


def test_a_purge_covers_the_gif_its_renditions_and_its_pages() -> None:
    from gifdist.cdn.purge import purge_paths
    from gifdist.media.rendition_store import RENDITION_SUFFIXES

    paths = purge_paths("abc123")
    assert "/a/abc123" in paths and "/a/abc123.gif" in paths and "/a/abc123/player" in paths
    for suffix in RENDITION_SUFFIXES.values():
        assert f"/a/abc123{suffix}" in paths
