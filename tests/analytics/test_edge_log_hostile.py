"""Edge log lines nginx would never write, senders and sockets that misbehave.

A trusted proxy's line is still input: whatever a field holds, the listener must
neither raise nor count a play the app itself would not count, and must stay
bounded and stoppable.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from analytics.test_edge_log import datagram
from gif_factory import make_gif
from pydantic import ValidationError
from sqlalchemy import text
from starlette.testclient import TestClient

from gifdist.analytics.edge import EdgeLogListener, EdgePlays, parse_line
from gifdist.config import Settings
from gifdist.errors import GifdistError
from gifdist.wiring import Service


@pytest.fixture
def uploaded(client: TestClient) -> str:
    data = make_gif(width=24, height=24, frames=2, seed=73)
    response = client.post("/api/v1/assets", files={"file": ("a.gif", data, "image/gif")})
    assert response.status_code == 201
    return str(response.json()["asset_id"])


def listener_for(service: Service, listen: str = "127.0.0.1:0") -> EdgeLogListener:
    return EdgeLogListener(EdgePlays(service.capture, service.catalog.get), listen, [])


def plays_of(client: TestClient, service: Service, asset_id: str) -> int:
    service.events.flush()
    return int(client.get(f"/api/v1/assets/{asset_id}/stats").json()["plays"])


@pytest.mark.parametrize("status", ["²", "9" * 5000, "٢٠٠", " 200", "200.0", "-200", "+200"])
def test_a_status_nginx_would_never_write_is_malformed_not_an_error(status: str) -> None:
    assert parse_line(datagram(status=status)) is None


def test_numbers_not_ints_and_negative_statuses_are_no_play(service: Service) -> None:
    listener = listener_for(service)
    for status in (200.0, -200, 2**70, None, [200]):
        result = listener.handle(datagram(status=status), "127.0.0.1")
        assert result in ("malformed", "not_a_play"), (status, result)


def test_a_private_gif_counts_no_play_from_the_cache(
    client: TestClient, service: Service, uploaded: str
) -> None:
    """The app keeps private bytes out of shared caches: a hit is a stale copy."""
    made = client.patch(f"/api/v1/assets/{uploaded}", json={"private": True})
    assert made.status_code == 200, made.text
    listener = listener_for(service)
    assert listener.handle(datagram(path=f"/a/{uploaded}.gif"), "127.0.0.1") == "unknown_asset"
    assert listener.handle(datagram(path=f"/a/{uploaded}.mp4"), "127.0.0.1") == "unknown_asset"
    assert plays_of(client, service, uploaded) == 0


def test_the_client_is_the_address_the_app_would_see(
    client: TestClient, service: Service, uploaded: str
) -> None:
    """A dual-stack proxy logs ``::ffff:a.b.c.d``; the app reads the same person as
    ``a.b.c.d`` (so the play it counted on a MISS is not counted again on a HIT)."""
    path = f"/a/{uploaded}.gif"
    listener = listener_for(service)
    assert listener.handle(datagram(path=path, client="198.51.100.7"), "127.0.0.1") == "counted"
    for same in ("::ffff:198.51.100.7", "[::ffff:198.51.100.7]:80", " 198.51.100.7:443"):
        assert listener.handle(datagram(path=path, client=same), "127.0.0.1") == "duplicate"
    assert plays_of(client, service, uploaded) == 1


def test_clients_that_are_no_address_are_one_unknown_visitor(
    client: TestClient, service: Service, uploaded: str
) -> None:
    """Each distinct string would otherwise be a visitor (and a memo entry) of its own."""
    path = f"/a/{uploaded}.gif"
    listener = listener_for(service)
    results = [
        listener.handle(datagram(path=path, client=junk), "127.0.0.1")
        for junk in ("x" * 60_000, "y" * 60_000, "unix:", "\x00", "\udcff", "999.1.1.1")
    ]
    assert results.count("counted") == 1, results
    assert results.count("duplicate") == len(results) - 1, results
    assert all(len(str(key)) < 64 for key in service.visitors._known), "memo keeps junk"
    assert plays_of(client, service, uploaded) == 1


def test_a_header_that_is_not_utf8_loses_no_play(
    client: TestClient, service: Service, uploaded: str
) -> None:
    """nginx's escape=json copies bytes >= 0x80 as they came: a Latin-1 User-Agent or
    Referer makes the line invalid UTF-8, and the person's play must still count."""
    line = datagram(path=f"/a/{uploaded}.gif", referer="https://app.slack.com/X-REF")
    line = line.replace(b"Firefox/128.0", b"Firefox/128.0 \xe9\xff")
    line = line.replace(b"X-REF", b"caf\xe9")  # no hex: the asset id is left alone
    assert listener_for(service).handle(line, "127.0.0.1") == "counted"
    assert plays_of(client, service, uploaded) == 1
    # a path that is not UTF-8 is still no GIF's
    bad_path = datagram(path="/a/PLACEHOLDER.gif").replace(b"PLACEHOLDER", b"\xff")
    assert listener_for(service).handle(bad_path, "127.0.0.1") in ("malformed", "unknown_asset")


