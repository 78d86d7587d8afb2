"""Shared pieces for the HTTP benchmarks: a gifdist server, nginx, wrk.

Both servers are pinned to CPU 0 and wrk to CPU 1 (when ``taskset`` exists), each
server with one worker process, so the comparison is one core against one core.
``interleaved`` alternates the runs (gifdist, nginx, gifdist, ...) and reports
medians, so a neighbour's burst of load hits both sides alike; the ratio is the
figure to read, the absolute numbers move with the machine's load.
"""

from __future__ import annotations

import contextlib
import io
import os
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from PIL import Image

ADMIN_KEY = "bench-admin-key"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def pinned(cpu: int | str | None, argv: list[str]) -> list[str]:
    """``argv`` run on ``cpu`` (a number or a list such as ``"0,1"``; None: anywhere)."""
    if cpu is None or not shutil.which("taskset"):
        return argv
    return ["taskset", "-c", str(cpu), *argv]


def load_average() -> str:
    """The 1-minute load average and the CPU count, to print beside the figures."""
    try:
        return f"load {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"
    except OSError:
        return "load unknown"


def make_gif_of_size(target_bytes: int, seed: int = 0) -> bytes:
    """A noise GIF of roughly ``target_bytes`` (noise barely compresses)."""
    rng = random.Random(seed)
    side = 16
    while True:
        frames = []
        for _ in range(4):
            frame = Image.new("P", (side, side))
            frame.putdata([rng.randrange(256) for _ in range(side * side)])
            frame.putpalette([rng.randrange(256) for _ in range(768)])
            frames.append(frame)
        out = io.BytesIO()
        frames[0].save(out, "GIF", save_all=True, append_images=frames[1:], duration=80, loop=0)
        if out.tell() >= target_bytes:
            return out.getvalue()
        side = int(side * max(1.1, (target_bytes / max(out.tell(), 1)) ** 0.5))


