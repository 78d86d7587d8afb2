"""Plays a caching proxy served, counted from its log lines (``gifdist.analytics.edge``).

The whole path through a real nginx is in ``tests/cdn/test_caching_proxy.py``; here
are the rules line by line, the sender check and the listener's socket.
"""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path

import pytest
from conftest import make_settings
from gif_factory import make_gif
from pydantic import ValidationError
from starlette.testclient import TestClient

from gifdist.analytics.edge import EdgeLine, EdgeLogListener, EdgePlays, parse_line, played_asset
from gifdist.config import Settings
from gifdist.wiring import Service

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
SLACKBOT = "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)"


def datagram(**fields: object) -> bytes:
    """A line as deploy/nginx.conf sends it: syslog header, tag, then the JSON."""
    line = {
        "status": 200,
        "cache": "HIT",
        "method": "GET",
        "path": "/a/0123456789abcdef.gif",
        "client": "198.51.100.7",
        "user_agent": FIREFOX,
        "referer": "",
        "range": "",
        **fields,
    }
    return b"<190>Dec  1 17:44:09 gifdist: " + json.dumps(line).encode()


def line(**fields: object) -> EdgeLine:
    parsed = parse_line(datagram(**fields))
    assert parsed is not None
    return parsed


def test_a_syslog_datagram_parses_and_anything_else_does_not() -> None:
    parsed = line(referer="https://app.slack.com/client/T1", range="bytes=0-")
    assert parsed == EdgeLine(
        status=200,
        cache="HIT",
        path="/a/0123456789abcdef.gif",
        client="198.51.100.7",
        user_agent=FIREFOX,
        referer="https://app.slack.com/client/T1",
        range="bytes=0-",
        method="GET",
    )
    assert line(referer="", user_agent="").referer is None  # nginx logs absent as ""
    assert line(status="206").status == 206
    for bad in (
        b"",
        b"<190>Dec  1 17:44:09 gifdist: not json",
        b'<190>gifdist: {"status": 200',  # truncated
        b"[1, 2]",
        b'{"status": 200}',  # no path
        datagram(status="ok"),
        datagram(status=True),
        datagram(path=["/a/x.gif"]),
        datagram(user_agent={"x": 1}),
        datagram(path="/a/\x00.gif"),
        "\udcff".encode("utf-8", "surrogatepass"),
    ):
        assert parse_line(bad) is None, bad


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({}, "0123456789abcdef"),
        ({"cache": "REVALIDATED"}, "0123456789abcdef"),  # the app answered 304: not counted
        ({"cache": "STALE"}, "0123456789abcdef"),
        ({"cache": "UPDATING"}, "0123456789abcdef"),
        ({"cache": "MISS"}, None),  # the app served the bytes and counted them
        ({"cache": "EXPIRED"}, None),
        ({"cache": "BYPASS"}, None),
        ({"cache": ""}, None),
        ({"method": "HEAD"}, None),
        ({"status": 304}, None),
        ({"status": 404}, None),
        ({"status": 206, "range": "bytes=0-99"}, "0123456789abcdef"),
        ({"status": 206, "range": "bytes=10-99"}, None),  # a resumed chunk
        ({"status": 206, "range": ""}, None),
        ({"path": "/a/0123456789abcdef.mp4"}, "0123456789abcdef"),
        ({"path": "/a/0123456789abcdef.webp"}, "0123456789abcdef"),
        ({"path": "/a/0123456789abcdef.jpg"}, None),  # a still is no play
        ({"path": "/a/0123456789abcdef/tiny.gif"}, None),  # nor a preview
        ({"path": "/a/0123456789abcdef"}, None),  # the page
        ({"path": "/s/abc"}, None),
    ],
)
def test_which_lines_are_plays(fields: dict[str, object], expected: str | None) -> None:
    assert played_asset(line(**fields)) == expected


@pytest.fixture
def uploaded(client: TestClient) -> str:
    data = make_gif(width=24, height=24, frames=2, seed=71)
    response = client.post("/api/v1/assets", files={"file": ("a.gif", data, "image/gif")})
    assert response.status_code == 201
    return str(response.json()["asset_id"])


def plays_of(client: TestClient, service: Service, asset_id: str) -> int:
    service.events.flush()
    return int(client.get(f"/api/v1/assets/{asset_id}/stats").json()["plays"])


