"""Canonical asset URLs and short share links (the seed API).

Deliberately stricter than the seed: an empty ``asset_id``, a ``base_url`` that is
not http(s) and a content hash that is not hexadecimal raise instead of producing a
URL or id nobody can resolve.
"""

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
