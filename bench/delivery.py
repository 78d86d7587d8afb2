"""GIF delivery: gifdist's byte route against nginx sendfile on the same files.

Requests/s for a 5 KB, a 20 KB and a 2.8 MB GIF, each as a ratio to nginx measured
in the same run: the servers run side by side on CPU 0 and are measured in turns
(wrk on CPU 1). Also gifdist behind its reference proxy (``deploy/nginx.conf``, on
CPU 0 too): cache hits, each sent to gifdist as a log line and counted as a play, with
the CPU of both processes in the per-CPU figure; then how many of the hits' lines
arrived. Usage: python bench/delivery.py [--seconds 3] [--rounds 3]
"""

from __future__ import annotations

import argparse
import re
import time

import httpx
from _harness import (
    bare_server,
    free_udp_port,
    gifdist_server,
    interleaved,
    load_average,
    make_gif_of_size,
    nginx_server,
    ratio_line,
    reference_proxy,
    wrk,
)

# issue 17: small GIFs at 0.35× nginx sendfile, big ones at 0.9×
TARGETS = {"5 KB": 0.35, "20 KB": 0.35, "2.8 MB": 0.9}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=3)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--server", default="granian", choices=["granian", "uvicorn"])
    args = parser.parse_args()
    sizes = {
        "5 KB": make_gif_of_size(5_000, seed=1),
        "20 KB": make_gif_of_size(20_000, seed=2),
        "2.8 MB": make_gif_of_size(2_800_000, seed=3),
    }
    files = {f"{i}.gif": data for i, data in enumerate(sizes.values())}
    lines = []
    udp = free_udp_port()
    edge = {
        "GIFDIST_EDGE_LOG_LISTEN": f"127.0.0.1:{udp}",
        "GIFDIST_TRUSTED_PROXIES": '["127.0.0.1"]',
    }
    with (
        gifdist_server(args.server, **edge) as gd,
        nginx_server(files) as nginx,
        bare_server("asgi") as bare,
        reference_proxy(gd.base, udp) as proxy,
    ):
        paths = {label: f"/a/{gd.upload(data)['asset_id']}.gif" for label, data in sizes.items()}
        before = load_average()
        for i, label in enumerate(sizes):
            targets = {
                "gifdist": (gd.base + paths[label], gd.pid),
                "nginx": (f"{nginx.base}/a/{i}.gif", nginx.pid),
                "proxied": (proxy.base + paths[label], (proxy.pid, gd.pid)),
            }
            if len(sizes[label]) <= 64 * 1024:  # gifdist answers these from memory too
                targets["bare"] = (f"{bare.base}/bytes/{len(sizes[label])}", bare.pid)
            results = interleaved(targets, rounds=args.rounds, seconds=args.seconds)
            lines.append(ratio_line(label, results["gifdist"], results["nginx"], TARGETS[label]))
            if "bare" in results:
                lines.append(
                    ratio_line("bare ASGI", results["bare"], results["nginx"], None, name="app")
                )
            lines.append(
                ratio_line(
                    "via proxy",
                    results["proxied"],
                    results["nginx"],
                    TARGETS[label],
                    name="proxied",
                )
            )
            lines.append(_lines_received(gd.base, proxy.base + paths[label], args.seconds))
    print(
        f"GIF delivery, one {args.server} worker vs nginx (1 worker, sendfile), wrk -c32, "
        f"{args.rounds} × {args.seconds:g}s interleaved, {before} at the start, "
        f"{load_average()} at the end"
    )
    print("\n".join(lines))
    print("bare ASGI: an app answering the same number of bytes from memory, same granian")
    print(
        "via proxy: gifdist behind deploy/nginx.conf, both on CPU 0; cache hits, each sent "
        "to gifdist as a log line (one visitor here, so each is a duplicate play)"
    )


def _edge_lines(base: str) -> float:
    text = httpx.get(f"{base}/metrics", timeout=10).text
    found = re.findall(r"^gifdist_edge_log_lines_total\{[^}]*\} (\S+)$", text, re.M)
    return sum(float(value) for value in found)


def _lines_received(base: str, url: str, seconds: float) -> str:
    """Of the cache hits in one more run, how many log lines gifdist received."""
    before = _edge_lines(base)
    served = wrk(url, seconds=seconds).requests
    time.sleep(1.0)  # the last lines in flight
    got = _edge_lines(base) - before
    return f"{'':>11}log lines: {got:,.0f} received for {served:,} cache hits ({got / served:.1%})"


if __name__ == "__main__":
    main()
