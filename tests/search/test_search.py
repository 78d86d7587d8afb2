"""The search contract: one suite run on the in-memory store, SQLite FTS5 and PostgreSQL."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import pytest
from search_library import Library, open_library

from gifdist.analytics import EventType
from gifdist.assets import AssetStatus
from gifdist.errors import InvalidInput
from gifdist.search import Analyzer


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def library(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Library]:
    """The same library on the in-memory store, SQLite FTS5 and PostgreSQL."""
    yield from open_library(request.param, request, tmp_path)


HOSTILE_QUERIES = [
    '"',
    '"cat',
    "cat*",
    "*",
    "NEAR(cat dog)",
    "cat OR dog",
    "cat AND",
    "-cat",
    "cat -dog",
    "'; DROP TABLE assets; --",
    "cat:*",
    "cat & dog | !mouse",
    "\\",
    "%",
    "_",
    "{title}: cat",
    "^cat",
    "(((",
    "😺🐶",
    "\x00cat",
    "cat\u202e",
]


def test_plural_finds_singular_and_inflections_match(library: Library) -> None:
    cat = library.add("A cat on a keyboard")
    running = library.add("Dog running in the park")
    assert library.search("cats") == [cat]
    assert library.search("CAT") == [cat]
    assert library.search("runs") == [running]
    assert library.search("horse") == []


def test_title_ranks_above_tags_above_description(library: Library) -> None:
    in_description = library.add("Morning", description="a sleepy otter")
    in_tags = library.add("Evening", tags=["otter"])
    in_title = library.add("Otter waves")
    assert library.search("otter") == [in_title, in_tags, in_description]


def test_every_word_must_match_and_more_title_words_rank_higher(library: Library) -> None:
    both_title = library.add("happy dance")
    one_title = library.add("happy birthday", tags=["dance"])
    only_happy = library.add("happy")
    assert library.search("happy dance") == [both_title, one_title]
    assert only_happy in library.search("happy")


def test_ties_go_to_the_newest(library: Library) -> None:
    older = library.add("wave")
    newer = library.add("wave")
    assert library.search("wave") == [newer, older]


def test_prefix_matches_for_search_as_you_type(library: Library) -> None:
    dancing = library.add("Dancing banana")
    library.add("Danish pastry")
    assert library.search("danc", prefix=True) == [dancing]
    assert library.search("banana danci", prefix=True) == [dancing]
    assert library.search("banan") == []  # without prefix only whole words match


def test_accents_and_case_fold(library: Library) -> None:
    cafe = library.add("Café Ünïcode")
    assert library.search("cafe unicode") == [cafe]
    assert library.search("CAFÉ") == [cafe]


@pytest.mark.parametrize("status", [AssetStatus.PENDING, AssetStatus.FLAGGED, AssetStatus.REJECTED])
def test_unapproved_gifs_never_appear(library: Library, status: AssetStatus) -> None:
    hidden = library.add("secret walrus", tags=["walrus"], status=status)
    assert library.search("walrus") == []
    assert library.catalog.autocomplete("wal", limit=5) == []
    assert library.catalog.categories(limit=5) == []
    library.set_status(hidden, AssetStatus.APPROVED)
    assert library.search("walrus") == [hidden]


def test_moderation_taking_a_gif_down_removes_it(library: Library) -> None:
    gif = library.add("walrus", tags=["walrus"])
    library.set_status(gif, AssetStatus.FLAGGED)
    assert library.search("walrus") == []
    assert library.catalog.featured(limit=10).asset_ids == ()


def test_private_gifs_never_appear(library: Library) -> None:
    hidden = library.add("private walrus", private=True)
    shown = library.add("public walrus")
    assert library.search("walrus") == [shown]
    library.set_private(shown, True)
    library.set_private(hidden, False)
    assert library.search("walrus") == [hidden]


def test_deleted_gifs_never_appear(library: Library) -> None:
    gif = library.add("walrus", tags=["tusks"])
    library.delete(gif)
    assert library.search("walrus") == []
    assert library.catalog.autocomplete("tus", limit=5) == []
    assert library.catalog.categories(limit=5) == []


def test_metadata_edits_are_searchable(library: Library) -> None:
    gif = library.add("walrus", tags=["tusks"])
    library.edit(gif, title="penguin", tags=["ice"])
    assert library.search("walrus") == []
    assert library.search("tusks") == []
    assert library.search("penguin ice") == [gif]


@pytest.mark.parametrize("query", HOSTILE_QUERIES)
def test_query_syntax_is_never_syntax(library: Library, query: str) -> None:
    cat = library.add("cat", tags=["dog"], description="mouse")
    found = library.search(query)
    assert found in ([], [cat])
    library.search(query, prefix=True)
    library.catalog.autocomplete(query, limit=5)
    library.catalog.related_tags(query, limit=5)


def test_wordless_and_overlong_queries(library: Library) -> None:
    library.add("cat")
    assert library.search("") == []
    assert library.search("  !!! ") == []
    with pytest.raises(InvalidInput) as caught:
        library.search("cat " * 2500)
    assert caught.value.code == "query_too_long"


def test_pages_and_totals(library: Library) -> None:
    ids = [library.add(f"wave {i}") for i in range(7)]
    first = library.catalog.search("wave", limit=3, offset=0)
    second = library.catalog.search("wave", limit=3, offset=3)
    beyond = library.catalog.search("wave", limit=3, offset=30)
    assert first.total == second.total == beyond.total == 7
    assert beyond.asset_ids == ()
    assert set(first.asset_ids + second.asset_ids) < set(ids)
    assert list(first.asset_ids) == list(reversed(ids))[:3]


def test_tags_categories_and_autocomplete(library: Library) -> None:
    library.add("one", tags=["Happy", "cat"])
    library.add("two", tags=["happy", "dog"])
    newest_happy = library.add("three", tags=["HAPPY birthday", "happy"])
    library.add("hidden", tags=["happy"], private=True)
    categories = library.catalog.categories(limit=2)
    assert [(c.tag.casefold(), c.count) for c in categories][0] == ("happy", 3)
    assert categories[0].asset_id == newest_happy
    completions = library.catalog.autocomplete("hap", limit=5)
    assert [c.casefold() for c in completions] == ["happy", "happy birthday"]
    assert [c.casefold() for c in library.catalog.autocomplete("birth", limit=5)] == [
        "happy birthday"
    ]


def test_related_tags_come_from_the_best_matches(library: Library) -> None:
    library.add("cat nap", tags=["cat", "sleepy", "cute"])
    library.add("cat jump", tags=["cat", "cute"])
    library.add("dog nap", tags=["dog", "sleepy"])
    related = library.catalog.related_tags("cat", limit=5)
    assert [(t.tag, t.count) for t in related] == [("cute", 2), ("sleepy", 1)]


def test_trending_weighs_clicks_and_shares_of_the_last_day_with_decay(library: Library) -> None:
    fresh = library.add("fresh")
    stale = library.add("stale")
    old = library.add("old")
    hidden = library.add("hidden")
    viewed = library.add("viewed")
    library.events(fresh, EventType.SHARE, 3, hours_ago=0.5)
    library.events(stale, EventType.CLICK, 5, hours_ago=20)  # 5 × 2^(-20/6) ≈ 0.5
    library.events(old, EventType.CLICK, 100, hours_ago=30)  # outside the window
    library.events(hidden, EventType.CLICK, 50, hours_ago=1)
    library.events(viewed, EventType.VIEW, 50, hours_ago=1)  # views do not trend
    library.set_private(hidden, True)
    assert library.catalog.trending(limit=10).asset_ids == (fresh, stale)
    featured = library.catalog.featured(limit=10).asset_ids
    assert featured[:2] == (fresh, stale)
    assert set(featured[2:]) == {old, viewed}
    assert library.catalog.featured(limit=2, offset=2).asset_ids == featured[2:4]


def test_language_setting_changes_stemming(tmp_path: object) -> None:
    german = Analyzer("german")
    assert german.stem("katzen") == german.stem("katze")
    assert Analyzer("none").stem("cats") == "cats"
    with pytest.raises(InvalidInput):
        Analyzer("klingon")
    plain = Library(None, language="none")
    plain.add("cat")
    assert plain.search("cats") == []


def test_every_store_ranks_a_random_library_like_the_reference(library: Library) -> None:
    """Same data, same queries: the same ordered ids as the in-memory reference."""
    words = [
        "cat",
        "dog",
        "happy",
        "sad",
        "dance",
        "dancing",
        "wave",
        "party",
        "birthday",
        "cats",
        "run",
        "running",
    ]
    rng = random.Random(18)
    reference = Library(None)
    id_map: dict[str, str] = {}
    for _ in range(60):
        title = " ".join(rng.sample(words, 2))
        tags = rng.sample(words, rng.randint(0, 3))
        description = " ".join(rng.sample(words, rng.randint(0, 4)))
        id_map[reference.add(title, tags, description)] = library.add(title, tags, description)
    for q in ["cat", "dancing", "happy cats", "run party", "wave", "birthday dance sad"]:
        for prefix in (False, True):
            expected = [id_map[a] for a in reference.search(q, limit=100, prefix=prefix)]
            assert library.search(q, limit=100, prefix=prefix) == expected, (q, prefix)


def test_a_rebuild_indexes_exactly_the_public_gifs(library: Library) -> None:
    shown = [library.add(f"wave {i}", tags=["sea"]) for i in range(3)]
    hidden = library.add("wave hidden", private=True)
    pending = library.add("wave pending", status=AssetStatus.PENDING)
    before = library.search("wave")
    records = [library.lookup(a) for a in [*shown, hidden, pending]]
    added = library.catalog.rebuild(r for r in records if r is not None)
    assert added == 3
    assert library.search("wave") == before == list(reversed(shown))
    assert [t.tag for t in library.catalog.store.top_tags(limit=5)] == ["sea"]
    library.catalog.add_all([r for r in records if r is not None])  # again: no duplicates
    assert library.catalog.search("wave", limit=10).total == 3


@pytest.mark.parametrize("prefix", [False, True])
def test_pages_across_title_tag_and_description_matches(library: Library, prefix: bool) -> None:
    for i in range(3):
        library.add(f"otter {i}")
        library.add(f"seal {i}", tags=["otter"])
        library.add(f"walrus {i}", description="an otter nearby")
    everything = library.search("otter", limit=50, prefix=prefix)
    assert len(everything) == 9
    for size in (1, 2, 4):
        paged: list[str] = []
        for offset in range(0, 12, size):
            page = library.catalog.search("otter", limit=size, offset=offset, prefix=prefix)
            assert page.total == 9
            paged += page.asset_ids
        assert paged == everything, size
