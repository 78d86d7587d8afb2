"""CDN-facing HTTP helpers: cache policies, byte ranges and signed URLs (the seed API)."""

from gifdist.cdn.http import (
    UNSATISFIABLE,
    CachePolicy,
    CDNHelper,
    RangeRequest,
    SignedURL,
    parse_ranges,
)

__all__ = [
    "UNSATISFIABLE",
    "CDNHelper",
    "CachePolicy",
    "RangeRequest",
    "SignedURL",
    "parse_ranges",
]