def wait_http(url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer")


@dataclass
class Gifdist:
    base: str
    data_dir: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def stop(self) -> None:
        """Stop the server gracefully (it flushes what it holds); its data dir stays."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=60)

    def upload(self, data: bytes, title: str = "bench") -> dict:
        headers = {"Authorization": f"Bearer {ADMIN_KEY}"}
        response = httpx.post(
            f"{self.base}/api/v1/assets",
            headers=headers,
            data={"title": title},
            files={"file": ("b.gif", data, "image/gif")},
            timeout=60,
        )
        response.raise_for_status()
        return response.json()

    def link(self, asset_id: str) -> str:
        headers = {"Authorization": f"Bearer {ADMIN_KEY}"}
        response = httpx.post(
            f"{self.base}/api/v1/assets/{asset_id}/links", headers=headers, json={}, timeout=30
        )
        response.raise_for_status()
        return str(response.json()["short_code"])


@contextmanager
def gifdist_server(
    server: str = "granian", *, workers: int = 1, cpus: int | str | None = 0, **env: str
) -> Iterator[Gifdist]:
    """``workers`` gifdist workers on ``cpus`` (one on CPU 0 by default), moderation
    and rate limits off, telemetry on (every click recorded).

    Logging is at WARNING, so the access log (on by default, at INFO) is left out
    of these figures; ``access_log.py`` measures its cost on its own.
    """
    data_dir = Path(tempfile.mkdtemp(prefix="gifdist-bench-"))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    full_env = {
        **os.environ,
        "GIFDIST_DATA_DIR": str(data_dir),
        "GIFDIST_BASE_URL": base,
        "GIFDIST_ADMIN_KEY": ADMIN_KEY,
        "GIFDIST_MODERATION": "off",
        "GIFDIST_RATE_LIMITS": "off",
        "GIFDIST_LOG_LEVEL": "warning",
        **env,
    }
    argv = pinned(
        cpus,
        [
            sys.executable,
            "-m",
            "gifdist.cli",
            "serve",
            "--port",
            str(port),
            "--server",
            server,
            "--workers",
            str(workers),
        ],
    )
    proc = subprocess.Popen(
        argv, env=full_env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        wait_http(f"{base}/healthz")
        yield Gifdist(base, data_dir, proc)
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                print(
                    "note: the server did not stop within 60 s of SIGTERM; killed", file=sys.stderr
                )
                for pid in reversed(process_tree(proc.pid)):
                    with contextlib.suppress(OSError):
                        os.kill(pid, signal.SIGKILL)
                proc.wait()
        shutil.rmtree(data_dir, ignore_errors=True)


@contextmanager
def bare_server(interface: str) -> Iterator[Nginx]:
    """granian on CPU 0 serving ``bench/_bare_302.py``'s app for ``interface`` (asgi or
    rsgi): the floor a Python app on this server cannot go below."""
    port = free_port()
    argv = [
        sys.executable, "-m", "granian", "--interface", interface, "--workers", "1",
        "--port", str(port), "--log-level", "warning", f"_bare_302:{interface}",
    ]  # fmt: skip
    proc = subprocess.Popen(
        pinned(0, argv),
        cwd=Path(__file__).parent,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_http(base + "/")
        yield Nginx(base, proc.pid)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


NGINX_CONF = """
worker_processes 1;
daemon off;
pid {root}/nginx.pid;
error_log {root}/error.log;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  sendfile on;
  tcp_nopush on;
  types {{ image/gif gif; }}
  client_body_temp_path {root}/tmp;
  proxy_temp_path {root}/tmp;
  fastcgi_temp_path {root}/tmp;
  uwsgi_temp_path {root}/tmp;
  scgi_temp_path {root}/tmp;
  server {{
    listen 127.0.0.1:{port};
    root {root}/files;
    location /s/ {{ return 302 http://127.0.0.1:{port}/a/target; }}
    location /a/ {{ add_header Cache-Control "public, max-age=31536000, immutable"; }}
  }}
}}
"""


@dataclass
class Nginx:
    base: str
    pid: int


REFERENCE_CONF = Path(__file__).parents[1] / "deploy" / "nginx.conf"
PURGE_MODULES = Path("/usr/lib/nginx/modules")


@contextmanager
def reference_proxy(upstream: str, edge_log_port: int) -> Iterator[Nginx]:
    """``deploy/nginx.conf`` (one worker, on CPU 0) in front of ``upstream``, sending its
    cache hits as log lines to UDP ``edge_log_port`` on loopback."""
    root = Path(tempfile.mkdtemp(prefix="nginx-proxy-bench-"))
    root.chmod(0o755)
    for sub in ("tmp", "cache"):
        (root / sub).mkdir()
        (root / sub).chmod(0o777)
    port = free_port()
    text = REFERENCE_CONF.read_text()
    for old, new in {
        "server app1:8000; server app2:8000;": f"server {upstream.removeprefix('http://')};",
        "listen 80;": f"listen 127.0.0.1:{port};",
        "syslog:server=app1:5140,": f"syslog:server=127.0.0.1:{edge_log_port},",
        # the file log goes (nginx's baseline writes none); "off" would cancel the syslog too
        "access_log /var/log/nginx/access.log;": "",
        "/var/cache/nginx": str(root / "cache"),
        "load_module modules/": f"load_module {PURGE_MODULES}/",
        "events {": f"worker_processes 1; daemon off; pid {root}/nginx.pid; "
        f"error_log {root}/error.log;\nevents {{",
        "http {": f"http {{ client_body_temp_path {root}/tmp; proxy_temp_path {root}/tmp; "
        f"fastcgi_temp_path {root}/tmp; uwsgi_temp_path {root}/tmp; scgi_temp_path {root}/tmp;",
    }.items():
        if old not in text:
            raise SystemExit(f"deploy/nginx.conf changed: no {old!r}")
        text = text.replace(old, new)
    user = "user root;\n" if os.geteuid() == 0 else ""
    with _running_nginx(root, user + text, port, "/healthz") as nginx:
        yield nginx


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def nginx_server(files: dict[str, bytes]) -> Iterator[Nginx]:
    """nginx (one worker, sendfile) serving ``files`` under /a/ on CPU 0."""
    root = Path(tempfile.mkdtemp(prefix="nginx-bench-"))
    root.chmod(0o755)  # nginx workers drop privileges and must read the files
    (root / "tmp").mkdir()
    (root / "files" / "a").mkdir(parents=True)
    for name, data in files.items():
        (root / "files" / "a" / name).write_bytes(data)
    port = free_port()
    with _running_nginx(root, NGINX_CONF.format(root=root, port=port), port, "/") as nginx:
        yield nginx


@contextmanager
def _running_nginx(root: Path, conf: str, port: int, ready_path: str) -> Iterator[Nginx]:
    """nginx on CPU 0 with ``conf`` written into ``root`` (removed afterwards), once it
    answers ``ready_path`` on ``port``."""
    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    (root / "nginx.conf").write_text(conf)
    proc = subprocess.Popen(
        pinned(0, [binary, "-c", str(root / "nginx.conf"), "-p", str(root)]),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_http(base + ready_path)
        yield Nginx(base, proc.pid)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        shutil.rmtree(root, ignore_errors=True)


@dataclass
class WrkResult:
    requests_per_s: float
    bytes_per_s: float
    latency_p50_ms: float
    non_2xx_3xx: int
    requests: int = 0
    server_cpu_s: float = 0.0  # CPU time the server's processes used during the run

    @property
    def requests_per_cpu_s(self) -> float:
        """Requests per second of server CPU: what one whole core would give, whatever
        share of it the server got while the machine was shared."""
        return self.requests / self.server_cpu_s if self.server_cpu_s else 0.0


def process_tree(pid: int) -> list[int]:
    """``pid`` and every process under it (Linux ``/proc``)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    tree, todo = [], [pid]
    while todo:
        current = todo.pop()
        tree.append(current)
        todo += children.get(current, [])
    return tree


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU seconds used so far by ``pids`` (gone ones count 0)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / os.sysconf("SC_CLK_TCK")