def test_nul_bytes_and_lone_surrogates_anywhere_never_break_the_store(
    client: TestClient, service: Service, uploaded: str
) -> None:
    """PostgreSQL refuses NUL in text: nothing a line holds may reach a stored column."""
    path = f"/a/{uploaded}.gif"
    listener = listener_for(service)
    hostile = ("\x00", "\udcff", "\ud800\x00\udfff", "a\x00" * 5000)
    for n, junk in enumerate(hostile):
        client_address = f"192.0.2.{n + 1}"
        for field in ("user_agent", "referer", "range", "cache", "method"):
            listener.handle(datagram(path=path, client=client_address, **{field: junk}), "::1")
        listener.handle(datagram(path=path + junk), "::1")
        listener.handle(datagram(path="/a/" + junk + ".gif"), "::1")
    # the referer ones came first for each client and were plays
    assert listener.results.get("counted", 0) >= len(hostile), listener.results
    counted = listener.results["counted"]
    assert plays_of(client, service, uploaded) == counted
    # and the buffer still flushes afterwards
    assert listener.handle(datagram(path=path, client="192.0.2.99"), "::1") == "counted"
    assert plays_of(client, service, uploaded) == counted + 1


def test_a_port_held_by_another_program_is_a_clear_error(service: Service) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as other:  # no SO_REUSEPORT
        other.bind(("127.0.0.1", 0))
        port = other.getsockname()[1]
        listener = listener_for(service, f"127.0.0.1:{port}")
        with pytest.raises(GifdistError, match=rf"GIFDIST_EDGE_LOG_LISTEN.*:{port}.*in use"):
            listener.start()
        assert listener.bound is None
        listener.stop()  # harmless after a failed start


def test_a_host_that_does_not_resolve_is_a_clear_error(service: Service) -> None:
    listener = listener_for(service, "no-such-host.invalid:5140")
    with pytest.raises(GifdistError, match="GIFDIST_EDGE_LOG_LISTEN.*no-such-host.invalid"):
        listener.start()
    assert listener.bound is None


def test_stop_is_prompt_while_a_flood_arrives(service: Service) -> None:
    listener = listener_for(service)
    listener.start()
    bound = listener.bound
    assert bound is not None
    flooding = threading.Event()
    flooding.set()

    def flood() -> None:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
            n = 0
            while flooding.is_set():
                n += 1  # ids of the right shape that are nobody's: a database look-up each
                line = datagram(path=f"/a/{n:016x}.gif")
                with contextlib.suppress(OSError):  # the buffer is full: send the next
                    sender.sendto(line, bound)

    floods = [threading.Thread(target=flood, daemon=True) for _ in range(2)]
    for thread in floods:
        thread.start()
    try:
        deadline = time.monotonic() + 5
        while sum(listener.results.values()) < 200 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert sum(listener.results.values()) >= 200
        started = time.monotonic()
        listener.stop(timeout=10)
        took = time.monotonic() - started
    finally:
        flooding.clear()
        for thread in floods:
            thread.join(5)
    assert took < 1.0, f"stop took {took:.2f} s"
    assert listener.bound is None
    assert not any(t.name == "gifdist-edge-log" and t.is_alive() for t in threading.enumerate())


