"""In-process cost of one hot-path request through the whole ASGI front (µs).

Calls the app built by ``create_app`` directly with ASGI messages (no server, no
socket), so the figure is the Python work per request and barely moves with the
machine's load. Telemetry on (metrics, unrecorded span, traceparent, request id),
rate limits off unless ``--rate-limits``, analytics writer running.

Usage: python bench/front_cost.py [--requests 20000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _harness import ADMIN_KEY, make_gif_of_size

BROWSER = b"Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"


def scope_for(method: str, path: str, extra: list[tuple[bytes, bytes]] | None = None) -> dict:
    headers = [(b"host", b"bench.test"), (b"user-agent", BROWSER), (b"accept", b"*/*")]
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": headers + (extra or []),
        "client": ("127.0.0.1", 40000),
        "server": ("127.0.0.1", 8000),
        "extensions": {"http.response.pathsend": {}},
        "state": {},
    }


async def drive(
    app: Any, method: str, path: str, count: int, body: bytes = b""
) -> tuple[float, float]:
    """Seconds per request for ``count`` sequential requests: wall clock, and CPU time of
    the serving thread (what the request costs, whatever else the machine runs)."""
    sent: list[int] = []

    async def receive() -> dict:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict) -> None:
        if message["type"] == "http.response.start":
            sent.append(message["status"])

    started, cpu = time.perf_counter(), time.thread_time()
    for _ in range(count):
        await app(scope_for(method, path), receive, send)
    elapsed, cpu = time.perf_counter() - started, time.thread_time() - cpu
    if not all(200 <= s < 400 for s in sent):
        raise SystemExit(f"{path} answered {sorted(set(sent))}")
    return elapsed / count, cpu / count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--rate-limits", action="store_true")
    parser.add_argument("--telemetry", default="on", choices=["on", "off"])
    args = parser.parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="gifdist-front-"))
    os.environ.update(
        GIFDIST_DATA_DIR=str(data_dir),
        GIFDIST_BASE_URL="http://bench.test",
        GIFDIST_ADMIN_KEY=ADMIN_KEY,
        GIFDIST_MODERATION="off",
        GIFDIST_RATE_LIMITS="on" if args.rate_limits else "off",
        GIFDIST_RATE_LIMIT_SHORTLINKS="100000000",
        GIFDIST_RATE_LIMIT_BEACONS="100000000",
        GIFDIST_TELEMETRY=args.telemetry,
        GIFDIST_LOG_LEVEL="warning",
        GIFDIST_RENDITIONS="off",
    )
    from starlette.testclient import TestClient

    from gifdist.config import Settings
    from gifdist.observability.tracing import configure_tracing
    from gifdist.web.app import create_app

    settings = Settings()  # as the server builds it: no exporter, so no span is recorded
    app = create_app(settings, tracer_provider=configure_tracing(settings))
    try:
        with TestClient(app, base_url="http://bench.test") as client:
            client.headers["Authorization"] = f"Bearer {ADMIN_KEY}"
            gif = make_gif_of_size(5_000)
            asset = client.post(
                "/api/v1/assets", data={"title": "b"}, files={"file": ("b.gif", gif, "image/gif")}
            ).json()["asset_id"]
            code = client.post(f"/api/v1/assets/{asset}/links", json={}).json()["short_code"]
            beacon = b'{"asset_id":"%s","event_type":"view"}' % asset.encode()
            targets = {
                "/s/{code}": ("GET", f"/s/{code}", b""),
                "/a/{id}.gif": ("GET", f"/a/{asset}.gif", b""),
                "beacon": ("POST", "/api/v1/events", beacon),
            }
            portal = client.portal
            assert portal is not None
            results: dict[str, list[tuple[float, float]]] = {name: [] for name in targets}
            for method, path, body in targets.values():
                portal.call(drive, app, method, path, 500, body)  # warm the caches
            for _ in range(args.rounds):
                for name, (method, path, body) in targets.items():
                    results[name].append(portal.call(drive, app, method, path, args.requests, body))
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
    print(
        f"in-process cost per request, telemetry {args.telemetry}, "
        f"rate limits {'on' if args.rate_limits else 'off'}, median of {args.rounds}"
    )
    print(f"{'':>12} {'CPU µs':>8} {'wall µs':>8}")
    for name, runs in results.items():
        cpu = statistics.median(r[1] for r in runs) * 1e6
        wall = statistics.median(r[0] for r in runs) * 1e6
        print(f"{name:>12} {cpu:>8.1f} {wall:>8.1f}")


if __name__ == "__main__":
    sys.exit(main())
