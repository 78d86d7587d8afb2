"""What each platform's bot is shown, the player page, oEmbed and the asset page's video."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from conftest import ADMIN_KEY, make_settings
from gif_factory import make_gif
from starlette.testclient import TestClient

from gifdist.analytics import Platform
from gifdist.assets import AssetMetadata
from gifdist.media.cards import WHATSAPP_MAX_IMAGE_BYTES, CardImage, card_for
from gifdist.media.rendition_store import StoredRendition
from gifdist.media.renditions import RenditionKind
from gifdist.platforms import card_bot, classify_user_agent
from gifdist.web.app import create_app
from gifdist.wiring import Service

K = RenditionKind
BOTS = {
    "discord": "Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)",
    "facebook": "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
    "telegram": "TelegramBot (like TwitterBot)",
    "twitter": "Twitterbot/1.0",
    "whatsapp": "WhatsApp/2.23.20.0 A",
    "slack": "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
}


@dataclass
class Site:
    client: TestClient
    service: Service
    base: str
    asset_id: str
    code: str

    def card(self, bot: str, *, via_page: bool = False) -> dict[str, list[str]]:
        path = f"/a/{self.asset_id}" if via_page else f"/s/{self.code}"
        response = self.client.get(path, headers={"User-Agent": BOTS[bot]})
        assert response.status_code == 200, response.text
        return meta_tags(response.text)

    def url(self, suffix: str) -> str:
        return f"{self.base}/a/{self.asset_id}{suffix}"


def meta_tags(html: str) -> dict[str, list[str]]:
    tags: dict[str, list[str]] = {}
    for name, content in re.findall(r'<meta (?:property|name)="([^"]+)" content="([^"]*)"', html):
        tags.setdefault(name, []).append(content)
    return tags


def make_site(tmp_path: Path, base: str, *, convert: bool = True) -> Iterator[Site]:
    settings = make_settings(
        tmp_path, f"sqlite:///{tmp_path / 'gifdist.db'}", renditions="on", base_url=base
    )
    service = Service(settings)
    try:
        path = tmp_path / "cat.gif"
        make_gif(path, width=300, height=160, frames=6, seed=5, pattern="stripes")
        asset = service.uploads.ingest_file(path, AssetMetadata(title="Cat"), None).asset
        if convert:
            assert service.renditions.run_next() == asset.sha256
        client = TestClient(create_app(service=service), base_url=base)  # no worker thread
        client.headers["Authorization"] = f"Bearer {ADMIN_KEY}"
        code = client.post(f"/api/v1/assets/{asset.asset_id}/links", json={}).json()["short_code"]
        yield Site(client, service, base, asset.asset_id, code)
    finally:
        service.close()


@pytest.fixture
def https_site(tmp_path: Path) -> Iterator[Site]:
    yield from make_site(tmp_path, "https://gifdist.test")


@pytest.fixture
def http_site(tmp_path: Path) -> Iterator[Site]:
    yield from make_site(tmp_path, "http://gifdist.test")


@pytest.mark.parametrize("bot", ["discord", "facebook", "telegram"])
def test_video_platforms_get_the_mp4_as_og_video(https_site: Site, bot: str) -> None:
    tags = https_site.card(bot)
    mp4 = https_site.url(".mp4")
    assert tags["og:type"] == ["video.other"]
    assert tags["og:video"] == [mp4]
    assert tags["og:video:secure_url"] == [mp4]
    assert tags["og:video:type"] == ["video/mp4"]
    assert tags["og:video:width"] == ["300"] and tags["og:video:height"] == ["160"]
    assert tags["og:image"] == [https_site.url(".jpg")]
    assert tags["og:image:type"] == ["image/jpeg"]


def test_over_plain_http_og_video_has_no_secure_url(http_site: Site) -> None:
    tags = http_site.card("discord")
    assert tags["og:video"] == [http_site.url(".mp4")]
    assert "og:video:secure_url" not in tags


def test_x_gets_a_player_card_over_https(https_site: Site) -> None:
    tags = https_site.card("twitter")
    assert tags["twitter:card"] == ["player"]
    assert tags["twitter:player"] == [https_site.url("/player")]
    assert tags["twitter:player:width"] == ["300"] and tags["twitter:player:height"] == ["160"]
    assert tags["twitter:player:stream"] == [https_site.url(".mp4")]
    assert tags["twitter:player:stream:content_type"] == ["video/mp4"]
    assert tags["twitter:image"] == [https_site.url(".jpg")]


def test_x_over_http_falls_back_to_the_still_as_a_large_image(http_site: Site) -> None:
    tags = http_site.card("twitter")
    assert tags["twitter:card"] == ["summary_large_image"]
    assert tags["twitter:image"] == [http_site.url(".jpg")]
    assert "twitter:player" not in tags


def test_whatsapp_gets_a_small_image(https_site: Site) -> None:
    tags = https_site.card("whatsapp")
    assert tags["og:image"] == [https_site.url(".jpg")]
    still = https_site.service.renditions.renditions(
        https_site.service.catalog.get(https_site.asset_id).sha256  # type: ignore[union-attr]
    )[K.STILL]
    assert still.bytes < WHATSAPP_MAX_IMAGE_BYTES
    assert "og:video" not in tags


def test_slack_keeps_the_gif_it_animates(https_site: Site) -> None:
    tags = https_site.card("slack")
    assert tags["og:image"] == [https_site.url(".gif")]
    assert tags["og:image:type"] == ["image/gif"]
    assert "og:video" not in tags and tags["og:type"] == ["website"]


def test_the_asset_page_gives_bots_the_same_card(https_site: Site) -> None:
    assert https_site.card("discord", via_page=True)["og:video"] == [https_site.url(".mp4")]
    assert https_site.card("twitter", via_page=True)["twitter:card"] == ["player"]


def test_before_renditions_are_made_every_bot_gets_the_gif(tmp_path: Path) -> None:
    for site in make_site(tmp_path, "https://gifdist.test", convert=False):
        for bot in ("discord", "twitter", "slack", "whatsapp"):
            tags = site.card(bot)
            assert tags["og:image"] == [site.url(".gif")], bot
            assert "og:video" not in tags and tags["twitter:card"] == ["summary_large_image"]


def test_telegram_is_not_counted_as_x() -> None:
    assert classify_user_agent(BOTS["telegram"]) == ("bot", Platform.OTHER)
    assert card_bot(BOTS["telegram"]) == "telegram"
    assert card_bot(BOTS["twitter"]) == "twitter"
    assert card_bot("Mozilla/5.0 Firefox/128.0") is None
    assert card_bot("LinkedInBot/1.0") == "other"


def stored(kind: RenditionKind, size: int, width: int = 300) -> StoredRendition:
    return StoredRendition(
        "a" * 64, kind, "b" * 64, kind.content_type, width, 160, size, datetime.now(UTC)
    )


@pytest.mark.parametrize(
    ("still", "tiny", "gif", "expected"),
    [
        (100_000, 20_000, 5_000_000, "/a/x.jpg"),
        (400_000, 20_000, 5_000_000, "/a/x/tiny.jpg"),
        (None, None, 200_000, "/a/x.gif"),
        (None, None, 400_000, None),
        (400_000, 310_000, 400_000, None),
    ],
)
def test_whatsapp_image_stays_under_300_kb(
    still: int | None, tiny: int | None, gif: int, expected: str | None
) -> None:
    renditions = {}
    if still is not None:
        renditions[K.STILL] = stored(K.STILL, still)
    if tiny is not None:
        renditions[K.TINY_STILL] = stored(K.TINY_STILL, tiny, width=220)
    image = CardImage("/a/x.gif", "image/gif", 300, 160)
    card = card_for("whatsapp", "/a/x", image, gif, renditions)
    assert (card.image.url if card.image else None) == expected


def test_the_player_page_is_a_bare_looping_video(https_site: Site) -> None:
    page = https_site.client.get(f"/a/{https_site.asset_id}/player")
    assert page.status_code == 200
    html = page.text
    assert re.search(r"<video [^>]*autoplay loop muted playsinline", html)
    assert f'<source src="{https_site.url(".mp4")}" type="video/mp4">' in html
    assert f'poster="{https_site.url(".jpg")}"' in html
    tiny = https_site.client.get(f"/a/{https_site.asset_id}/player?size=tiny").text
    assert f'<source src="{https_site.url("/tiny.mp4")}"' in tiny
    assert "x-frame-options" not in page.headers
    policy = page.headers["content-security-policy"]
    assert "frame-ancestors *" in policy and "media-src *" in policy


def test_other_pages_may_not_be_framed_but_play_video(https_site: Site) -> None:
    page = https_site.client.get(f"/a/{https_site.asset_id}")
    assert page.headers["x-frame-options"] == "DENY"
    policy = page.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in policy and "media-src *" in policy


def test_the_player_of_a_private_gif_is_not_served(https_site: Site) -> None:
    https_site.client.patch(f"/api/v1/assets/{https_site.asset_id}", json={"private": True})
    assert https_site.client.get(f"/a/{https_site.asset_id}/player").status_code == 404


def oembed(site: Site, **params: Any) -> Any:
    return site.client.get("/oembed", params={"url": f"{site.base}/a/{site.asset_id}", **params})


def test_oembed_is_a_video_with_the_player(https_site: Site) -> None:
    body = oembed(https_site).json()
    assert body["type"] == "video"
    assert (body["width"], body["height"]) == (300, 160)
    assert f'src="{https_site.url("/player")}"' in body["html"]
    assert 'width="300" height="160"' in body["html"]
    assert body["thumbnail_url"] == https_site.url(".jpg")
    assert (body["thumbnail_width"], body["thumbnail_height"]) == (300, 160)
    assert "url" not in body


def test_oembed_maxwidth_picks_the_tiny_rendition_that_fits(https_site: Site) -> None:
    body = oembed(https_site, maxwidth=250).json()
    assert body["width"] == 220 and body["height"] <= 120
    assert f'src="{https_site.url("/player")}?size=tiny"' in body["html"]
    assert body["thumbnail_url"] == https_site.url("/tiny.jpg")
    smaller = oembed(https_site, maxwidth=100, maxheight=40).json()
    assert smaller["width"] <= 100 and smaller["height"] <= 40
    assert "?size=tiny" in smaller["html"]


def test_oembed_before_renditions_is_the_gif_as_a_photo(tmp_path: Path) -> None:
    for site in make_site(tmp_path, "https://gifdist.test", convert=False):
        body = oembed(site, maxwidth=150).json()
        assert body["type"] == "photo"
        assert body["url"] == site.url(".gif")
        assert body["width"] == 150 and "html" not in body


def test_oembed_answers_head_and_is_discoverable_by_link_header(https_site: Site) -> None:
    head = https_site.client.head(
        "/oembed", params={"url": f"{https_site.base}/a/{https_site.asset_id}"}
    )
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-type"] == "application/json"
    page = https_site.client.get(f"/a/{https_site.asset_id}")
    link = page.headers["link"]
    assert link.startswith("<https://gifdist.test/oembed?format=json&url=")
    assert 'rel="alternate"; type="application/json+oembed"' in link
    # bots get their card; a signed-in person gets their own (never cached) page
    assert page.headers["vary"] == "User-Agent, Cookie"
    card = https_site.client.get(f"/s/{https_site.code}", headers={"User-Agent": BOTS["slack"]})
    assert card.headers["link"] == link


def test_the_asset_page_plays_the_video_with_webp_and_gif_fallbacks(https_site: Site) -> None:
    html = https_site.client.get(f"/a/{https_site.asset_id}").text
    video = re.search(r"<video [^>]*>", html)
    assert video is not None
    tag = video.group(0)
    assert "autoplay loop muted playsinline" in tag
    assert f'poster="{https_site.url(".jpg")}"' in tag
    assert f'<source src="{https_site.url(".mp4")}" type="video/mp4">' in html
    template = html.split('<template class="gif-fallback">', 1)[1].split("</template>", 1)[0]
    assert f'<source srcset="{https_site.url(".webp")}" type="image/webp">' in template
    assert f'src="{https_site.url(".gif")}"' in template
    # the GIF is fetched only from the template (when the video cannot play)
    assert html.count(f'src="{https_site.url(".gif")}"') == 1
