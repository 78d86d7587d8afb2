"""Plays a caching proxy served from its cache, counted from its access log.

Behind a caching proxy or a CDN, a popular GIF's bytes reach the app about once per
``s-maxage``; every other delivery is the cache's, and the app would never count it.
The proxy therefore sends the app one access-log line for each ``/a/`` request it
answered itself (cache ``HIT``, ``STALE``, ``UPDATING``, or ``REVALIDATED`` after the
app's 304: requests the app answered with bytes it counted already), as syslog over
UDP to ``GIFDIST_EDGE_LOG_LISTEN`` (``deploy/nginx.conf`` has the lines). Each line is
judged by the rule the app itself applies (``EventCapture.delivery``): the whole GIF or
a range from byte 0, by GET, to a person, is a PLAY once per visitor in the dedupe
window, on the Referer's platform. Lines whose cache status says the app answered are
ignored, so nothing counts twice.

Only the proxies gifdist already trusts (``GIFDIST_TRUSTED_PROXIES``) and loopback may
send lines; anything else is refused and counted. UDP is best effort: a line lost on
the way is a play not counted, never a wrong one.
"""

from __future__ import annotations

import errno
import json
import logging
import selectors
import socket
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from gifdist.addresses import is_trusted, normalise, parse_address, parse_networks
from gifdist.analytics.capture import EventCapture, Visit
from gifdist.assets.model import AssetRecord
from gifdist.errors import GifdistError
from gifdist.media.kinds import RenditionKind
from gifdist.media.rendition_store import parse_rendition_path

log = logging.getLogger("gifdist.analytics.edge")

# The cache answered without the app's bytes: the app did not count these.
SERVED_BY_CACHE = frozenset({"HIT", "STALE", "UPDATING", "REVALIDATED"})
# Full-size animations stand in for the GIF (as on the app's own delivery path).
PLAY_KINDS = frozenset({RenditionKind.MP4, RenditionKind.WEBP})
MAX_DATAGRAM = 65_535
# After draining the socket, wait this long before looking again: lines arriving in the
# meantime are read in one wake-up rather than one each (a context switch per line costs
# more than counting it). Counts are flushed once a second anyway.
LINGER_SECONDS = 0.002
_TEXT_FIELDS = ("path", "cache", "client", "user_agent", "referer", "range", "method")

Result = str  # counted, duplicate, not_counted, not_a_play, unknown_asset, malformed, failed
# A line that could not be counted (the database is down) is logged at most this often.
FAILURE_LOG_SECONDS = 60.0


@dataclass(frozen=True, slots=True)
class EdgeLine:
    """One request the proxy answered, as its log line tells it."""

    status: int
    cache: str
    path: str
    client: str | None
    user_agent: str | None
    referer: str | None
    range: str | None
    method: str = "GET"


def parse_line(datagram: bytes) -> EdgeLine | None:
    """The JSON log line inside a syslog datagram (``<190>Dec  1 12:00:00 tag: {...}``),
    or None when it is not one."""
    start = datagram.find(b"{")
    if start < 0:
        return None
    try:
        # nginx's escape=json copies bytes >= 0x80 as they came: a Latin-1 User-Agent
        # or Referer must not cost the play (a path that is not UTF-8 is no GIF's anyway)
        fields = json.loads(datagram[start:].decode("utf-8", "replace"))
    except (ValueError, RecursionError):  # nested deeper than the parser goes
        return None
    if type(fields) is not dict:
        return None
    status = fields.get("status")
    if type(status) is str and len(status) == 3 and status.isascii() and status.isdigit():
        status = int(status)
    if type(status) is not int:  # bool is not int here
        return None
    text = []
    for name in _TEXT_FIELDS:
        value = fields.get(name)
        if value is not None and type(value) is not str:
            return None
        text.append(value or None)
    path, cache, client, user_agent, referer, range_, method = text
    if path is None or "\x00" in path:  # nginx logs an absent header as "": None here
        return None
    if client is not None:  # the address as the app reads it (port, ``::ffff:`` dropped)
        address = normalise(client)
        client = "unknown" if address is None else str(address)
    return EdgeLine(
        status=status,
        cache=(cache or "").upper(),
        path=path,
        client=client,
        user_agent=user_agent,
        referer=referer,
        range=range_,
        method=(method or "GET").upper(),
    )


