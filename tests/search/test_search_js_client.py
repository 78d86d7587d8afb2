"""GIPHY's JavaScript client (@giphy/js-fetch-api from npm) gets results from gifdist.

The client is installed by ``make js-deps`` (``npm ci`` in tests/js) and pointed at a
real server process with its own ``setServerUrl``; it parses gifdist's answers with
its normalisers (numbers from strings, ``meta.response_id`` required).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import httpx
import pytest
from conftest import REQUIRE_SERVICES
from gif_factory import make_gif
from servers import SERVER_KEY, running_server

pytestmark = pytest.mark.server

JS = Path(__file__).parent.parent / "js"


def node_client() -> list[str]:
    node = shutil.which("node")
    if node is None or not (JS / "node_modules" / "@giphy" / "js-fetch-api").is_dir():
        message = "node or tests/js/node_modules is missing: run `make js-deps`"
        if REQUIRE_SERVICES:
            pytest.fail(message)
        pytest.skip(message)
    return [node, str(JS / "giphy_fetch.mjs")]


def test_giphys_javascript_client_searches_gifdist(tmp_path: Path) -> None:
    command = node_client()
    with running_server(tmp_path) as server:
        for i, title in enumerate(["Dancing cat", "Sleepy cats", "Happy dog"]):
            response = httpx.post(
                f"{server.base}/api/v1/assets",
                headers={"Authorization": f"Bearer {SERVER_KEY}"},
                files={
                    "file": ("f.gif", make_gif(width=50, height=20, seed=1870 + i), "image/gif")
                },
                data={"title": title},
            )
            assert response.status_code == 201, response.text
        done = subprocess.run(
            [*command, server.base, SERVER_KEY, "cat"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert done.returncode == 0, done.stderr
    parsed = json.loads(done.stdout)
    search = parsed["search"]
    assert search["pagination"] == {"total_count": 2, "count": 2, "offset": 0}
    assert search["title"] == "Sleepy cats"
    assert search["original"]["width"] == 50 and search["original"]["height"] == 20
    assert search["original"]["url"] == f"{server.base}/a/{search['ids'][0]}.gif"
    assert search["fixed_height"]["url"] == search["original"]["url"]
    assert len(parsed["trending"]) == 3
    assert parsed["one"] == search["ids"][0]
    assert parsed["many"] == parsed["trending"]
    assert parsed["refused"]["status"] == 401
