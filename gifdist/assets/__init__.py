"""Assets: one owner's GIF over stored content; metadata rules and uploads."""

from gifdist.assets.model import (
    AssetMetadata,
    AssetRecord,
    AssetStatus,
    MetadataLimits,
    clean_metadata,
    clean_text,
    is_valid_asset_id,
    parse_tags,
)

__all__ = [
    "AssetStatus",
    "AssetMetadata",
    "MetadataLimits",
    "AssetRecord",
    "clean_text",
    "parse_tags",
    "clean_metadata",
    "is_valid_asset_id",
]
