"""CDN-facing HTTP helpers: cache policies, byte ranges and signed URLs (the seed API).

Deliberately stricter than the seed: Range headers follow RFC 9110 (a malformed or
non-``bytes`` range is ignored and the whole body served, a range starting past the
end is 416), a signed URL's expiry must be positive, and signatures cover every
query parameter and are compared in constant time.
"""

from gifdist.cdn.http import (
    SIGNING_NOT_CONFIGURED,
    UNSATISFIABLE,
    CachePolicy,
    CDNHelper,
    RangeRequest,
    SignedURL,
    parse_ranges,
)

__all__ = [
    "SIGNING_NOT_CONFIGURED",
    "UNSATISFIABLE",
    "CDNHelper",
    "CachePolicy",
    "RangeRequest",
    "SignedURL",
    "parse_ranges",
]
