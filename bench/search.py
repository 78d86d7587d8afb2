"""Search at 100k GIFs: query latency of the full-text index against the LIKE scan it
replaces, measured in the same run on the same data.

A library of N GIFs (default 100,000) is written straight into a migrated database,
with titles, tags and descriptions drawn from a vocabulary of 120 common GIF words
(each in about 5% of the GIFs) and a Zipf-distributed tail of rare ones, then indexed through
``SearchCatalog.add_all`` (what ``gifdist search reindex`` runs). Queries of four
kinds run interleaved through ``SearchCatalog.search`` with ``limit=20`` (Tenor's
default page): a common word, two common words, a rare word, and a typed prefix.
The baseline is ``SqlAssetStore.list(search=…)``, the case-insensitive ``LIKE``
over titles and tags that the library page used before, for the same single words.

Usage: python bench/search.py [--gifs 100000] [--queries 400] [--database-url URL]
"""

from __future__ import annotations

import argparse
import itertools
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert

from gifdist.assets import AssetMetadata, AssetStatus
from gifdist.media.gif import GifInfo
from gifdist.search import Analyzer, SearchCatalog, every_asset
from gifdist.stores.assets_sql import SqlAssetStore, _content_row, _row
from gifdist.stores.database import create_database_engine
from gifdist.stores.migrate import upgrade_database
from gifdist.stores.schema import assets, contents
from gifdist.stores.search_sql import SqlSearchStore

COMMON = [
    "cat",
    "dog",
    "happy",
    "sad",
    "dance",
    "party",
    "birthday",
    "love",
    "thank",
    "you",
    "yes",
    "no",
    "wow",
    "lol",
    "hello",
    "bye",
    "funny",
    "cute",
    "angry",
    "excited",
    "tired",
    "sleepy",
    "hungry",
    "cry",
    "laugh",
    "smile",
    "wave",
    "hug",
    "kiss",
    "clap",
    "thumbs",
    "up",
    "facepalm",
    "shrug",
    "eye",
    "roll",
    "mind",
    "blown",
    "celebrate",
    "win",
    "fail",
    "oops",
    "omg",
    "bored",
    "coffee",
    "monday",
    "friday",
    "weekend",
    "work",
    "meeting",
    "fire",
    "ok",
    "nope",
    "sure",
    "maybe",
    "hi",
    "good",
    "morning",
    "night",
    "congrats",
    "sorry",
    "please",
    "welcome",
    "cheers",
    "hype",
    "dog",
    "puppy",
    "kitten",
    "baby",
    "bear",
    "panda",
    "penguin",
    "otter",
    "parrot",
    "fox",
    "bunny",
    "duck",
    "frog",
    "monkey",
    "horse",
    "cow",
    "pig",
    "chicken",
    "shark",
    "whale",
]
SYLLABLES = [
    "ka",
    "lo",
    "mi",
    "nu",
    "pe",
    "ra",
    "si",
    "to",
    "vu",
    "we",
    "xa",
    "yo",
    "zi",
    "bo",
    "cu",
    "da",
    "fe",
    "gi",
    "ha",
    "je",
]


def vocabulary(rng: random.Random, size: int) -> list[str]:
    rare = {"".join(rng.choices(SYLLABLES, k=rng.randint(2, 4))) for _ in range(size * 2)}
    return list(dict.fromkeys([*COMMON, *sorted(rare)]))[:size]


def zipf_picker(words: list[str], rng: random.Random) -> Callable[[int], list[str]]:
    """Half the words from the common ones (evenly: each in about 5% of GIFs), half
    from the rare tail by Zipf's law."""
    common, rare = words[: len(COMMON)], words[len(COMMON) :]
    cumulative = list(itertools.accumulate(1 / (rank + 1) for rank in range(len(rare))))

    def pick(k: int) -> list[str]:
        return [
            rng.choice(common)
            if rng.random() < 0.5
            else rng.choices(rare, cum_weights=cumulative)[0]
            for _ in range(k)
        ]

    return pick


