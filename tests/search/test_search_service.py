"""The running service keeps the search index current: upload, moderation, privacy."""

from __future__ import annotations

from pathlib import Path

from conftest import make_settings
from gif_factory import make_gif
from sqlalchemy import text

from gifdist.assets import AssetStatus
from gifdist.wiring import Service


def _upload(service: Service, tmp_path: Path, seed: int, title: str, tags: str = "") -> str:
    path = tmp_path / f"{seed}.gif"
    path.write_bytes(make_gif(width=64, height=64, seed=seed, pattern="stripes"))
    meta = service.uploads.clean_metadata(title, tags, "")
    return service.uploads.ingest_file(path, meta, None).asset.asset_id


def _found(service: Service, q: str) -> list[str]:
    return list(service.search.search(q, limit=10).asset_ids)


def test_uploads_are_searchable_once_approved(service: Service, tmp_path: Path) -> None:
    asset_id = _upload(service, tmp_path, 1, "Dancing cats", "party")
    assert _found(service, "cat party") == [asset_id]


def test_privacy_changes_reach_the_index(service: Service, tmp_path: Path) -> None:
    asset_id = _upload(service, tmp_path, 2, "Waving penguin")
    service.catalog.set_private(asset_id, True, None)
    assert _found(service, "penguin") == []
    service.catalog.set_private(asset_id, False, None)
    assert _found(service, "penguin") == [asset_id]


def test_pending_uploads_wait_for_moderation_and_decisions_reach_the_index(
    tmp_path: Path,
) -> None:
    db = f"sqlite:///{tmp_path / 's.db'}"
    service = Service(make_settings(tmp_path, db, moderation="async"))
    try:
        asset_id = _upload(service, tmp_path, 3, "Sleepy otter")
        assert service.catalog.require(asset_id).status is AssetStatus.PENDING
        assert _found(service, "otter") == []
        service.assets.set_status(asset_id, AssetStatus.APPROVED)
        service.catalog.changed(asset_id)
        assert _found(service, "otter") == [asset_id]
        service.assets.set_status(asset_id, AssetStatus.REJECTED)
        service.catalog.changed(asset_id)
        assert _found(service, "otter") == []
    finally:
        service.close()


def test_postgres_search_uses_the_gin_index(pg_schema_url: str, tmp_path: Path) -> None:
    service = Service(make_settings(tmp_path, pg_schema_url))
    try:
        _upload(service, tmp_path, 4, "cat")
        with service.engine.connect() as conn:
            conn.execute(text("SET enable_seqscan = off"))
            plan = "\n".join(
                row[0]
                for row in conn.execute(
                    text(
                        "EXPLAIN SELECT doc_id FROM search_documents WHERE "
                        "array_to_tsvector(string_to_array(NULLIF(terms, ''), ' ')) "
                        "@@ CAST('cat' AS tsquery)"
                    )
                )
            )
        assert "ix_search_documents_vector" in plan
    finally:
        service.close()


def test_edits_and_deletes_reach_the_index(service: Service, tmp_path: Path) -> None:
    asset_id = _upload(service, tmp_path, 5, "Waving walrus", "beach")
    service.editor.edit(asset_id, None, title="Dancing penguin", tags=["ice"])
    assert _found(service, "walrus") == [] and _found(service, "beach") == []
    assert _found(service, "penguin ice") == [asset_id]
    service.editor.delete(asset_id, None)
    assert _found(service, "penguin") == []
    assert service.search.autocomplete("ic", limit=5) == []
