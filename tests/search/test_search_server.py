"""The GIF APIs against a real server process, driven the way existing clients drive them.

GIPHY: GIPHY's own Python client (``giphy_client``, the SDK generated from GIPHY's
OpenAPI description), pointed at gifdist with its ``host`` setting, deserialises
gifdist's answers into its models. Tenor: requests with the parameters Tenor's
reference documents, paging by ``next``/``pos`` and registering a share.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import giphy_client
import httpx
import pytest
from gif_factory import make_gif
from servers import SERVER_KEY, RunningServer, running_server

pytestmark = pytest.mark.server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    tmp = tmp_path_factory.mktemp("gif-apis")
    with running_server(
        tmp, GIFDIST_ANALYTICS_FLUSH_SECONDS="0.2", GIFDIST_SEARCH_CACHE_SECONDS="0"
    ) as running:
        for i, (title, tags) in enumerate(
            [("Dancing cat", "cat,party"), ("Sleepy cat", "cat,sleepy"), ("Happy dog", "dog")]
        ):
            response = httpx.post(
                f"{running.base}/api/v1/assets",
                headers={"Authorization": f"Bearer {SERVER_KEY}"},
                files={
                    "file": ("f.gif", make_gif(width=48, height=36, seed=1850 + i), "image/gif")
                },
                data={"title": title, "tags": tags},
            )
            assert response.status_code == 201, response.text
        yield running


def test_giphys_python_client_reads_gifdist(server: RunningServer) -> None:
    api = giphy_client.DefaultApi(giphy_client.ApiClient(host=f"{server.base}/v1"))
    found = api.gifs_search_get(SERVER_KEY, "cats", limit=1, offset=0, rating="g", lang="en")
    assert found.pagination.total_count == 2 and found.pagination.count == 1
    assert found.meta.status == 200
    gif = found.data[0]  # the newest of the two cats (its model has no title field)
    assert gif.url == f"{server.base}/a/{gif.id}" and gif.type == "gif" and gif.rating == "g"
    original = gif.images.original
    assert original.url == f"{server.base}/a/{gif.id}.gif"
    assert (original.width, original.height) == ("48", "36")
    assert httpx.get(original.url).headers["content-type"] == "image/gif"
    assert gif.images.fixed_height_small.url == original.url  # no tiny rendition yet
    one = api.gifs_gif_id_get(SERVER_KEY, gif.id)
    assert one.data.id == gif.id
    trending = api.gifs_trending_get(SERVER_KEY, limit=10)
    assert len(trending.data) == 3
    by_ids = api.gifs_get(SERVER_KEY, ",".join(g.id for g in trending.data[:2]))
    assert [g.id for g in by_ids.data] == [g.id for g in trending.data[:2]]


def tenor(server: RunningServer, path: str, **params: Any) -> Any:
    response = httpx.get(f"{server.base}/v2/{path}", params={"key": SERVER_KEY, **params})
    assert response.status_code == 200, response.text
    return response.json()


def test_a_tenor_style_client_searches_pages_and_registers_shares(server: RunningServer) -> None:
    common = {"client_key": "my_test_app", "locale": "en_US", "contentfilter": "medium"}
    seen: list[str] = []
    pos: str | None = None
    while True:
        page = tenor(
            server, "search", q="cat", limit=1, media_filter="gif,tinygif", **common,
            **({"pos": pos} if pos else {}),
        )  # fmt: skip
        for result in page["results"]:
            assert set(result["media_formats"]) == {"gif", "tinygif"}
            width, height = result["media_formats"]["tinygif"]["dims"]
            assert (width, height) == (48, 36)
            seen.append(result["id"])
        pos = page["next"]
        if not pos:
            break
    assert len(seen) == 2
    words = tenor(server, "autocomplete", q="sle", **common)["results"]
    assert words == ["sleepy"]
    shared = seen[-1]
    assert tenor(server, "registershare", id=shared, q="cat", **common) == {}
    deadline = time.monotonic() + 15
    while tenor(server, "featured", limit=1, **common)["results"][0]["id"] != shared:
        assert time.monotonic() < deadline, "the share never reached trending"
        time.sleep(0.3)
    categories = tenor(server, "categories", **common)["tags"]
    assert categories[0]["searchterm"] == "cat"
    follow = httpx.get(f"{categories[0]['path']}&key={SERVER_KEY}").json()
    assert len(follow["results"]) == 2


def test_errors_keep_each_apis_shape_over_http(server: RunningServer) -> None:
    tenor_error = httpx.get(f"{server.base}/v2/search", params={"q": "cat", "key": "nope"})
    assert tenor_error.status_code == 401
    assert tenor_error.json()["error"]["status"] == "UNAUTHENTICATED"
    giphy_error = httpx.get(
        f"{server.base}/v1/gifs/search", params={"q": "cat", "api_key": SERVER_KEY, "limit": 500}
    )
    assert giphy_error.status_code == 400
    assert giphy_error.json()["meta"]["status"] == 400