def played_asset(line: EdgeLine) -> str | None:
    """The asset whose play this line may be (a GIF, or a full-size MP4/WebP rendition,
    delivered whole or from byte 0 by a GET the cache answered), else None."""
    if line.cache not in SERVED_BY_CACHE or line.method != "GET":
        return None
    if line.status == 206:
        if not (line.range or "").replace(" ", "").startswith("bytes=0-"):
            return None  # a resumed chunk, not a play
    elif line.status != 200:
        return None
    if not line.path.startswith("/a/"):
        return None
    rest = line.path[3:]
    rendition = parse_rendition_path(rest)
    if rendition is not None:
        asset_id, kind = rendition
        return asset_id if kind in PLAY_KINDS else None
    return rest[:-4] if rest.endswith(".gif") else None


class EdgePlays:
    """Counts the plays in proxy log lines, by the app's own rule."""

    def __init__(self, capture: EventCapture, lookup: Callable[[str], AssetRecord | None]) -> None:
        self.capture = capture
        self.lookup = lookup

    def count(self, datagram: bytes) -> Result:
        line = parse_line(datagram)
        if line is None:
            return "malformed"
        asset_id = played_asset(line)
        if asset_id is None:
            return "not_a_play"
        record = self.lookup(asset_id)
        if record is None or not record.is_public:  # private bytes are never cached: a
            return "unknown_asset"  # hit is a stale copy a purge missed
        visit = Visit(user_agent=line.user_agent, client=line.client, referer=line.referer)
        return self.capture.delivery(record.asset_id, visit)


def parse_listen(value: str) -> tuple[str, int]:
    """``host:port`` or ``[v6]:port`` → (host, port); ValueError when malformed (port 0,
    any free port, is for tests: a proxy could not know it)."""
    host, sep, port_text = value.strip().rpartition(":")
    digits = port_text.isascii() and port_text.isdigit()
    if not sep or not digits or not 0 <= int(port_text) < 65_536:
        raise ValueError(f"{value!r} is not host:port")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    elif any(c in host for c in ":[]"):  # "::1:5140" would be host ":" on port 1
        raise ValueError(f"{value!r} is not host:port (an IPv6 host goes in brackets)")
    return host or "0.0.0.0", int(port_text)


def _bind(listen: str) -> socket.socket:
    """A non-blocking UDP socket on ``listen``, shared with the other workers
    (SO_REUSEPORT); a ``GifdistError`` saying why when the address cannot be listened
    on (a name that does not resolve, a port another program holds without sharing)."""
    host, port = parse_listen(listen)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_DGRAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if hasattr(socket, "SO_REUSEPORT"):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)  # bursts of hits
        sock.bind((host, port))
        sock.setblocking(False)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            reason = "the port is in use by another program (one not sharing it)"
        else:
            reason = exc.strerror or str(exc)
        raise GifdistError(
            f"GIFDIST_EDGE_LOG_LISTEN={listen}: cannot listen on udp {host}:{port}: {reason}"
        ) from None
    return sock


def check_listen(listen: str) -> None:
    """Raise the ``GifdistError`` the listener would meet on ``listen``, before any
    worker starts (so ``gifdist serve`` can say it instead of a start-up traceback)."""
    _bind(listen).close()


