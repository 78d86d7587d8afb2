"""Worker scaling: `gifdist serve --workers 2` against one worker, both on CPUs 0-1.

/s/{code} (telemetry on, every click recorded, Prometheus multi-process mode with
two workers), measured in turns with wrk (two threads, 64 connections) sharing the
same two CPUs. Prints both rates, their ratio (target ≥ 1.8) and the machine's load:
on a shared machine the second core is only partly ours.

Usage: python bench/workers.py [--seconds 3] [--rounds 3]
"""

from __future__ import annotations

import argparse
import statistics
import time

import httpx
from _harness import (
    Gifdist,
    cpu_seconds,
    gifdist_server,
    load_average,
    make_gif_of_size,
    process_tree,
    wrk,
)

BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
TARGET = 1.8  # issue 17: two workers on two cores


def _link(gd: Gifdist) -> str:
    """A short link to a fresh GIF; the two workers' first writes may meet a busy
    SQLite file (a 503 asking to retry), so try a few times."""
    for attempt in range(5):
        try:
            return gd.link(gd.upload(make_gif_of_size(5_000))["asset_id"])
        except httpx.HTTPStatusError:
            if attempt == 4:
                raise
            time.sleep(1)
    raise AssertionError("unreachable")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=3)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    headers = {"User-Agent": BROWSER}
    rates: dict[int, list[float]] = {1: [], 2: []}
    per_cpu: dict[int, list[float]] = {1: [], 2: []}
    busy: dict[int, list[float]] = {1: [], 2: []}  # cores the server kept busy
    before = load_average()
    for _ in range(args.rounds):
        for workers in (1, 2):
            with gifdist_server(workers=workers, cpus="0,1") as gd:
                url = f"{gd.base}/s/{_link(gd)}"
                wrk(url, seconds=1, headers=headers, connections=64, cpu=None, threads=2)
                pids = process_tree(gd.pid)
                cpu = cpu_seconds(pids)
                result = wrk(
                    url, seconds=args.seconds, headers=headers, connections=64, cpu=None, threads=2
                )
                result.server_cpu_s = cpu_seconds(pids) - cpu
                rates[workers].append(result.requests_per_s)
                per_cpu[workers].append(result.requests_per_cpu_s)
                busy[workers].append(result.server_cpu_s / args.seconds)
    one, two = statistics.median(rates[1]), statistics.median(rates[2])
    rounds = ", ".join(f"{b / a:.2f}" for a, b in zip(rates[1], rates[2], strict=True))
    verdict = "ok" if two / one >= TARGET else "BELOW TARGET"
    print(
        f"/s/{{code}} on CPUs 0-1, wrk -t2 -c64 on the same CPUs, {args.rounds} × "
        f"{args.seconds:g}s in turns; {before} at the start, {load_average()} at the end"
    )
    for workers, rate in ((1, one), (2, two)):
        print(
            f"{workers} worker(s) {rate:>8.0f} req/s  {statistics.median(per_cpu[workers]):>7.0f}"
            f" req per CPU s, {statistics.median(busy[workers]):.2f} cores busy"
        )
    print(f"ratio {two / one:.2f} (rounds {rounds}; target ≥ {TARGET}: {verdict})")
    efficiency = statistics.median(per_cpu[2]) / statistics.median(per_cpu[1])
    print(
        f"work per request, 2 workers against 1: {1 / efficiency:.2f}× "
        "(1.00: the workers do not slow each other; the ratio is then the cores we got)"
    )


if __name__ == "__main__":
    main()