_UNITS = {"": 1, "K": 1e3, "M": 1e6, "G": 1e9, "KB": 1024, "MB": 1024**2, "GB": 1024**3, "B": 1}


def wrk(
    url: str,
    *,
    seconds: float = 5,
    connections: int = 32,
    headers: dict[str, str] | None = None,
    cpu: int | str | None = 1,
    threads: int = 1,
) -> WrkResult:
    """Run wrk (one thread, on CPU 1 by default) and parse its summary."""
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed (Debian package 'wrk'); `make bench` installs it")
    argv = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds:g}s", "--latency"]
    for name, value in (headers or {}).items():
        argv += ["-H", f"{name}: {value}"]
    run = subprocess.run(pinned(cpu, [*argv, url]), capture_output=True, text=True)
    if run.returncode != 0:
        raise RuntimeError(
            f"wrk on {url} failed (exit {run.returncode}): {run.stderr.strip()} {run.stdout.strip()}"
        )
    out = run.stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    transfer = re.search(r"Transfer/sec:\s+([\d.]+)(\w+)", out)
    bps = float(transfer.group(1)) * _UNITS[transfer.group(2)] if transfer else 0.0
    p50 = re.search(r"50%\s+([\d.]+)(\w+)", out)
    p50_ms = float(p50.group(1)) * {"us": 1e-3, "ms": 1, "s": 1e3}[p50.group(2)] if p50 else 0.0
    errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    if errors and int(errors.group(1)) > 0:
        raise RuntimeError(f"{url} answered errors during the run:\n{out}")
    count = re.search(r"(\d+) requests in", out)
    requests = int(count.group(1)) if count else 0
    return WrkResult(rps, bps, p50_ms, int(errors.group(1)) if errors else 0, requests)


def interleaved(
    targets: dict[str, tuple[str, int | tuple[int, ...]]],
    *,
    rounds: int = 3,
    seconds: float = 3,
    headers: dict[str, str] | None = None,
    connections: int = 32,
) -> dict[str, list[WrkResult]]:
    """wrk on each of ``targets`` (name → (URL, server pid or pids)) in turn, ``rounds`` times,
    after a one-second warm-up each; every name's results in run order, each with the
    CPU time the server's processes used during its run."""
    for url, _ in targets.values():
        wrk(url, seconds=1, headers=headers, connections=connections)
    results: dict[str, list[WrkResult]] = {name: [] for name in targets}
    for _ in range(rounds):
        for name, (url, pid) in targets.items():
            pids = [
                p
                for root in (pid if isinstance(pid, tuple) else (pid,))
                for p in process_tree(root)
            ]
            before = cpu_seconds(pids)
            result = wrk(url, seconds=seconds, headers=headers, connections=connections)
            result.server_cpu_s = cpu_seconds(pids) - before
            results[name].append(result)
    return results


def median_rps(results: list[WrkResult]) -> float:
    return statistics.median(r.requests_per_s for r in results)


def median_per_cpu(results: list[WrkResult]) -> float:
    return statistics.median(r.requests_per_cpu_s for r in results)


def ratio_line(
    label: str,
    ours: list[WrkResult],
    theirs: list[WrkResult],
    target: float | None,
    *,
    name: str = "gifdist",
) -> str:
    """``label``: median req/s of both and their ratio, then the same per CPU second
    (the steadier figure on a shared machine), and the target the ratio is held to
    (None: a reference figure, held to nothing)."""
    wall = median_rps(ours) / median_rps(theirs)
    per_cpu = median_per_cpu(ours) / median_per_cpu(theirs) if median_per_cpu(theirs) else 0.0
    rounds = ", ".join(
        f"{a.requests_per_s / b.requests_per_s:.2f}" for a, b in zip(ours, theirs, strict=True)
    )
    if target is None:
        verdict = "(reference)"
    else:
        ok = min(wall, per_cpu or wall) >= target
        verdict = f"target ≥ {target:.2f}: {'ok' if ok else 'BELOW TARGET'}"
    return (
        f"{label:>10}  req/s: {name} {median_rps(ours):>7.0f}  nginx {median_rps(theirs):>7.0f}"
        f"  ratio {wall:.2f} (rounds {rounds})\n"
        f"{'':>10}  per CPU s: {name} {median_per_cpu(ours):>7.0f}  nginx "
        f"{median_per_cpu(theirs):>7.0f}  ratio {per_cpu:.2f}   {verdict}"
    )
