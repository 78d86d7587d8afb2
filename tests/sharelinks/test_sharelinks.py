"""gifdist.sharelinks: the seed API, its stores, and code collisions."""

from __future__ import annotations

import string
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, insert

from gifdist.errors import Conflict, InvalidInput, NotFound
from gifdist.sharelinks import (
    InMemoryShareLinkStore,
    ShareLinkGenerator,
    create_asset_hash,
)
from gifdist.stores.links_sql import SqlShareLinkStore
from gifdist.stores.schema import assets, contents


def test_seed_basic_example_returns_short_and_canonical_urls() -> None:
    generator = ShareLinkGenerator(base_url="https://gifdist.io")
    link_info = generator.create_share_link(
        asset_id="abc123def456", title="Funny Cat GIF", tags=["cat", "funny", "pets"]
    )
    assert set(link_info) == {"short_url", "canonical_url", "short_code"}
    assert link_info["canonical_url"] == "https://gifdist.io/a/abc123def456"
    assert link_info["short_url"] == f"https://gifdist.io/s/{link_info['short_code']}"


def test_seed_hash_based_id_example(tmp_path: Path) -> None:
    gif = tmp_path / "gif.gif"
    gif.write_bytes(b"GIF89a-some-bytes")
    generator = ShareLinkGenerator(base_url="https://gifdist.io")
    file_hash = create_asset_hash(str(gif))
    asset_id = generator.generate_hash_based_id(file_hash)
    assert asset_id == file_hash[:16]
    assert len(file_hash) == 64


def test_resolve_counts_clicks_and_returns_asset_info() -> None:
    generator = ShareLinkGenerator(base_url="https://gifdist.io")
    code = generator.create_share_link("abc123def456", title="Cat")["short_code"]
    first = generator.resolve_short_link(code)
    second = generator.resolve_short_link(code)
    assert first is not None and second is not None
    assert first["asset_id"] == "abc123def456"
    assert (first["clicks"], second["clicks"]) == (1, 2)


def test_resolve_unknown_or_malformed_code_returns_none() -> None:
    generator = ShareLinkGenerator()
    assert generator.resolve_short_link("Zz99Zz99") is None
    assert generator.resolve_short_link("../etc/passwd") is None
    assert generator.resolve_short_link("") is None


def test_short_codes_are_eight_letters_and_digits_and_vary() -> None:
    generator = ShareLinkGenerator()
    codes = {generator.generate_short_code() for _ in range(500)}
    allowed = set(string.ascii_letters + string.digits)
    assert all(len(code) == 8 and set(code) <= allowed for code in codes)
    assert len(codes) == 500


def test_share_metadata_uses_default_title_and_copies_tags() -> None:
    generator = ShareLinkGenerator(base_url="https://gifdist.io")
    tags = ["cat"]
    code = generator.create_share_link("abc123def456", tags=tags)["short_code"]
    tags.append("mutated")
    meta = generator.get_share_metadata(code)
    assert meta is not None
    assert meta["tags"] == ["cat"]
    assert meta["title"]
    assert meta["canonical_url"] == "https://gifdist.io/a/abc123def456"
    meta["tags"].append("also-mutated")
    assert generator.get_share_metadata(code)["tags"] == ["cat"]  # type: ignore[index]
    assert generator.get_share_metadata("nope1234") is None


def test_stored_records_are_not_aliased_to_returned_dicts() -> None:
    generator = ShareLinkGenerator()
    code = generator.create_share_link("a1")["short_code"]
    record = generator.resolve_short_link(code)
    assert record is not None
    record["asset_id"] = "tampered"
    assert generator.resolve_short_link(code)["asset_id"] == "a1"  # type: ignore[index]


