"""Who may see, manage, sign, read the stats of, and moderate which GIF: the one policy.

Every entry point (API, pages, CLI, hot paths) asks here. ``None`` as the caller means
a local operator (the CLI on the data directory), who may do everything.
"""

from __future__ import annotations

from collections.abc import Callable

from gifdist.accounts.keys import ApiKey, Scope
from gifdist.assets.model import AssetRecord
from gifdist.errors import Forbidden, NotFound


class AccessPolicy:
    """Decides from the caller's key and the asset's owner, status and privacy."""

    def __init__(self, owned_asset_ids: Callable[[str], list[str]]) -> None:
        self._owned_asset_ids = owned_asset_ids

    @staticmethod
    def sees_everything(key: ApiKey | None) -> bool:
        """Admins (any key with the admin scope) and local operators see every GIF."""
        return key is None or key.allows(Scope.ADMIN)

    def may_manage(self, key: ApiKey | None, record: AssetRecord) -> bool:
        """The uploader and admins may edit, sign, link and read the stats of a GIF."""
        return self.sees_everything(key) or (
            key is not None and record.owner_key_id == key.owner_id
        )

    def check_view(self, key: ApiKey | None, record: AssetRecord) -> None:
        """Anyone with a key sees public GIFs; a pending, flagged, rejected or private
        one only its uploader, moderators and admins. Others get a 404, never details."""
        if record.is_public or self.may_manage(key, record):
            return
        if key is None or not key.allows(Scope.MODERATE):
            raise NotFound(f"no asset with id {record.asset_id!r}")

    def check_manage(self, key: ApiKey | None, record: AssetRecord, action: str) -> None:
        """Only the uploader or an admin may ``action`` a GIF.

        Someone who may not even see it gets the same 404 as for an unknown id.
        """
        if self.may_manage(key, record):
            return
        self.check_view(key, record)
        raise Forbidden(f"only the uploader or an admin may {action}")

    def check_stats(self, key: ApiKey | None, record: AssetRecord) -> None:
        """Uploaders see their own GIFs' stats; admins see everyone's."""
        self.check_manage(key, record, "see this GIF's stats")

    def stats_scope(self, key: ApiKey | None) -> list[str] | None:
        """The assets whose stats ``key`` may see: None (all) for admins and local use."""
        if key is None or self.sees_everything(key):
            return None
        return self._owned_asset_ids(key.owner_id)

    def library_owner(self, key: ApiKey | None) -> str | None:
        """Whose GIFs a library listing shows: None (everyone's) for admins."""
        return None if key is None or self.sees_everything(key) else key.owner_id

    def usage_scope(self, key: ApiKey | None) -> str | None:
        """Whose GIF API usage ``key`` may read: None (every client's) for admins,
        otherwise the calls made with that key only."""
        return None if key is None or self.sees_everything(key) else key.key_id
