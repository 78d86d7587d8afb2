"""An asset's visitor sketch (link '') holds its visitors through links too

Revision ID: 0018
Revises: 0009
Create Date: 2026-12-01 15:40:00

Until now the link-less sketch of a (day, asset, event type, audience) held only the
visitors who came without a link, and an asset's uniques were the union of it with
every link's sketch. From here on a visitor through a link is added to both, so an
asset's uniques read one sketch per day, type and audience. This merges each link's
stored sketches into its asset's. Downgrading keeps them merged: the older code's
union of the asset's sketch with its links' gives the same count.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0009"
branch_labels = None
depends_on = None

sketches = sa.table(
    "analytics_visitor_sketches",
    sa.column("day", sa.BigInteger),
    sa.column("asset_id", sa.String),
    sa.column("short_code", sa.String),
    sa.column("event_type", sa.String),
    sa.column("audience", sa.String),
    sa.column("sketch", sa.LargeBinary),
)


def upgrade() -> None:
    """Day by day (memory stays one day's sketches): union each (asset, type,
    audience)'s sketches, links' and its own, into its own."""
    from gifdist.analytics.sketches import union_of

    bind = op.get_bind()
    s = sketches.c
    days = bind.execute(sa.select(s.day).distinct().order_by(s.day)).scalars().all()
    for day in days:
        groups: dict[tuple[str, str, str], list[bytes]] = {}
        rows = bind.execute(
            sa.select(s.asset_id, s.event_type, s.audience, s.sketch).where(s.day == day)
        )
        for asset, kind, audience, blob in rows:
            if blob:
                groups.setdefault((asset, kind, audience), []).append(bytes(blob))
        bind.execute(sa.delete(sketches).where(s.day == day, s.short_code == ""))
        batch = [
            {
                "day": day,
                "asset_id": asset,
                "short_code": "",
                "event_type": kind,
                "audience": audience,
                "sketch": union_of(blobs),
            }
            for (asset, kind, audience), blobs in sorted(groups.items())
        ]
        for start in range(0, len(batch), 1000):
            op.bulk_insert(sketches, batch[start : start + 1000])


def downgrade() -> None:
    """Nothing to undo: see the module's note."""
