"""Short-link redirects: gifdist's /s/{code} against nginx answering a fixed 302.

Telemetry on (metrics, trace ids, request id) and every click recorded; rate limits
off. The two servers run side by side on CPU 0 and are measured in turns (wrk on
CPU 1), so the ratio holds even when the machine is shared.

Usage: python bench/shortlinks.py [--seconds 3] [--rounds 3] [--server granian]
"""

from __future__ import annotations

import argparse

from _harness import (
    bare_server,
    gifdist_server,
    interleaved,
    load_average,
    make_gif_of_size,
    nginx_server,
    ratio_line,
)

BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
TARGET = 0.25  # issue 17: /s/ at a quarter of nginx's fixed 302


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=3)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--server", default="granian", choices=["granian", "uvicorn"])
    args = parser.parse_args()
    headers = {"User-Agent": BROWSER}
    with (
        gifdist_server(args.server) as gd,
        nginx_server({}) as nginx,
        bare_server("asgi") as asgi,
        bare_server("rsgi") as rsgi,
    ):
        code = gd.link(gd.upload(make_gif_of_size(5_000))["asset_id"])
        before = load_average()
        results = interleaved(
            {
                "gifdist": (f"{gd.base}/s/{code}", gd.pid),
                "nginx": (f"{nginx.base}/s/x", nginx.pid),
                "asgi": (f"{asgi.base}/s/x", asgi.pid),
                "rsgi": (f"{rsgi.base}/s/x", rsgi.pid),
            },
            rounds=args.rounds,
            seconds=args.seconds,
            headers=headers,
            connections=args.connections,
        )
    print(
        f"302 redirect, one {args.server} worker vs nginx `return 302` (1 worker), "
        f"wrk -c{args.connections}, {args.rounds} × {args.seconds:g}s interleaved, "
        f"{before} at the start, {load_average()} at the end"
    )
    print(ratio_line("/s/{code}", results["gifdist"], results["nginx"], TARGET))
    print("the server's floor: a bare app answering a fixed 302 on the same granian")
    print(ratio_line("bare ASGI", results["asgi"], results["nginx"], None, name="app"))
    print(ratio_line("bare RSGI", results["rsgi"], results["nginx"], None, name="app"))


if __name__ == "__main__":
    main()