def test_start_stop_start_again_and_stop_twice(service: Service) -> None:
    listener = listener_for(service)
    for round_ in range(1, 4):
        listener.start()
        bound = listener.bound
        assert bound is not None
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
            sender.sendto(b"garbage", bound)
        deadline = time.monotonic() + 5
        while listener.results.get("malformed", 0) < round_ and time.monotonic() < deadline:
            time.sleep(0.01)
        assert listener.results == {"malformed": round_}  # each new thread reads
        listener.stop()
        listener.stop()
        assert listener.bound is None


@pytest.mark.parametrize(
    "sender",
    [
        "fe80::1%eth0",
        "fe80::1%",
        "%lo",
        "::ffff:203.0.113.5",
        "::203.0.113.5",
        "2002:cb00:7105::1",  # 6to4 of 203.0.113.5
        "0.0.0.0",
        "::",
        "",
        "127.0.0.1\x00",
        "10.1.2.3/8",
        "10.1.2.3:5140",
    ],
)
def test_senders_outside_the_trusted_ranges_are_refused(service: Service, sender: str) -> None:
    listener = EdgeLogListener(
        EdgePlays(service.capture, service.catalog.get), "127.0.0.1:0", ["10.0.0.0/8"]
    )
    assert listener.handle(datagram(), sender) == "refused_sender"


def test_a_scoped_or_mapped_sender_in_the_trusted_ranges_is_accepted(service: Service) -> None:
    listener = EdgeLogListener(
        EdgePlays(service.capture, service.catalog.get),
        "127.0.0.1:0",
        ["10.0.0.0/8", "fe80::/64"],
    )
    for sender in ("fe80::1%eth0", "::ffff:10.0.0.1", "::ffff:127.0.0.1", "::1", "127.0.0.2"):
        assert listener.handle(datagram(), sender) != "refused_sender", sender


def test_the_sender_memo_stays_bounded(service: Service) -> None:
    listener = listener_for(service)
    for n in range(5000):
        listener.handle(b"x", f"2001:db8::{n:x}")
    assert len(listener._senders_seen) <= 1024
    assert listener.results == {"refused_sender": 5000}


@pytest.mark.parametrize(
    "bad", ["host:²", "host:٥١٤٠", "host:-1", "[::1]:", ":5140 x", "::1", "::1:5140", "[::1:5140"]
)
def test_the_setting_refuses_odd_ports_and_unbracketed_v6(tmp_path: Path, bad: str) -> None:
    with pytest.raises(ValidationError, match="is not host:port"):
        Settings(data_dir=tmp_path, edge_log_listen=bad)