def fill(engine: object, n: int, pick: Callable[[int], list[str]], rng: random.Random) -> None:
    info = GifInfo(width=320, height=240, frames=12, duration_ms=1200, loop_count=0, version="89a")
    start = datetime(2026, 1, 1, tzinfo=UTC)
    for first in range(0, n, 5000):
        content_rows, asset_rows = [], []
        for i in range(first, min(n, first + 5000)):
            sha = f"{i:064x}"
            meta = AssetMetadata(
                " ".join(pick(rng.randint(2, 5))).capitalize(),
                tuple(dict.fromkeys(pick(3))),
                " ".join(pick(rng.randint(0, 12))),
            )
            now = start + timedelta(seconds=i)
            content_rows.append(_content_row(sha, 50_000 + i, info, now))
            asset_rows.append(_row(f"{i:016x}", sha, meta, AssetStatus.APPROVED, None, now))
        with engine.begin() as conn:  # type: ignore[attr-defined]
            conn.execute(insert(contents), content_rows)
            conn.execute(insert(assets), asset_rows)


def percentiles(samples: list[float]) -> str:
    cuts = statistics.quantiles(samples, n=100)
    return f"p50 {cuts[49]:6.2f} ms  p95 {cuts[94]:6.2f} ms  p99 {cuts[98]:6.2f} ms"


def timed(run: Callable[[], object]) -> float:
    began = time.perf_counter()
    run()
    return (time.perf_counter() - began) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--gifs", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=400, help="queries of each kind")
    parser.add_argument("--database-url", help="default: a temporary SQLite file")
    args = parser.parse_args()
    rng = random.Random(18)
    words = vocabulary(rng, 20_000)
    pick = zipf_picker(words, rng)
    with tempfile.TemporaryDirectory() as tmp:
        engine = create_database_engine(args.database_url or f"sqlite:///{Path(tmp) / 's.db'}")
        upgrade_database(engine)
        began = time.perf_counter()
        fill(engine, args.gifs, pick, rng)
        print(
            f"{args.gifs:,} GIFs written in {time.perf_counter() - began:.1f} s ({engine.dialect.name})"
        )
        asset_store = SqlAssetStore(engine)
        catalog = SearchCatalog(SqlSearchStore(engine), Analyzer("english"), lookup=asset_store.get)

        def pages(limit: int, offset: int) -> list:  # type: ignore[type-arg]
            return asset_store.list(
                status=AssetStatus.APPROVED, oldest_first=True, limit=limit, offset=offset
            )

        began = time.perf_counter()
        added = catalog.add_all(every_asset(pages, page_size=2000))
        took = time.perf_counter() - began
        print(f"indexed {added:,} GIFs in {took:.1f} s ({added / took:,.0f} GIFs/s)")
        common, rare = COMMON[:40], words[len(COMMON) : len(COMMON) + 2000]
        kinds: dict[str, Callable[[], str]] = {
            "most frequent rare word": lambda: rare[0],
            "one common word": lambda: rng.choice(common),
            "two common words": lambda: f"{rng.choice(common)} {rng.choice(common)}",
            "one rare word": lambda: rng.choice(rare),
        }
        samples: dict[str, list[float]] = {
            k: [] for k in [*kinds, "prefix (2-4 letters)", "LIKE baseline"]
        }
        for _ in range(20):  # warm caches
            catalog.search(rng.choice(common), limit=20)
        for _ in range(args.queries):
            for kind, make in kinds.items():
                q = make()
                samples[kind].append(timed(lambda q=q: catalog.search(q, limit=20)))
            typed = rng.choice(common)[: rng.randint(2, 4)]
            samples["prefix (2-4 letters)"].append(
                timed(lambda t=typed: catalog.search(t, limit=20, prefix=True))
            )
            word = rng.choice(common + rare)
            samples["LIKE baseline"].append(
                timed(
                    lambda w=word: asset_store.list(status=AssetStatus.APPROVED, search=w, limit=20)
                )
            )
        everything = [s for k, v in samples.items() if k != "LIKE baseline" for s in v]
        for kind, values in samples.items():
            print(f"{kind:>22}: {percentiles(values)}")
        print(f"{'all full-text':>22}: {percentiles(everything)}")
        engine.dispose()


if __name__ == "__main__":
    main()
