"""Reports, the review queue, moderator decisions and the audit trail (API, CLI, server)."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest
from gif_factory import make_gif
from servers import SERVER_KEY, running_server
from sqlalchemy import update
from starlette.testclient import TestClient
from typer.testing import CliRunner

from gifdist.accounts.keys import Scope
from gifdist.cli import app as cli
from gifdist.stores.schema import audit_entries
from gifdist.wiring import Service

BROWSER = {"User-Agent": "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"}


def upload(client: TestClient, seed: int, title: str = "a cat") -> str:
    data = make_gif(width=32, height=24, frames=3, seed=seed)
    response = client.post(
        "/api/v1/assets", files={"file": ("a.gif", data, "image/gif")}, data={"title": title}
    )
    assert response.status_code == 201, response.text
    return str(response.json()["asset_id"])


def error_code(response: httpx.Response) -> str:
    return str(response.json()["error"]["code"])


def test_reports_take_a_gif_down_until_a_moderator_decides(
    client: TestClient, service: Service
) -> None:
    asset_id = upload(client, seed=1)
    assert client.get(f"/a/{asset_id}.gif", headers=BROWSER).status_code == 200
    first = client.post(f"/api/v1/assets/{asset_id}/report", json={"reason": "not a cat"})
    assert first.status_code == 202
    assert first.json() == {
        "asset_id": asset_id,
        "accepted": True,
        "reports": 1,
        "under_review": False,
    }
    again = client.post(f"/api/v1/assets/{asset_id}/report", json={"reason": "really"})
    assert again.json()["accepted"] is False and again.json()["reports"] == 1  # one per person
    service.review.report(asset_id, "spam", "198.51.100.2")
    third = service.review.report(asset_id, None, "2001:db8::3")
    assert third["under_review"] is True and third["reports"] == 3
    assert client.get(f"/a/{asset_id}.gif", headers=BROWSER).status_code == 404
    assert client.get(f"/a/{asset_id}", headers=BROWSER).status_code == 404

    queue = client.get("/api/v1/moderation/queue").json()
    assert [item["asset_id"] for item in queue["items"]] == [asset_id]
    assert queue["items"][0]["status"] == "flagged"
    assert set(queue["items"][0]["report_reasons"]) == {"not a cat", "spam", ""}
    assert client.get(queue["items"][0]["content_url"]).status_code == 200  # key holders see it

    decided = client.post(
        f"/api/v1/moderation/assets/{asset_id}/decision",
        json={"decision": "approve", "notes": "it is a cat"},
    )
    assert decided.status_code == 200, decided.text
    assert decided.json()["status"] == "approved"
    assert decided.json()["moderation"]["notes"] == "it is a cat"
    assert client.get(f"/a/{asset_id}.gif", headers=BROWSER).status_code == 200
    assert client.get("/api/v1/moderation/queue").json()["items"] == []
    # reports count again from the review: one new report does not take it down
    assert service.review.report(asset_id, "again", "203.0.113.9")["reports"] == 1

    trail = client.get("/api/v1/moderation/audit", params={"asset_id": asset_id}).json()
    assert [(e["decision"], e["moderator"]) for e in trail["entries"]] == [
        ("flagged", "reports"),
        ("approved", "GIFDIST_ADMIN_KEY (env-admin)"),
    ]


def test_rejection_quarantines_and_an_appeal_restores(client: TestClient, service: Service) -> None:
    data = make_gif(width=32, height=24, frames=3, seed=2)
    created = client.post("/api/v1/assets", files={"file": ("a.gif", data, "image/gif")})
    asset_id = created.json()["asset_id"]
    rejected = client.post(
        f"/api/v1/moderation/assets/{asset_id}/decision",
        json={"decision": "reject", "notes": "gore"},
    )
    assert rejected.json()["status"] == "rejected"
    assert client.get(f"/a/{asset_id}.gif", headers=BROWSER).status_code == 404
    assert service.catalog.blob_path(service.catalog.require(asset_id)) is None  # quarantined
    again = client.post("/api/v1/assets", files={"file": ("b.gif", data, "image/gif")})
    assert again.status_code == 422 and error_code(again) == "content_rejected"

    appeal = client.post(
        f"/api/v1/moderation/assets/{asset_id}/decision", json={"decision": "approved"}
    )
    assert appeal.json()["status"] == "approved"
    served = client.get(f"/a/{asset_id}.gif", headers=BROWSER)
    assert served.status_code == 200 and served.content == data
    reupload = client.post("/api/v1/assets", files={"file": ("b.gif", data, "image/gif")})
    assert reupload.status_code == 200  # the same bytes are welcome again


def test_audit_export_filters_csv_and_verification(
    client: TestClient, service: Service, tmp_path: Path
) -> None:
    first, second = upload(client, seed=3), upload(client, seed=4)
    for asset_id, decision in ((first, "reject"), (second, "flag"), (second, "approve")):
        client.post(f"/api/v1/moderation/assets/{asset_id}/decision", json={"decision": decision})
    everything = client.get("/api/v1/moderation/audit", params={"limit": 0}).json()
    assert [e["decision"] for e in everything["entries"]] == ["rejected", "flagged", "approved"]
    only_approved = client.get("/api/v1/moderation/audit", params={"decision": "approve"}).json()
    assert [e["asset_id"] for e in only_approved["entries"]] == [second]
    future = client.get("/api/v1/moderation/audit", params={"from": "2100-01-01"}).json()
    assert future["count"] == 0
    csv = client.get("/api/v1/moderation/audit", params={"format": "csv"})
    assert csv.headers["content-type"].startswith("text/csv")
    lines = csv.text.splitlines()
    assert lines[0].startswith("timestamp,audit_id,asset_id,decision") and len(lines) == 4
    assert client.get("/api/v1/moderation/audit/verify").json() == {
        "valid": True,
        "entries": 3,
        "first_bad_index": None,
        "first_bad_audit_id": None,
    }
    with service.engine.begin() as conn:  # someone edits history behind our back
        conn.execute(
            update(audit_entries)
            .where(audit_entries.c.asset_id == second, audit_entries.c.decision == "flagged")
            .values(decision="approved")
        )
    broken = client.get("/api/v1/moderation/audit/verify").json()
    assert broken["valid"] is False and broken["first_bad_index"] == 1


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "code"),
    [
        (
            "post",
            "/api/v1/moderation/assets/{id}/decision",
            {"decision": "maybe"},
            400,
            "bad_decision",
        ),
        (
            "post",
            "/api/v1/moderation/assets/{id}/decision",
            {"decision": "approve", "x": 1},
            422,
            "invalid_input",
        ),
        (
            "post",
            "/api/v1/moderation/assets/0123456789abcdef/decision",
            {"decision": "approve"},
            404,
            "not_found",
        ),
        (
            "post",
            "/api/v1/moderation/assets/{id}/decision",
            {"decision": "approve", "notes": "n" * 6000},
            422,
            "invalid_input",
        ),
        ("post", "/api/v1/assets/0123456789abcdef/report", {"reason": "x"}, 404, "not_found"),
        ("post", "/api/v1/assets/{id}/report", {"reason": 5}, 400, "bad_reason"),
        ("post", "/api/v1/assets/{id}/report", {"why": "x"}, 400, "bad_report"),
        ("post", "/api/v1/assets/{id}/report", {"reason": "r" * 2000}, 400, "invalid_input"),
        ("get", "/api/v1/moderation/queue?status=lost", None, 400, "bad_status"),
        ("get", "/api/v1/moderation/audit?decision=perhaps", None, 400, "bad_decision"),
        ("get", "/api/v1/moderation/audit?from=soon", None, 400, "bad_time"),
        ("get", "/api/v1/moderation/audit?format=xml", None, 400, "bad_format"),
    ],
)
def test_bad_moderation_input_gets_precise_errors(
    client: TestClient, method: str, path: str, body: dict | None, status: int, code: str
) -> None:
    asset_id = upload(client, seed=5)
    url = path.replace("{id}", asset_id)
    response = client.post(url, json=body) if method == "post" else client.get(url)
    assert response.status_code == status, response.text
    assert error_code(response) == code
    assert client.get(f"/a/{asset_id}.gif", headers=BROWSER).status_code == 200  # untouched


def test_reports_refuse_garbage_bodies(client: TestClient) -> None:
    asset_id = upload(client, seed=6)
    url = f"/api/v1/assets/{asset_id}/report"
    assert error_code(client.post(url, content=b"{nope")) == "bad_json"
    huge = client.post(url, content=b'{"reason": "' + b"x" * 5000 + b'"}')
    assert huge.status_code == 413
    assert client.post(url).status_code == 202  # no body: a report without a reason


def test_moderator_routes_need_the_moderate_scope(client: TestClient, service: Service) -> None:
    reader, _ = service.keys.create("reader", [Scope.READ, Scope.UPLOAD])
    for path in ("/api/v1/moderation/queue", "/api/v1/moderation/audit"):
        assert client.get(path, headers={"Authorization": f"Bearer {reader}"}).status_code == 403
        assert client.get(path, headers={"Authorization": ""}).status_code == 401


def test_cli_queue_decide_export_and_verify(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GIFDIST_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("GIFDIST_DATABASE_URL", database_url)
    monkeypatch.setenv("GIFDIST_MODERATION", "off")
    monkeypatch.setenv("GIFDIST_REPORT_THRESHOLD", "1")
    runner = CliRunner()
    gif = tmp_path / "g.gif"
    gif.write_bytes(make_gif(seed=7))
    assert runner.invoke(cli, ["upload", str(gif)]).exit_code == 0
    from conftest import make_settings

    service = Service(make_settings(tmp_path, database_url, report_threshold=1))
    try:
        (record,) = service.assets.list(limit=5)
        service.review.report(record.asset_id, "off topic", "192.0.2.1")
    finally:
        service.close()
    queue = runner.invoke(cli, ["moderation", "queue"])
    assert queue.exit_code == 0 and record.asset_id in queue.output and "off topic" in queue.output
    decided = runner.invoke(
        cli,
        ["moderation", "decide", record.asset_id, "reject", "--notes", "spam", "--reviewer", "ana"],
    )
    assert decided.exit_code == 0 and "rejected" in decided.output
    bad = runner.invoke(cli, ["moderation", "decide", record.asset_id, "maybe"])
    assert bad.exit_code == 2 and "approve, reject or flag" in bad.output
    out = tmp_path / "audit.csv"
    exported = runner.invoke(cli, ["audit", "export", "--format", "csv", "-o", str(out)])
    assert exported.exit_code == 0, exported.output
    assert out.read_text().count("\n") == 3  # header, the report's flag, the rejection
    assert "ana" in out.read_text()
    ok = runner.invoke(cli, ["audit", "verify"])
    assert ok.exit_code == 0 and "intact: 2 entries" in ok.output
    service = Service(make_settings(tmp_path, database_url))
    try:
        with service.engine.begin() as conn:
            conn.execute(update(audit_entries).values(notes="x", moderator="mallory"))
    finally:
        service.close()
    tampered = runner.invoke(cli, ["audit", "verify"])
    assert tampered.exit_code == 1 and "TAMPERED" in tampered.output


@pytest.mark.server
def test_running_server_hides_an_upload_until_the_worker_approves(tmp_path: Path) -> None:
    with running_server(tmp_path, GIFDIST_MODERATION="async") as server:
        auth = {"Authorization": f"Bearer {SERVER_KEY}"}
        data = make_gif(width=64, height=64, frames=3, seed=8, pattern="stripes")
        with httpx.Client(base_url=server.base, timeout=10) as http:
            created = http.post(
                "/api/v1/assets",
                files={"file": ("a.gif", data, "image/gif")},
                data={"title": "stripes"},
                headers=auth,
            )
            assert created.status_code == 201 and created.json()["status"] == "pending"
            asset_id = created.json()["asset_id"]
            statuses = []
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                status = http.get(f"/api/v1/assets/{asset_id}", headers=auth).json()["status"]
                public = http.get(f"/a/{asset_id}.gif", headers=BROWSER).status_code
                statuses.append((status, public))
                if status != "pending":
                    break
                time.sleep(0.1)
            assert all(public == 404 for status, public in statuses if status == "pending")
            assert statuses[-1] == ("approved", 200), server.log()[-2000:]


def test_quarantined_bytes_are_purged_after_the_retention(
    client: TestClient, service: Service
) -> None:
    import os

    from gifdist.moderation.worker import quarantine_purge

    data = make_gif(width=32, height=24, frames=3, seed=9)
    asset_id = client.post("/api/v1/assets", files={"file": ("a.gif", data, "image/gif")}).json()[
        "asset_id"
    ]
    client.post(f"/api/v1/moderation/assets/{asset_id}/decision", json={"decision": "reject"})
    record = service.catalog.require(asset_id)
    held = service.blobs.quarantine_dir / record.sha256
    assert held.is_file()
    purge = quarantine_purge(service.blobs, service.settings.quarantine_retention_days)
    assert purge.run() == 0  # just quarantined: kept for appeal
    old = held.stat().st_mtime - 91 * 86400
    os.utime(held, (old, old))
    assert purge.run() == 1 and not held.exists()
    appeal = client.post(
        f"/api/v1/moderation/assets/{asset_id}/decision", json={"decision": "approve"}
    )
    assert appeal.status_code == 409 and "no longer kept" in appeal.json()["error"]["message"]
    assert client.get(f"/a/{asset_id}.gif", headers=BROWSER).status_code == 404


def test_reviewers_see_the_frames_the_scanner_samples(client: TestClient, service: Service) -> None:
    import io

    from PIL import Image

    data = make_gif(width=48, height=40, frames=12, seed=10, pattern="noise")
    asset_id = client.post("/api/v1/assets", files={"file": ("a.gif", data, "image/gif")}).json()[
        "asset_id"
    ]
    listing = client.get(f"/api/v1/assets/{asset_id}/frames")
    assert listing.status_code == 200, listing.text
    frames = listing.json()["frames"]
    indexes = [f["index"] for f in frames]
    assert indexes[0] == 0 and indexes[-1] == 11 and 2 <= len(frames) <= 6
    assert {f["reason"] for f in frames} >= {"first", "last"}
    png = client.get(frames[1]["url"].replace("http://gifdist.test", ""))
    assert png.status_code == 200 and png.headers["content-type"] == "image/png"
    assert Image.open(io.BytesIO(png.content)).size == (48, 40)
    assert client.get(f"/api/v1/assets/{asset_id}/frames/999.png").status_code == 404
    assert client.get("/api/v1/assets/0123456789abcdef/frames").status_code == 404
    reader, _ = service.keys.create("reader", [Scope.READ])
    refused = client.get(
        f"/api/v1/assets/{asset_id}/frames", headers={"Authorization": f"Bearer {reader}"}
    )
    assert refused.status_code == 403
