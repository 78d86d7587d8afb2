"""What checking and sampling a hostile-but-within-limits GIF costs: time and peak RSS.

The hostile case is a 4096×4096 logical screen with 23 full-screen frames of flat
colour: about 270 KB on disk, inside every size, dimension and frame limit, yet
386 million pixels to decode. Each measurement runs in a fresh process (peak RSS is
per process), beside a baseline of an ordinary 480×270, 60-frame GIF in the same run.

Usage: python bench/decode_cost.py [--repeat N] [--page-gifs N]
"""

from __future__ import annotations

import argparse
import io
import json
import random
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from PIL import Image


def hostile_gif(side: int = 4096, frames: int = 23, grey: int = 0) -> bytes:
    images = [Image.new("P", (side, side), color=n % 2) for n in range(frames)]
    for image in images:
        image.putpalette([grey, grey, grey, 255, 255, 255] + [0] * 762)
    out = io.BytesIO()
    images[0].save(out, "GIF", save_all=True, append_images=images[1:], duration=100, loop=0)
    return out.getvalue()


def ordinary_gif(width: int = 480, height: int = 270, frames: int = 60) -> bytes:
    rng = random.Random(7)
    images = []
    for _ in range(frames):
        image = Image.new("P", (width, height))
        image.putdata([rng.randrange(16) for _ in range(width * height)])
        image.putpalette([rng.randrange(256) for _ in range(768)])
        images.append(image)
    out = io.BytesIO()
    images[0].save(out, "GIF", save_all=True, append_images=images[1:], duration=80, loop=0)
    return out.getvalue()


CHILD = """
import json, sys, time


def high_water_mb():  # VmHWM starts afresh at exec (ru_maxrss would inherit the parent's)
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0



from gifdist.media.gif import GifLimits, inspect_gif
from gifdist.media.frames import sample_frames
path, what = sys.argv[1], sys.argv[2]
before = high_water_mb()
start = time.perf_counter()
outcome = "ok"
try:
    if what == "inspect":
        inspect_gif(path, GifLimits())
    else:
        sample_frames(path, max_frames=6)
except Exception as exc:
    outcome = getattr(exc, "code", type(exc).__name__)
elapsed = time.perf_counter() - start
peak = high_water_mb()
print(json.dumps({"seconds": elapsed, "rss_mb": peak, "grew_mb": peak - before,
                  "outcome": outcome}))
"""


def measure(path: Path, what: str) -> dict[str, float | str]:
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(path), what], capture_output=True, text=True, check=True
    )
    result: dict[str, float | str] = json.loads(done.stdout)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--page-gifs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        files = {
            "ordinary 480x270x60": ordinary_gif(),
            "hostile 4096x4096x23": hostile_gif(),
            "largest 4096x4096x5": hostile_gif(frames=5),  # just under 100 M pixels
        }
        for name, data in files.items():
            path = Path(tmp) / (name.split()[0] + ".gif")
            path.write_bytes(data)
            for what in ("inspect", "sample"):
                runs = [measure(path, what) for _ in range(args.repeat)]
                seconds = statistics.median(float(r["seconds"]) for r in runs)
                grew = statistics.median(float(r["grew_mb"]) for r in runs)
                peak = statistics.median(float(r["rss_mb"]) for r in runs)
                print(
                    f"{name:22} {len(data) / 1024:7.0f} KB  {what:7}  {seconds * 1000:8.1f} ms"
                    f"  peak RSS {peak:6.1f} MB (+{grew:.1f})  ({runs[0]['outcome']})",
                    flush=True,
                )
    moderation_page(args.page_gifs)


PAGE = """
import json, shutil, sys, tempfile, time
from pathlib import Path
sys.path.insert(0, sys.argv[2])
from decode_cost import hostile_gif
from gifdist.assets.model import AssetMetadata
from gifdist.config import Settings
from gifdist.media.review_frames import render_review_frames
from gifdist.wiring import Service
from gifdist.web.pages.moderation import _queue_items
count = int(sys.argv[1])
root = Path(tempfile.mkdtemp())
try:
    service = Service(Settings(_env_file=None, data_dir=root / "data", moderation="async"))
    service.moderation.pipeline.scanner.visual_scanner = None  # flagged: no visual model
    paths = []
    for n in range(count):  # distinct bytes (another palette), the same decode cost
        path = root / f"{n}.gif"
        path.write_bytes(hostile_gif(frames=5, grey=n))
        paths.append(path)
    start = time.perf_counter()
    for path in paths:  # main: a cold moderation page decoded every GIF it showed
        render_review_frames(path)
    per_view = time.perf_counter() - start
    start = time.perf_counter()
    for path in paths:  # now: the worker renders them once, when it scans the upload
        asset = service.uploads.ingest_file(path, AssetMetadata("", (), ""), None).asset
        service.moderation.process(asset.asset_id)
    scan = time.perf_counter() - start
    start = time.perf_counter()
    items = _queue_items(service, "")
    page = time.perf_counter() - start
    assert len(items) == count and all(item["frames"] for item in items), items
    service.close()
    print(json.dumps({"per_view": per_view, "scan": scan, "page": page}))
finally:
    shutil.rmtree(root)
"""


def moderation_page(count: int) -> None:
    done = subprocess.run(
        [sys.executable, "-c", PAGE, str(count), str(Path(__file__).parent)],
        capture_output=True,
        text=True,
    )
    if done.returncode:
        raise SystemExit(done.stderr)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    print(
        f"moderation page, {count} flagged 4096x4096x5 GIFs: decoding per view (main) "
        f"{result['per_view']:.1f} s; now {result['page'] * 1000:.0f} ms "
        f"(frames rendered once at scan: {result['scan']:.1f} s in the worker)"
    )


if __name__ == "__main__":
    main()