def test_lines_count_as_the_app_counts_and_only_from_trusted_senders(
    client: TestClient, service: Service, uploaded: str
) -> None:
    listener = EdgeLogListener(
        EdgePlays(service.capture, service.catalog.get), "127.0.0.1:0", ["10.0.0.0/8"]
    )
    path = f"/a/{uploaded}.gif"
    assert listener.handle(datagram(path=path), "10.1.2.3") == "counted"
    assert listener.handle(datagram(path=path), "10.1.2.3") == "duplicate"  # same visitor
    assert listener.handle(datagram(path=path, client="198.51.100.8"), "127.0.0.1") == "counted"
    assert listener.handle(datagram(path=path, user_agent=SLACKBOT), "::1") == "not_counted"
    assert listener.handle(datagram(path=path, client="198.51.100.9"), "203.0.113.5") == (
        "refused_sender"
    )
    assert listener.handle(datagram(path=path, client="198.51.100.9"), "::ffff:10.9.9.9") == (
        "counted"
    )
    assert listener.handle(datagram(path=path), "not an address") == "refused_sender"
    assert listener.handle(datagram(path="/a/0000000000000000.gif"), "10.1.2.3") == (
        "unknown_asset"
    )
    assert listener.handle(b"garbage", "10.1.2.3") == "malformed"
    assert listener.handle(datagram(path=path, cache="MISS"), "10.1.2.3") == "not_a_play"
    assert plays_of(client, service, uploaded) == 3
    assert listener.results == {
        "counted": 3,
        "duplicate": 1,
        "not_counted": 1,
        "refused_sender": 2,
        "unknown_asset": 1,
        "malformed": 1,
        "not_a_play": 1,
    }


def test_a_gif_not_approved_counts_no_play_from_the_cache(
    client: TestClient, service: Service, uploaded: str
) -> None:
    plays = EdgePlays(service.capture, service.catalog.get)
    rejected = client.post(
        f"/api/v1/moderation/assets/{uploaded}/decision", json={"decision": "reject"}
    )
    assert rejected.status_code == 200, rejected.text
    assert plays.count(datagram(path=f"/a/{uploaded}.gif")) == "unknown_asset"


def test_the_listener_counts_datagrams_from_its_socket_and_survives_bad_ones(
    client: TestClient, service: Service, uploaded: str
) -> None:
    listener = EdgeLogListener(EdgePlays(service.capture, service.catalog.get), "127.0.0.1:0", [])
    listener.start()
    try:
        bound = listener.bound
        assert bound is not None and bound[1] > 0
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
            sender.sendto(b"\xff" * 1000, bound)
            sender.sendto(b"{" * 500, bound)
            for n in range(20):
                sender.sendto(datagram(path=f"/a/{uploaded}.gif", client=f"192.0.2.{n}"), bound)
        deadline = time.monotonic() + 5
        while listener.results.get("counted", 0) < 20 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        listener.stop()
    assert listener.results == {"malformed": 2, "counted": 20}
    assert plays_of(client, service, uploaded) == 20
    assert listener.bound is None


def test_two_listeners_share_a_port(service: Service) -> None:
    """Each worker process listens on the same port (the kernel picks one per datagram)."""
    plays = EdgePlays(service.capture, service.catalog.get)
    first = EdgeLogListener(plays, "127.0.0.1:0", [])
    first.start()
    try:
        bound = first.bound
        assert bound is not None
        second = EdgeLogListener(plays, f"127.0.0.1:{bound[1]}", [])
        second.start()
        second.stop()
    finally:
        first.stop()


def test_the_setting_takes_host_and_port_and_refuses_anything_else(tmp_path: Path) -> None:
    ok = make_settings(tmp_path, "sqlite://", edge_log_listen=" 0.0.0.0:5140 ")
    assert ok.edge_log_listen == "0.0.0.0:5140"
    assert make_settings(tmp_path, "sqlite://", edge_log_listen="[::]:5140").edge_log_listen
    assert make_settings(tmp_path, "sqlite://", edge_log_listen="").edge_log_listen is None
    for bad in ("5140", "host:", "host:0", "host:70000", "host:port"):
        with pytest.raises(ValidationError, match="is not host:port"):
            Settings(data_dir=tmp_path, edge_log_listen=bad)