def test_serve_says_the_edge_log_port_is_in_use_instead_of_a_traceback(tmp_path: Path) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as other:  # no SO_REUSEPORT
        other.bind(("127.0.0.1", 0))
        udp_port = other.getsockname()[1]
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            http_port = probe.getsockname()[1]
        env = {k: v for k, v in os.environ.items() if not k.startswith("GIFDIST_")}
        env.update(
            GIFDIST_DATA_DIR=str(tmp_path / "data"),
            GIFDIST_MODERATION="off",
            GIFDIST_EDGE_LOG_LISTEN=f"127.0.0.1:{udp_port}",
        )
        result = subprocess.run(
            [sys.executable, "-m", "gifdist.cli", "serve", "--port", str(http_port)],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
    printed = result.stdout + result.stderr
    assert result.returncode == 1, printed
    assert f"GIFDIST_EDGE_LOG_LISTEN=127.0.0.1:{udp_port}" in printed
    assert "in use" in printed
    assert "Traceback" not in printed


@pytest.mark.parametrize(
    "body",
    [
        b'{"a":' + b"[" * 60_000,
        b'{"status":200,"path":"/a/x.gif","x":' + b'{"a":' * 10_000 + b"1" + b"}" * 10_001,
    ],
)
def test_json_nested_past_the_recursion_limit_is_malformed(service: Service, body: bytes) -> None:
    assert parse_line(b"<190>Dec  1 17:44:09 gifdist: " + body) is None
    assert listener_for(service).handle(body, "127.0.0.1") == "malformed"


def test_a_database_outage_is_counted_and_logged_once_not_once_a_line(
    client: TestClient,
    service: Service,
    uploaded: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Behind a busy cache an outage would otherwise write a traceback per hit, and
    the lines would show in no metric."""
    listener = listener_for(service)
    service.catalog.forget(uploaded)
    with service.engine.begin() as conn:
        conn.execute(text("ALTER TABLE assets RENAME TO assets_away"))
    try:
        with caplog.at_level(logging.ERROR, logger="gifdist.analytics.edge"):
            for n in range(50):
                line = datagram(path=f"/a/{uploaded}.gif", client=f"192.0.2.{n}")
                assert listener.handle(line, "127.0.0.1") == "failed"
    finally:
        with service.engine.begin() as conn:
            conn.execute(text("ALTER TABLE assets_away RENAME TO assets"))
    assert listener.results == {"failed": 50}
    assert len([r for r in caplog.records if r.name == "gifdist.analytics.edge"]) == 1
    assert listener.handle(datagram(path=f"/a/{uploaded}.gif"), "127.0.0.1") == "counted"
    assert plays_of(client, service, uploaded) == 1


def test_a_dual_stack_listener_takes_ipv4_loopback_as_loopback(
    client: TestClient, service: Service, uploaded: str
) -> None:
    """On ``[::]`` an IPv4 sender arrives as ``::ffff:a.b.c.d``."""
    listener = listener_for(service, "[::]:0")
    listener.start()
    try:
        bound = listener.bound
        assert bound is not None
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
            sender.sendto(datagram(path=f"/a/{uploaded}.gif"), ("127.0.0.1", bound[1]))
        deadline = time.monotonic() + 5
        while not listener.results and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        listener.stop()
    assert listener.results == {"counted": 1}
    assert plays_of(client, service, uploaded) == 1


def test_a_deleted_gif_counts_no_play_from_the_cache(
    client: TestClient, service: Service, uploaded: str
) -> None:
    listener = listener_for(service)
    assert listener.handle(datagram(path=f"/a/{uploaded}.gif"), "127.0.0.1") == "counted"
    deleted = client.delete(f"/api/v1/assets/{uploaded}")
    assert deleted.status_code in (200, 204), deleted.text
    line = datagram(path=f"/a/{uploaded}.gif", client="192.0.2.50")
    assert listener.handle(line, "127.0.0.1") == "unknown_asset"


def test_a_socket_numbered_past_1024_is_listened_on(
    client: TestClient, service: Service, uploaded: str
) -> None:
    """A busy process has many files open: select() cannot watch a descriptor >= 1024."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < 1300:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(4096, hard), hard))
    held = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(1100)]
    try:
        listener = listener_for(service)
        listener.start()
        try:
            bound = listener.bound
            assert bound is not None
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
                sender.sendto(datagram(path=f"/a/{uploaded}.gif"), bound)
            deadline = time.monotonic() + 5
            while not listener.results and time.monotonic() < deadline:
                time.sleep(0.02)
        finally:
            listener.stop()
    finally:
        for sock in held:
            sock.close()
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    assert listener.results == {"counted": 1}


def test_a_service_whose_edge_port_is_taken_starts_nothing(
    tmp_path: Path, database_url: str
) -> None:
    """The listener is one of the service's background tasks: when it cannot start, the
    tasks started before it (the analytics writer among them) are stopped again, and
    the service starts once the port is free."""
    from conftest import make_settings

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as other:  # no SO_REUSEPORT
        other.bind(("127.0.0.1", 0))
        port = other.getsockname()[1]
        service = Service(
            make_settings(tmp_path, database_url, edge_log_listen=f"127.0.0.1:{port}")
        )
        try:
            before = {thread.name for thread in threading.enumerate()}
            with pytest.raises(GifdistError, match="GIFDIST_EDGE_LOG_LISTEN"):
                service.start_background()
            assert {thread.name for thread in threading.enumerate()} <= before
            other.close()
            service.start_background()
            assert "gifdist-events" in {thread.name for thread in threading.enumerate()}
        finally:
            service.close()
