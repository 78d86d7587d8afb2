from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gifdist.addresses import normalise, parse_networks
from gifdist.web.middleware.client_ip import ClientAddresses, client_address

PROXIES = parse_networks(["10.0.0.0/8", "::1"])


def scope(peer: str, *headers: tuple[str, str]) -> dict:
    return {"client": (peer, 1234), "headers": [(k.encode(), v.encode()) for k, v in headers]}


def test_untrusted_peer_cannot_spoof_forwarded_for() -> None:
    assert (
        client_address(scope("203.0.113.5", ("x-forwarded-for", "1.2.3.4")), PROXIES)
        == "203.0.113.5"
    )


def test_trusted_proxy_passes_the_client_through() -> None:
    s = scope("10.1.2.3", ("x-forwarded-for", "198.51.100.7, 10.9.9.9"))
    assert client_address(s, PROXIES) == "198.51.100.7"


def test_spoofed_leftmost_entry_is_ignored_behind_a_proxy() -> None:
    s = scope("10.1.2.3", ("x-forwarded-for", "1.1.1.1, 198.51.100.7"))
    assert client_address(s, PROXIES) == "198.51.100.7"


def test_forwarded_header_with_ipv6_and_port() -> None:
    s = scope("::1", ("forwarded", 'for="[2001:db8::1]:4711";proto=https'))
    assert client_address(s, PROXIES, "forwarded") == "2001:db8::1"


def test_ipv4_mapped_ipv6_is_the_same_client() -> None:
    assert normalise("::ffff:192.0.2.1") == normalise("192.0.2.1")
    assert client_address(scope("::ffff:192.0.2.1"), ()) == "192.0.2.1"


def test_garbage_in_the_header_stops_at_the_proxy() -> None:
    s = scope("10.1.2.3", ("x-forwarded-for", "not-an-ip"))
    assert client_address(s, PROXIES) == "10.1.2.3"


def test_no_client_is_unknown() -> None:
    assert client_address({"headers": []}, PROXIES) == "unknown"


@given(st.text(max_size=300))
def test_any_header_value_never_raises(value: str) -> None:
    s = {
        "client": ("10.0.0.1", 1),
        "headers": [
            (b"x-forwarded-for", value.encode("utf-8")),
            (b"forwarded", value.encode("utf-8")),
        ],
    }
    assert isinstance(client_address(s, PROXIES), str)


def test_a_client_sent_forwarded_header_does_not_beat_the_proxys_x_forwarded_for() -> None:
    s = scope(
        "10.1.2.3",
        ("forwarded", "for=1.1.1.1"),
        ("x-forwarded-for", "198.51.100.7"),
    )
    assert client_address(s, PROXIES, "x-forwarded-for") == "198.51.100.7"
    assert ClientAddresses(PROXIES, "x-forwarded-for")(s) == "198.51.100.7"


def test_with_forwarded_configured_x_forwarded_for_is_ignored() -> None:
    s = scope(
        "10.1.2.3",
        ("x-forwarded-for", "1.1.1.1"),
        ("forwarded", "for=198.51.100.7;proto=https"),
    )
    assert ClientAddresses(PROXIES, "forwarded")(s) == "198.51.100.7"
    only_xff = scope("10.1.2.3", ("x-forwarded-for", "1.1.1.1"))
    assert ClientAddresses(PROXIES, "forwarded")(only_xff) == "10.1.2.3"


def test_an_unknown_header_name_is_refused_at_start_up() -> None:
    with pytest.raises(ValueError, match="x-forwarded-for"):
        ClientAddresses(PROXIES, "x-real-ip")


def test_without_trusted_proxies_the_peer_is_the_client() -> None:
    addresses = ClientAddresses(())
    s = scope("::ffff:192.0.2.1", ("x-forwarded-for", "1.1.1.1"))
    assert addresses(s) == addresses(s) == "192.0.2.1"
    assert addresses({"client": ("testclient", 1), "headers": []}) == "unknown"
