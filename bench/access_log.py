"""Cost of the default access log on /s/{code} and a 5 KB GIF: GIFDIST_ACCESS_LOG on against off.

Both arms log at INFO with JSON lines (stdout is not a terminal; it goes to
/dev/null, so formatting and the write are paid, a slow log consumer is not).
Telemetry is on in both, as by default. Runs are interleaved (off, on, off, on, …)
and the medians compared.

First, in process, the cost of writing one line: the access handler's direct
line against the same fields logged through stdlib logging and structlog.

Usage: python bench/access_log.py [--seconds 5] [--rounds 3] [--server granian]
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import timeit

from _harness import gifdist_server, make_gif_of_size, wrk

BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
PATHS = ("/s/{code}", "/a/{id}.gif")


FIELDS = {
    "method": "GET",
    "route": "/s/{code}",
    "path": "/s/Ab12Cd34",
    "status": 302,
    "duration_ms": 0.123,
    "request_id": "4bf92f3577b34da6",
    "trace_id": "4bf92f3577b34da6a3ce929d0e0e4736",
    "span_id": "00f067aa0ba902b7",
}


def line_costs(n: int = 20_000) -> tuple[float, float]:
    """µs per access line: (direct handler, logged through structlog's formatter)."""
    from gifdist.config import Settings
    from gifdist.observability.access_log import ACCESS_LOGGER, fast_handler
    from gifdist.observability.logs import configure_logging

    root = logging.getLogger()
    saved_handlers, saved_level = list(root.handlers), root.level
    logger = logging.getLogger(ACCESS_LOGGER)
    with open(os.devnull, "w") as sink:
        configure_logging(Settings(log_json=True), stream=sink)
        handler = fast_handler(logger)
        assert handler is not None
        direct = timeit.timeit(lambda: handler.write_request(sent=0, **FIELDS), number=n)
        logger.removeHandler(handler)
        logger.propagate = True  # the ordinary path: the root handler's formatter
        logged = timeit.timeit(
            lambda: logger.info("request", extra={**FIELDS, "bytes": 0}), number=n
        )
    root.handlers[:] = saved_handlers  # the rest of the run logs as before
    root.setLevel(saved_level)
    return direct / n * 1e6, logged / n * 1e6


def measure(server: str, access_log: str, seconds: int) -> dict[str, float]:
    env = {"GIFDIST_ACCESS_LOG": access_log, "GIFDIST_LOG_LEVEL": "info"}
    with gifdist_server(server, **env) as gd:
        asset_id = gd.upload(make_gif_of_size(5_000))["asset_id"]
        urls = {
            "/s/{code}": f"{gd.base}/s/{gd.link(asset_id)}",
            "/a/{id}.gif": f"{gd.base}/a/{asset_id}.gif",
        }
        rates = {}
        for path, url in urls.items():
            wrk(url, seconds=1, headers={"User-Agent": BROWSER})  # warm caches
            rates[path] = wrk(url, seconds=seconds, headers={"User-Agent": BROWSER}).requests_per_s
        return rates


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--server", default="granian", choices=["granian", "uvicorn"])
    args = parser.parse_args()
    direct, logged = line_costs()
    print(f"one access line, in process: {direct:.1f} µs direct, {logged:.1f} µs through logging")
    runs: dict[str, dict[str, list[float]]] = {p: {"false": [], "true": []} for p in PATHS}
    for _ in range(args.rounds):
        for access_log in ("false", "true"):
            for path, rate in measure(args.server, access_log, args.seconds).items():
                runs[path][access_log].append(rate)
    print(
        f"one {args.server} worker, wrk -c32, {args.seconds}s × {args.rounds} interleaved "
        "rounds (median req/s)"
    )
    for path in PATHS:
        off, on = (statistics.median(runs[path][arm]) for arm in ("false", "true"))
        shown = {arm: ", ".join(f"{r:.0f}" for r in runs[path][arm]) for arm in runs[path]}
        per_request_us = (1 / on - 1 / off) * 1e6
        print(f"{path:<12} access log off {off:>8.0f}  ({shown['false']})")
        print(f"{'':<12} access log on  {on:>8.0f}  ({shown['true']})")
        print(
            f"{'':<12} cost {(off - on) / off * 100:>13.1f} %  ({per_request_us:.1f} µs per request)"
        )


if __name__ == "__main__":
    main()
