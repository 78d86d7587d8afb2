"""Canonical asset URLs and short share links (the seed API)."""

from gifdist.sharelinks.links import (
    InMemoryShareLinkStore,
    ShareLinkGenerator,
    ShareLinkStore,
    create_asset_hash,
)

__all__ = [
    "InMemoryShareLinkStore",
    "ShareLinkGenerator",
    "ShareLinkStore",
    "create_asset_hash",
]