class EdgeLogListener:
    """A thread receiving the proxy's log lines on a UDP socket (a background task).

    Several worker processes may listen on one port (SO_REUSEPORT): the kernel gives
    each datagram to one of them.
    """

    def __init__(
        self,
        plays: EdgePlays,
        listen: str,
        senders: Iterable[str],
        *,
        on_line: Callable[[Result], None] | None = None,
    ) -> None:
        self.plays = plays
        self.listen = listen
        self.address = parse_listen(listen)
        self.senders = parse_networks(senders)
        self.on_line = on_line
        self.results: dict[Result, int] = {}
        self._senders_seen: dict[str, bool] = {}
        self._failures = 0  # lines that failed since the last failure was logged
        self._next_failure_log = 0.0
        self._socket: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    @property
    def bound(self) -> tuple[str, int] | None:
        """The address listened on (the real port when 0 was asked), once started."""
        if self._socket is None:
            return None
        host, port = self._socket.getsockname()[:2]
        return str(host), int(port)

    def allowed(self, sender: str) -> bool:
        """Loopback or a trusted proxy (remembered: lines come from a few senders)."""
        known = self._senders_seen.get(sender)
        if known is None:
            if len(self._senders_seen) >= 1024:
                self._senders_seen.clear()
            known = self._senders_seen[sender] = self._allowed(sender)
        return known

    def _allowed(self, sender: str) -> bool:
        address = parse_address(sender)  # ::ffff:a.b.c.d from a v6 socket is a.b.c.d
        if address is None:
            return False
        return address.is_loopback or is_trusted(address, self.senders)

    def start(self) -> None:
        """Bind (a ``GifdistError`` saying why when that fails) and start the thread."""
        sock = _bind(self.listen)
        self._socket = sock
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="gifdist-edge-log", daemon=True)
        self._thread.start()
        bound_host, bound_port = sock.getsockname()[:2]
        log.info(
            "counting the caching proxy's plays from its log on udp %s:%d", bound_host, bound_port
        )

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        if self._socket is not None:
            self._socket.close()
            self._socket = None

    def handle(self, datagram: bytes, sender: str) -> Result:
        """Judge one datagram from ``sender`` (counted in ``results``); ``failed`` when
        it could not be (logged once a minute: an outage behind a busy cache would
        otherwise write a traceback per hit)."""
        if not self.allowed(sender):
            result = "refused_sender"
        else:
            try:
                result = self.plays.count(datagram)
            except Exception:
                result = "failed"
                self._failed()
        self.results[result] = self.results.get(result, 0) + 1
        if self.on_line is not None:
            self.on_line(result)
        return result

    def _failed(self) -> None:
        self._failures += 1
        now = time.monotonic()
        if now >= self._next_failure_log:
            self._next_failure_log = now + FAILURE_LOG_SECONDS
            count, self._failures = self._failures, 0
            log.exception("%d edge log line(s) could not be counted", count)

    def _run(self) -> None:
        """Wait for the socket to be readable, then drain it: under load one wake-up
        reads many lines, one system call each (no poll before every read)."""
        sock = self._socket
        assert sock is not None
        # epoll where there is one: select() cannot watch a descriptor numbered >= 1024
        with selectors.DefaultSelector() as selector:
            selector.register(sock, selectors.EVENT_READ)
            self._drain(sock, selector)

    def _drain(self, sock: socket.socket, selector: selectors.BaseSelector) -> None:
        receive, handle, stopping = sock.recvfrom, self.handle, self._stop.is_set
        while not stopping():
            try:
                readable = selector.select(0.25)
            except (OSError, ValueError) as exc:  # closed under us
                if not self._stop.is_set():
                    log.error("edge log socket failed: %s", exc)
                return
            if not readable:
                continue
            while not stopping():  # a flood never holds up stop()
                try:
                    datagram, sender = receive(MAX_DATAGRAM)
                except BlockingIOError:
                    time.sleep(LINGER_SECONDS)  # let lines gather: one wake-up reads many
                    break
                except OSError as exc:
                    if not self._stop.is_set():
                        log.error("edge log socket failed: %s", exc)
                    return
                try:
                    handle(datagram, sender[0])
                except Exception:  # one bad line never stops the listener
                    log.exception("edge log line could not be counted")
