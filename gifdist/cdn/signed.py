"""Which GIFs need signed URLs, checking signatures, and minting them for owners."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlparse

from gifdist.accounts.keys import ApiKey
from gifdist.assets.access import AccessPolicy
from gifdist.assets.model import AssetRecord, AssetStatus
from gifdist.cdn.http import SignedURL
from gifdist.config import Settings
from gifdist.errors import Conflict, InvalidInput

NO_SUCH_GIF = "There is no such GIF."


class SignedDelivery:
    """Private GIFs (and, with ``require_signed_urls``, all) go out only signed."""

    def __init__(self, signer: SignedURL, access: AccessPolicy, settings: Settings) -> None:
        self.signer = signer
        self.access = access
        self.base_url = settings.base_url
        self.require_all = settings.require_signed_urls
        self.max_seconds = settings.signed_url_max_seconds

    def needs_signature(self, record: AssetRecord) -> bool:
        return record.private or self.require_all

    def check(self, path: str, query: str) -> str | None:
        """None when ``path?query`` carries a valid signature, else the reason it does not."""
        valid, reason = self.signer.validate_signed_url(f"http://signed{path}?{query}")
        return None if valid else (reason or "invalid signature")

    def refusal(self, path: str, query: str) -> tuple[int, str] | None:
        """Why ``path?query`` may not have a GIF that needs a signature: None when the
        signature is valid; (404, as for an unknown GIF) when no signed-URL parameter was
        sent at all, so such an id cannot be told from one that does not exist; else
        (403, the reason), which the holder of an expired or broken URL needs."""
        problem = self.check(path, query)
        if problem is None:
            return None
        names = (SignedURL.SIGNATURE, SignedURL.EXPIRES, SignedURL.KEY_ID)
        if not any(name in names for name, _ in parse_qsl(query, keep_blank_values=True)):
            return 404, NO_SUCH_GIF
        return 403, f"This GIF needs a valid signed URL: {problem}."

    def sign(self, url: str, seconds: int) -> str:
        return self.signer.generate_signed_url(url, seconds)

    def urls(self, record: AssetRecord, expires_in: Any, key: ApiKey | None) -> dict[str, Any]:
        """Signed URLs for an asset's bytes and page, valid ``expires_in`` seconds.

        Only the uploader or an admin may mint them; only approved GIFs are served.
        """
        self.access.check_manage(key, record, "make signed URLs for this GIF")
        limit = self.max_seconds
        if (
            isinstance(expires_in, bool)
            or not isinstance(expires_in, int)
            or not 0 < expires_in <= limit
        ):
            raise InvalidInput(
                f"expires_in must be between 1 and {limit} seconds", code="bad_expiry"
            )
        if record.status is not AssetStatus.APPROVED:
            raise Conflict(f"this GIF is {record.status.value}; only approved GIFs are served")
        base = f"{self.base_url}/a/{record.asset_id}"
        gif = self.sign(base + ".gif", expires_in)
        page = self.sign(base, expires_in)
        expires = int(dict(parse_qsl(urlparse(gif).query))[SignedURL.EXPIRES])
        return {
            "asset_id": record.asset_id,
            "gif_url": gif,
            "page_url": page,
            "expires_at": datetime.fromtimestamp(expires, UTC).isoformat(),
            "key_id": self.signer.active_key_id,
        }


def make_signer(settings: Settings, secret_key: bytes) -> SignedURL:
    """Signed-URL keys from settings, or one key derived from the secret key."""
    keys: dict[str, str | bytes] = {
        kid: value.get_secret_value() for kid, value in settings.signing_keys.items()
    }
    if not keys:
        keys = {"k1": hmac.new(secret_key, b"signed-urls", hashlib.sha256).digest()}
    active = settings.signing_key_id or list(keys)[-1]
    try:
        return SignedURL(keys, active_key_id=active, clock_skew=settings.signed_url_skew_seconds)
    except ValueError as exc:
        raise InvalidInput(f"signed-URL settings: {exc}", code="bad_settings") from None
