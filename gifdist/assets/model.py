"""Assets: what an uploaded GIF is, the rules for its metadata and visibility."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from gifdist.errors import InvalidInput, PayloadTooLarge


class AssetStatus(StrEnum):
    """Where an asset stands in moderation. Only APPROVED is served publicly."""

    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    FLAGGED = "flagged"


@dataclass(frozen=True, slots=True)
class AssetMetadata:
    """User-supplied text about an asset, already validated."""

    title: str = ""
    tags: tuple[str, ...] = ()
    description: str = ""


@dataclass(frozen=True, slots=True)
class MetadataLimits:
    max_title_chars: int = 300
    max_description_chars: int = 5000
    max_tags: int = 20
    max_tag_chars: int = 50


@dataclass(frozen=True, slots=True)
class AssetRecord:
    """A stored asset row."""

    asset_id: str
    sha256: str
    bytes: int
    content_type: str
    width: int
    height: int
    frames: int
    duration_ms: int
    title: str
    description: str
    tags: tuple[str, ...]
    status: AssetStatus
    private: bool
    owner_key_id: str | None
    created_at: datetime
    updated_at: datetime
    moderation: dict[str, Any] | None = field(default=None)

    @property
    def is_public(self) -> bool:
        """True when anyone may see the asset without a signed URL."""
        return self.status is AssetStatus.APPROVED and not self.private

    def to_json(self, base_url: str) -> dict[str, Any]:
        """The API representation."""
        return {
            "asset_id": self.asset_id,
            "sha256": self.sha256,
            "canonical_url": f"{base_url}/a/{self.asset_id}",
            "gif_url": f"{base_url}/a/{self.asset_id}.gif",
            "width": self.width,
            "height": self.height,
            "frames": self.frames,
            "duration_ms": self.duration_ms,
            "bytes": self.bytes,
            "status": self.status.value,
            "private": self.private,
            "title": self.title,
            "tags": list(self.tags),
            "description": self.description,
            "created_at": self.created_at.isoformat(),
        }


def clean_text(value: str, *, field_name: str, limit: int, multiline: bool = False) -> str:
    """Normalise user text (NFC, no control characters, trimmed) and enforce ``limit``."""
    if not isinstance(value, str):
        raise InvalidInput(f"{field_name} must be text", code=f"invalid_{field_name}")
    text = unicodedata.normalize("NFC", value)
    allowed = {"\n", "\t"} if multiline else set()
    text = "".join(
        ch if ch in allowed or unicodedata.category(ch)[0] != "C" else " " for ch in text
    ).strip()
    if len(text) > limit:
        raise PayloadTooLarge(
            f"{field_name} is {len(text)} characters; the limit is {limit}",
            code=f"{field_name}_too_long",
        )
    return text


def parse_tags(raw: str | Iterable[str] | None, limits: MetadataLimits) -> tuple[str, ...]:
    """Tags from a comma-separated string or a list: trimmed, deduplicated, bounded."""
    if raw is None:
        return ()
    items = raw.split(",") if isinstance(raw, str) else list(raw)
    tags: list[str] = []
    for item in items:
        tag = clean_text(item, field_name="tag", limit=limits.max_tag_chars)
        if tag and tag.casefold() not in {t.casefold() for t in tags}:
            tags.append(tag)
    if len(tags) > limits.max_tags:
        raise InvalidInput(
            f"{len(tags)} tags given; at most {limits.max_tags} are allowed", code="too_many_tags"
        )
    return tuple(tags)


def clean_metadata(
    title: str | None,
    tags: str | Iterable[str] | None,
    description: str | None,
    limits: MetadataLimits,
) -> AssetMetadata:
    """Validate and normalise user metadata; raise ``InvalidInput``/``PayloadTooLarge``."""
    return AssetMetadata(
        title=clean_text(title or "", field_name="title", limit=limits.max_title_chars),
        tags=parse_tags(tags, limits),
        description=clean_text(
            description or "",
            field_name="description",
            limit=limits.max_description_chars,
            multiline=True,
        ),
    )


_ID_PATTERN = re.compile(r"[0-9a-f]{1,64}")


def is_valid_asset_id(asset_id: object) -> bool:
    """Asset ids are 1–64 lower-case hex characters; anything else is never looked up."""
    return isinstance(asset_id, str) and _ID_PATTERN.fullmatch(asset_id) is not None
