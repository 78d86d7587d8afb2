"""A large GIF to 100 clients at once: the server's memory stays flat (bytes are streamed)."""

from __future__ import annotations

import hashlib
import io
import random
import threading
import time
from pathlib import Path

import httpx
import pytest
from PIL import Image
from servers import SERVER_KEY, running_server

pytestmark = pytest.mark.server

MB = 1024 * 1024
CLIENTS = 100


def big_gif(target: int = 15 * MB) -> bytes:
    """Noise frames barely compress, so a few big frames make a big, valid GIF."""
    rng = random.Random(5)
    side, frames = 1600, []
    while sum(len(f) for f in frames) < target * 0.8:
        frame = Image.frombytes("P", (side, side), rng.randbytes(side * side))
        frame.putpalette(list(rng.randbytes(768)))
        frames.append(frame.tobytes())
    images = [Image.frombytes("P", (side, side), raw) for raw in frames]
    for image in images:
        image.putpalette(list(rng.randbytes(768)))
    out = io.BytesIO()
    images[0].save(out, "GIF", save_all=True, append_images=images[1:], duration=100, loop=0)
    return out.getvalue()


def tree_rss(pid: int) -> int:
    """Resident memory of a process and all its descendants, in bytes."""
    total, stack = 0, [pid]
    while stack:
        current = stack.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1]) * 1024
        stack += [int(c) for c in children]
    return total


def test_serving_a_big_gif_to_100_clients_keeps_memory_flat(tmp_path: Path) -> None:
    data = big_gif()
    assert len(data) > 10 * MB
    digest = hashlib.sha256(data).hexdigest()
    with running_server(
        tmp_path, GIFDIST_MAX_GIF_WIDTH="2000", GIFDIST_MAX_GIF_HEIGHT="2000"
    ) as server:
        created = httpx.post(
            f"{server.base}/api/v1/assets",
            files={"file": ("big.gif", data, "image/gif")},
            headers={"Authorization": f"Bearer {SERVER_KEY}"},
            timeout=60,
        )
        assert created.status_code == 201, created.text
        url = f"{server.base}/a/{created.json()['asset_id']}.gif"
        assert httpx.get(url, timeout=60).content == data  # warm up: caches, code paths
        baseline = tree_rss(server.process.pid)

        peak = baseline
        done = threading.Event()

        def sample() -> None:
            nonlocal peak
            while not done.is_set():
                peak = max(peak, tree_rss(server.process.pid))
                time.sleep(0.02)

        results: list[str] = []
        lock = threading.Lock()

        def download() -> None:
            sha = hashlib.sha256()
            with httpx.stream("GET", url, timeout=120) as response:
                for chunk in response.iter_bytes(256 * 1024):
                    sha.update(chunk)
                    time.sleep(0.001)  # slow readers keep every response in flight
            with lock:
                results.append(sha.hexdigest())

        sampler = threading.Thread(target=sample)
        sampler.start()
        threads = [threading.Thread(target=download) for _ in range(CLIENTS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=300)
        done.set()
        sampler.join()

        assert results == [digest] * CLIENTS
        growth = peak - baseline
        # Reading the file into memory per response would need CLIENTS × 15 MB = 1.5 GB.
        assert growth < 150 * MB, f"server memory grew by {growth / MB:.0f} MB"
