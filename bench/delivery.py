"""GIF delivery: gifdist's byte route against nginx sendfile on the same files.

Prints requests/s and bytes/s for a 20 KB and a 2 MB GIF, and the ratio to nginx
measured in the same run. Usage: python bench/delivery.py [--seconds 5] [--server granian]
"""

from __future__ import annotations

import argparse

from _harness import gifdist_server, make_gif_of_size, nginx_server, wrk


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--server", default="granian", choices=["granian", "uvicorn"])
    args = parser.parse_args()
    sizes = {"20 KB": make_gif_of_size(20_000, seed=1), "2 MB": make_gif_of_size(2_000_000, seed=2)}
    results = {}
    with gifdist_server(args.server) as gd:
        paths = {label: f"/a/{gd.upload(data)['asset_id']}.gif" for label, data in sizes.items()}
        for label in sizes:
            results[(label, "gifdist")] = wrk(gd.base + paths[label], seconds=args.seconds)
    files = {f"{i}.gif": data for i, data in enumerate(sizes.values())}
    with nginx_server(files) as base:
        for i, label in enumerate(sizes):
            results[(label, "nginx")] = wrk(f"{base}/a/{i}.gif", seconds=args.seconds)
    print(
        f"GIF delivery, one {args.server} worker vs nginx (1 worker, sendfile), wrk -c32, {args.seconds}s each"
    )
    print(f"{'size':>6} {'server':>8} {'req/s':>10} {'MB/s':>9} {'p50 ms':>8}")
    for label in sizes:
        for name in ("gifdist", "nginx"):
            r = results[(label, name)]
            print(
                f"{label:>6} {name:>8} {r.requests_per_s:>10.0f} {r.bytes_per_s / 1e6:>9.1f} {r.latency_p50_ms:>8.2f}"
            )
        ratio = (
            results[(label, "gifdist")].requests_per_s / results[(label, "nginx")].requests_per_s
        )
        print(f"{label:>6} {'ratio':>8} {ratio:>10.2f}  (gifdist / nginx)")


if __name__ == "__main__":
    main()