def test_colliding_code_is_redrawn_not_overwritten() -> None:
    generator = ShareLinkGenerator()
    draws = iter(["AAAAAAAA", "AAAAAAAA", "BBBBBBBB"])
    generator.generate_short_code = lambda: next(draws)  # type: ignore[method-assign]
    first = generator.create_share_link("first")
    second = generator.create_share_link("second")
    assert (first["short_code"], second["short_code"]) == ("AAAAAAAA", "BBBBBBBB")
    assert generator.resolve_short_link("AAAAAAAA")["asset_id"] == "first"  # type: ignore[index]


def test_exhausted_code_space_raises_conflict() -> None:
    generator = ShareLinkGenerator()
    generator.generate_short_code = lambda: "AAAAAAAA"  # type: ignore[method-assign]
    generator.create_share_link("first")
    with pytest.raises(Conflict):
        generator.create_share_link("second")


@pytest.mark.parametrize("bad", ["", "   ", None, 12])
def test_invalid_asset_id_is_refused(bad: object) -> None:
    with pytest.raises(InvalidInput):
        ShareLinkGenerator().create_share_link(bad)  # type: ignore[arg-type]


def test_invalid_hash_and_base_url_are_refused() -> None:
    with pytest.raises(InvalidInput):
        ShareLinkGenerator().generate_hash_based_id("not-hex!")
    with pytest.raises(ValueError):
        ShareLinkGenerator(base_url="ftp://example.com")


def test_in_memory_store_insert_if_absent_keeps_first() -> None:
    store = InMemoryShareLinkStore()
    assert store.insert_if_absent("code1234", {"asset_id": "a", "clicks": 0})
    assert not store.insert_if_absent("code1234", {"asset_id": "b", "clicks": 0})
    assert store.get("code1234")["asset_id"] == "a"  # type: ignore[index]


def _add_asset(engine: Engine, asset_id: str) -> None:
    now = datetime.now(UTC)
    with engine.begin() as conn:
        conn.execute(
            insert(contents).values(
                sha256=asset_id.ljust(64, "0"),
                bytes=1,
                content_type="image/gif",
                width=1,
                height=1,
                frames=1,
                duration_ms=0,
                created_at=now,
            )
        )
        conn.execute(
            insert(assets).values(
                asset_id=asset_id,
                sha256=asset_id.ljust(64, "0"),
                title="",
                description="",
                tags=[],
                status="approved",
                private=False,
                created_at=now,
                updated_at=now,
            )
        )


def test_sql_store_round_trips_and_counts_clicks(engine: Engine) -> None:
    _add_asset(engine, "abc123")
    generator = ShareLinkGenerator("https://gifdist.io", store=SqlShareLinkStore(engine))
    code = generator.create_share_link("abc123", title="Tïtle <b>", tags=["x", "y"])["short_code"]
    assert generator.resolve_short_link(code)["clicks"] == 1  # type: ignore[index]
    record = generator.resolve_short_link(code)
    assert record is not None
    assert record["clicks"] == 2
    assert record["title"] == "Tïtle <b>"
    assert record["tags"] == ["x", "y"]
    assert generator.resolve_short_link("Nope1234") is None


def test_sql_store_never_overwrites_an_existing_code(engine: Engine) -> None:
    _add_asset(engine, "abc123")
    _add_asset(engine, "def456")
    generator = ShareLinkGenerator(store=SqlShareLinkStore(engine))
    draws = iter(["SAMECODE", "SAMECODE", "OTHERONE"])
    generator.generate_short_code = lambda: next(draws)  # type: ignore[method-assign]
    generator.create_share_link("abc123")
    second = generator.create_share_link("def456")
    assert second["short_code"] == "OTHERONE"
    assert generator.lookup_short_link("SAMECODE")["asset_id"] == "abc123"  # type: ignore[index]


def test_sql_store_refuses_links_to_unknown_assets(engine: Engine) -> None:
    generator = ShareLinkGenerator(store=SqlShareLinkStore(engine))
    with pytest.raises(NotFound):
        generator.create_share_link("doesnotexist")
