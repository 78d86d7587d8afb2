"""Short-link redirects: gifdist's /s/{code} against nginx answering a fixed 302.

Usage: python bench/shortlinks.py [--seconds 5] [--server granian]
"""

from __future__ import annotations

import argparse

from _harness import gifdist_server, make_gif_of_size, nginx_server, wrk

BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--server", default="granian", choices=["granian", "uvicorn"])
    args = parser.parse_args()
    headers = {"User-Agent": BROWSER}
    with gifdist_server(args.server) as gd:
        code = gd.link(gd.upload(make_gif_of_size(5_000))["asset_id"])
        ours = wrk(f"{gd.base}/s/{code}", seconds=args.seconds, headers=headers)
    with nginx_server({}) as base:
        theirs = wrk(f"{base}/s/x", seconds=args.seconds, headers=headers)
    print(
        f"302 redirect, one {args.server} worker vs nginx (1 worker), wrk -c32, {args.seconds}s each"
    )
    for name, r in (("gifdist", ours), ("nginx", theirs)):
        print(
            f"{name:>8} {r.requests_per_s:>10.0f} req/s  p50 {r.latency_p50_ms:.2f} ms  errors {r.non_2xx_3xx}"
        )
    print(f"{'ratio':>8} {ours.requests_per_s / theirs.requests_per_s:>10.2f}  (gifdist / nginx)")


if __name__ == "__main__":
    main()
