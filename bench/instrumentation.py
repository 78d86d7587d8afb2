"""Cost of per-request telemetry on /s/{code}: GIFDIST_TELEMETRY=on against off.

On: Prometheus counter and histogram, a server span (not recorded: no exporter is
configured, as in a default deployment), traceparent on the response. Runs are
interleaved (off, on, off, on, ...) and the medians compared.

Usage: python bench/instrumentation.py [--seconds 5] [--rounds 3] [--server granian]
"""

from __future__ import annotations

import argparse
import statistics

from _harness import gifdist_server, make_gif_of_size, wrk

BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"


def measure(server: str, telemetry: str, seconds: int) -> float:
    with gifdist_server(server, GIFDIST_TELEMETRY=telemetry) as gd:
        code = gd.link(gd.upload(make_gif_of_size(5_000))["asset_id"])
        url = f"{gd.base}/s/{code}"
        wrk(url, seconds=1, headers={"User-Agent": BROWSER})  # warm caches and the JIT-less VM
        return wrk(url, seconds=seconds, headers={"User-Agent": BROWSER}).requests_per_s


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--server", default="granian", choices=["granian", "uvicorn"])
    args = parser.parse_args()
    results: dict[str, list[float]] = {"off": [], "on": []}
    for _ in range(args.rounds):
        for telemetry in ("off", "on"):
            results[telemetry].append(measure(args.server, telemetry, args.seconds))
    off, on = statistics.median(results["off"]), statistics.median(results["on"])
    print(
        f"/s/{{code}} 302, one {args.server} worker, wrk -c32, {args.seconds}s × "
        f"{args.rounds} interleaved rounds (median)"
    )
    for name, runs, median in (("off", results["off"], off), ("on", results["on"], on)):
        shown = ", ".join(f"{r:.0f}" for r in runs)
        print(f"telemetry {name:>3} {median:>10.0f} req/s  ({shown})")
    per_request_us = (1 / on - 1 / off) * 1e6
    print(f"overhead  {(off - on) / off * 100:>9.1f} %  ({per_request_us:.1f} µs per request)")


if __name__ == "__main__":
    main()
