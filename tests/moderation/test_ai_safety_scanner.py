"""gifdist.ai_safety_scanner driven through the real ``openai`` client against a fake API."""

from __future__ import annotations

import contextlib
import io
import logging
import socket
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import openai
import pytest
from fake_openai import (
    CHAT_COMPLETIONS,
    MODERATIONS,
    FakeOpenAI,
    Reply,
    moderation_result,
    running_fake_openai,
)
from gif_factory import html_bytes, make_gif
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image
from seed_readme_examples import EXAMPLES

from gifdist.errors import ServiceUnavailable
from gifdist.moderation.openai_scanner import (
    INSTALL_HINT,
    MAX_FRAME_EDGE,
    AISafetyError,
    AISafetyPipeline,
    OpenAIModerationScanner,
    OpenAIVisionScanner,
    SafetyScanResult,
    _parse_moderation_payload,
)

# Tiny delays keep retry tests fast; generous per-attempt timeouts keep them stable.
FAST: dict[str, Any] = {"retry_backoff": 0.001, "max_retry_delay": 1.0, "timeout": 5.0}

SEED_EXAMPLE = EXAMPLES["AI Safety Scanning"]


@pytest.fixture(autouse=True)
def _no_openai_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """The host's OpenAI settings must not leak into tests."""
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "OPENAI_ADMIN_KEY", "OPENAI_CUSTOM_HEADERS"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def fake() -> Iterator[tuple[str, FakeOpenAI]]:
    with running_fake_openai() as served:
        yield served


def text_scanner(base_url: str, **options: Any) -> OpenAIModerationScanner:
    return OpenAIModerationScanner(api_key="test-key", base_url=base_url, **{**FAST, **options})


def vision_scanner(base_url: str, **options: Any) -> OpenAIVisionScanner:
    return OpenAIVisionScanner(api_key="test-key", base_url=base_url, **{**FAST, **options})


def coloured_gif(
    path: Path, colours: list[tuple[int, int, int]], size: tuple[int, int] = (40, 30)
) -> Path:
    frames = [Image.new("RGB", size, colour) for colour in colours]
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=50, loop=0)
    return path


def is_red(image: Image.Image) -> bool:
    red, green, blue = image.convert("RGB").resize((1, 1)).getpixel((0, 0))
    return red > 200 and green < 60 and blue < 60


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- text -----------------------------------------------------------------------------


def test_ordinary_text_is_safe_with_high_confidence(fake: tuple[str, FakeOpenAI]) -> None:
    base_url, _ = fake
    result = text_scanner(base_url).scan_text("A cute cat GIF")
    assert result.is_safe is True
    assert result.violations == [] and result.categories_flagged == {}
    assert result.confidence > 0.9
    assert result.metadata["flagged"] is False


def test_flagged_text_lists_the_flagged_category_as_a_violation(
    fake: tuple[str, FakeOpenAI],
) -> None:
    base_url, controller = fake
    controller.flag_category = "sexual"
    result = text_scanner(base_url).scan_text("this is forbidden stuff")
    assert result.is_safe is False
    assert result.violations == ["Sexual content"]
    assert result.categories_flagged == {"sexual": pytest.approx(0.97)}
    assert result.confidence == pytest.approx(0.97)


def test_text_goes_to_the_omni_moderation_model(fake: tuple[str, FakeOpenAI]) -> None:
    base_url, controller = fake
    text_scanner(base_url).scan_text("hello there")
    [request] = controller.requests(MODERATIONS)
    assert request.body == {"model": "omni-moderation-latest", "input": "hello there"}
    assert request.headers["authorization"] == "Bearer test-key"


def test_blank_text_is_safe_without_calling_the_api(fake: tuple[str, FakeOpenAI]) -> None:
    base_url, controller = fake
    result = text_scanner(base_url).scan_text("   ")
    assert (result.is_safe, result.confidence, result.violations) == (True, 1.0, [])
    assert controller.requests() == []


def test_score_at_the_threshold_is_a_violation_even_when_not_flagged(
    fake: tuple[str, FakeOpenAI],
) -> None:
    base_url, controller = fake
    result = moderation_result(False, "hate", {"text"})
    result["category_scores"]["hate"] = 0.6
    controller.script(MODERATIONS, Reply.json({"id": "m", "model": "m", "results": [result]}))
    scanned = text_scanner(base_url, threshold=0.6).scan_text("borderline")
    assert scanned.is_safe is False
    assert scanned.violations == ["Hate speech"]


# --- configuration --------------------------------------------------------------------


def test_api_key_falls_back_to_the_openai_api_key_variable(
    fake: tuple[str, FakeOpenAI], monkeypatch: pytest.MonkeyPatch
) -> None:
    base_url, controller = fake
    monkeypatch.setenv("OPENAI_API_KEY", "env-key")
    scanner = OpenAIModerationScanner(base_url=base_url, **FAST)
    scanner.scan_text("hi")
    assert scanner.api_key == "env-key"
    assert controller.requests()[0].headers["authorization"] == "Bearer env-key"


def test_base_url_comes_from_the_openai_base_url_variable(
    fake: tuple[str, FakeOpenAI], monkeypatch: pytest.MonkeyPatch
) -> None:
    base_url, controller = fake
    monkeypatch.setenv("OPENAI_BASE_URL", base_url)
    OpenAIModerationScanner(api_key="k", **FAST).scan_text("hi")
    assert len(controller.requests(MODERATIONS)) == 1


@pytest.mark.parametrize(
    "scanner_class", [OpenAIModerationScanner, OpenAIVisionScanner, AISafetyPipeline]
)
def test_missing_api_key_raises_the_seeds_error(scanner_class: type) -> None:
    with pytest.raises(AISafetyError) as caught:
        scanner_class()
    assert str(caught.value) == "OpenAI API key not provided"
    assert caught.value.code == "ai_safety_not_configured"


@pytest.mark.parametrize("scanner_class", [OpenAIModerationScanner, OpenAIVisionScanner])
def test_scanners_keep_the_seeds_api_key_and_openai_client(
    scanner_class: type, monkeypatch: pytest.MonkeyPatch
) -> None:
    given = scanner_class(api_key="sk-given")
    assert given.api_key == "sk-given"
    assert isinstance(given.client, openai.OpenAI) and given.client.api_key == "sk-given"
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-env")
    from_env = scanner_class()
    assert from_env.api_key == "sk-from-env"
    assert from_env.client.api_key == "sk-from-env"


def test_requests_follow_a_client_put_in_place_of_the_scanners(
    fake: tuple[str, FakeOpenAI],
) -> None:
    base_url, controller = fake
    scanner = OpenAIModerationScanner(api_key="k", base_url="http://127.0.0.1:9/v1", **FAST)
    scanner.client = openai.OpenAI(api_key="other-key", base_url=base_url)
    assert scanner.scan_text("hello").is_safe
    assert controller.requests(MODERATIONS)[0].headers["authorization"] == "Bearer other-key"


class SeedStyleClient:
    """A caller's own client, read the way the seed reads one: ``moderations.create``
    returning ``results[0].flagged`` and ``category_scores.model_dump()``."""

    class _Scores:
        def __init__(self, scores: dict[str, float]) -> None:
            self.scores = scores

        def model_dump(self) -> dict[str, float]:
            return dict(self.scores)

    def __init__(self, flagged: bool, scores: dict[str, float]) -> None:
        self.calls: list[dict[str, Any]] = []
        result = SimpleNamespace(
            flagged=flagged,
            categories=self._Scores({name: score >= 0.5 for name, score in scores.items()}),
            category_scores=self._Scores(scores),
        )
        self.moderations = SimpleNamespace(create=self._create)
        self._response = SimpleNamespace(model="caller-model", results=[result])

    def _create(self, **request: Any) -> Any:
        self.calls.append(request)
        return self._response


def test_a_callers_own_client_is_read_through_its_typed_results() -> None:
    client = SeedStyleClient(flagged=True, scores={"violence": 0.91, "hate": 0.02})
    scanner = OpenAIModerationScanner(client=client, **FAST)
    assert scanner.client is client
    result = scanner.scan_text("a fight scene")
    assert not result.is_safe
    assert result.violations == ["Violence"]
    assert result.categories_flagged == {"violence": 0.91}
    assert result.metadata["model"] == "caller-model"
    assert client.calls[0]["input"] == "a fight scene"


def test_a_callers_client_with_an_unreadable_result_is_never_safe() -> None:
    client = SeedStyleClient(flagged=False, scores={"violence": 0.1})
    client._response = SimpleNamespace(model="m", results=None)
    with pytest.raises(AISafetyError) as caught:
        OpenAIModerationScanner(client=client, **FAST).scan_text("hi")
    assert caught.value.code == "ai_safety_bad_response"


def test_missing_openai_package_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "openai", None)
    with pytest.raises(AISafetyError) as caught:
        OpenAIVisionScanner(api_key="k")
    assert INSTALL_HINT in caught.value.message
    assert caught.value.code == "ai_safety_not_installed"


def test_ai_safety_error_is_a_service_unavailable_error() -> None:
    error = AISafetyError("down")
    assert isinstance(error, ServiceUnavailable)
    assert error.status == 503


def test_safety_scan_result_metadata_defaults_to_an_empty_dict() -> None:
    result = SafetyScanResult(is_safe=True, confidence=0.9, violations=[], categories_flagged={})
    assert result.metadata == {}


# --- images ---------------------------------------------------------------------------


def test_gif_frames_are_sent_as_png_data_urls_one_image_per_request(
    fake: tuple[str, FakeOpenAI], tmp_path: Path
) -> None:
    base_url, controller = fake
    gif = coloured_gif(tmp_path / "a.gif", [(10, 10, 200), (10, 200, 10), (200, 200, 10)])
    result = vision_scanner(base_url).scan_image(str(gif))
    requests = controller.requests(MODERATIONS)
    assert result.is_safe is True
    assert len(requests) == 3
    for request in requests:
        [url] = request.image_urls()
        assert url.startswith("data:image/png;base64,")
        assert request.body["model"] == "omni-moderation-latest"


def test_a_200_frame_gif_sends_a_bounded_number_of_frames_including_first_and_last(
    fake: tuple[str, FakeOpenAI], tmp_path: Path
) -> None:
    base_url, controller = fake
    make_gif(tmp_path / "long.gif", frames=200, width=16, height=12)
    result = vision_scanner(base_url, max_frames=4).scan_image(str(tmp_path / "long.gif"))
    assert len(controller.requests(MODERATIONS)) == 4
    assert result.metadata["frames_scanned"] == 4
    assert result.metadata["frame_indices"][0] == 0
    assert result.metadata["frame_indices"][-1] == 199


def test_large_frames_are_downscaled_to_the_maximum_edge(
    fake: tuple[str, FakeOpenAI], tmp_path: Path
) -> None:
    base_url, controller = fake
    gif = coloured_gif(tmp_path / "big.gif", [(1, 2, 3), (4, 5, 6)], size=(1200, 600))
    vision_scanner(base_url).scan_image(str(gif))
    sizes = {image.size for r in controller.requests(MODERATIONS) for image in r.images()}
    assert sizes == {(MAX_FRAME_EDGE, MAX_FRAME_EDGE // 2)}


def test_one_flagged_frame_in_the_middle_makes_the_whole_gif_unsafe(tmp_path: Path) -> None:
    colours = [(10, 10, 200 + i) for i in range(10)]
    colours[5] = (250, 10, 10)
    gif = coloured_gif(tmp_path / "spliced.gif", colours)
    with running_fake_openai(image_rule=is_red, flag_category="violence/graphic") as (base_url, _):
        result = vision_scanner(base_url).scan_image(str(gif))
    assert result.is_safe is False
    assert result.violations == ["Graphic violence"]
    assert result.metadata["frames_flagged"] == [5]


@pytest.mark.parametrize("content", [None, html_bytes(), b""], ids=["missing", "html", "empty"])
def test_unreadable_file_raises_without_calling_the_api(
    fake: tuple[str, FakeOpenAI], tmp_path: Path, content: bytes | None
) -> None:
    base_url, controller = fake
    path = tmp_path / "upload.gif"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(AISafetyError) as caught:
        vision_scanner(base_url).scan_image(str(path))
    assert caught.value.code == "ai_safety_unreadable_media"
    assert controller.requests() == []


def test_skipping_the_nsfw_check_never_reports_safe(
    fake: tuple[str, FakeOpenAI], tmp_path: Path
) -> None:
    base_url, controller = fake
    gif = coloured_gif(tmp_path / "a.gif", [(1, 1, 1), (2, 2, 2)])
    result = vision_scanner(base_url).scan_image(str(gif), check_nsfw=False)
    assert result.is_safe is False
    assert result.metadata["checked"] is False
    assert controller.requests(MODERATIONS) == []


def test_description_is_requested_from_the_vision_model_when_asked(
    fake: tuple[str, FakeOpenAI], tmp_path: Path
) -> None:
    base_url, controller = fake
    controller.description = "A blue square."
    gif = coloured_gif(tmp_path / "a.gif", [(10, 10, 200), (10, 10, 190)])
    result = vision_scanner(base_url, describe=True, vision_model="vision-x").scan_image(str(gif))
    [request] = controller.requests(CHAT_COMPLETIONS)
    assert result.metadata["description"] == "A blue square."
    assert request.body["model"] == "vision-x"
    assert len(request.images()) == 1


def test_description_is_empty_and_not_requested_by_default(
    fake: tuple[str, FakeOpenAI], tmp_path: Path
) -> None:
    base_url, controller = fake
    gif = coloured_gif(tmp_path / "a.gif", [(10, 10, 200), (10, 10, 190)])
    result = vision_scanner(base_url).scan_image(str(gif))
    assert result.metadata["description"] == ""
    assert controller.requests(CHAT_COMPLETIONS) == []


def test_failed_description_keeps_the_verdict_and_leaves_the_description_empty(
    fake: tuple[str, FakeOpenAI], tmp_path: Path
) -> None:
    base_url, controller = fake
    controller.script(CHAT_COMPLETIONS, Reply.error(500), repeat_last=True)
    gif = coloured_gif(tmp_path / "a.gif", [(10, 10, 200), (10, 10, 190)])
    result = vision_scanner(base_url, max_retries=1).scan_image(str(gif), describe=True)
    assert result.is_safe is True
    assert result.metadata["description"] == ""
    assert "500" in result.metadata["description_error"]


# --- retries, timeouts and bad responses ----------------------------------------------


def test_rate_limited_request_is_retried_after_the_retry_after_delay(
    fake: tuple[str, FakeOpenAI],
) -> None:
    base_url, controller = fake
    controller.script(MODERATIONS, Reply.rate_limited("0.3"))
    started = time.monotonic()
    result = text_scanner(base_url).scan_text("hi")
    assert result.is_safe is True
    assert time.monotonic() - started >= 0.3
    assert len(controller.requests(MODERATIONS)) == 2


def test_retry_after_longer_than_the_maximum_delay_fails_fast(fake: tuple[str, FakeOpenAI]) -> None:
    base_url, controller = fake
    controller.script(MODERATIONS, Reply.rate_limited("30"))
    with pytest.raises(AISafetyError) as caught:
        text_scanner(base_url).scan_text("hi")
    assert caught.value.code == "ai_safety_rate_limited"
    assert caught.value.retry_after == 30.0
    assert len(controller.requests(MODERATIONS)) == 1


def test_server_error_then_success_is_retried(fake: tuple[str, FakeOpenAI]) -> None:
    base_url, controller = fake
    controller.script(MODERATIONS, Reply.error(503))
    assert text_scanner(base_url).scan_text("hi").is_safe is True
    assert len(controller.requests(MODERATIONS)) == 2


def test_persistent_server_errors_raise_after_bounded_retries(fake: tuple[str, FakeOpenAI]) -> None:
    base_url, controller = fake
    controller.script(MODERATIONS, Reply.error(500), repeat_last=True)
    with pytest.raises(AISafetyError, match="after 4 attempt"):
        text_scanner(base_url, max_retries=3).scan_text("hi")
    assert len(controller.requests(MODERATIONS)) == 4


def test_client_errors_are_not_retried(fake: tuple[str, FakeOpenAI]) -> None:
    base_url, controller = fake
    controller.script(MODERATIONS, Reply.error(400))
    with pytest.raises(AISafetyError):
        text_scanner(base_url).scan_text("hi")
    assert len(controller.requests(MODERATIONS)) == 1


def test_an_adopted_clients_own_retries_are_replaced(fake: tuple[str, FakeOpenAI]) -> None:
    base_url, controller = fake
    controller.script(MODERATIONS, Reply.error(500), repeat_last=True)
    client = openai.OpenAI(api_key="k", base_url=base_url, max_retries=5)
    scanner = OpenAIModerationScanner(client=client, max_retries=1, **FAST)
    with pytest.raises(AISafetyError):
        scanner.scan_text("hi")
    assert len(controller.requests(MODERATIONS)) == 2


def test_hanging_api_times_out_within_a_bounded_time(fake: tuple[str, FakeOpenAI]) -> None:
    base_url, controller = fake
    controller.script(MODERATIONS, Reply.hang(10), repeat_last=True)
    started = time.monotonic()
    with pytest.raises(AISafetyError) as caught:
        text_scanner(base_url, timeout=0.3, max_retries=1).scan_text("hi")
    elapsed = time.monotonic() - started
    assert caught.value.code == "ai_safety_timeout"
    assert 0.5 <= elapsed < 2.0
    assert len(controller.requests(MODERATIONS)) == 2


def test_unreachable_api_raises_after_bounded_retries(caplog: pytest.LogCaptureFixture) -> None:
    scanner = text_scanner(f"http://127.0.0.1:{free_port()}/v1", max_retries=2)
    with (
        caplog.at_level(logging.WARNING, "gifdist.ai_safety_scanner"),
        pytest.raises(AISafetyError),
    ):
        scanner.scan_text("hi")
    assert sum("retry" in record.getMessage() for record in caplog.records) == 2


def test_malformed_json_raises(fake: tuple[str, FakeOpenAI]) -> None:
    base_url, controller = fake
    controller.script(MODERATIONS, Reply.malformed())
    with pytest.raises(AISafetyError) as caught:
        text_scanner(base_url).scan_text("hi")
    assert caught.value.code == "ai_safety_bad_response"


@pytest.mark.parametrize(
    "payload",
    [
        {"id": "m", "model": "m", "results": []},
        {"id": "m", "model": "m"},
        {
            "id": "m",
            "model": "m",
            "results": [{"flagged": "false", "categories": {}, "category_scores": {"hate": 0.1}}],
        },
        {
            "id": "m",
            "model": "m",
            "results": [{"flagged": False, "categories": {}, "category_scores": {}}],
        },
        {
            "id": "m",
            "model": "m",
            "results": [{"flagged": False, "categories": {}, "category_scores": {"hate": "low"}}],
        },
        [1, 2, 3],
    ],
    ids=["no-results", "missing-results", "string-flag", "no-scores", "text-score", "array"],
)
def test_unexpected_response_shapes_raise(fake: tuple[str, FakeOpenAI], payload: Any) -> None:
    base_url, controller = fake
    controller.script(MODERATIONS, Reply.json(payload))
    with pytest.raises(AISafetyError):
        text_scanner(base_url).scan_text("hi")


json_values = st.recursive(
    st.none() | st.booleans() | st.floats(allow_nan=True) | st.integers() | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=12,
)


@given(result=json_values, flagged=json_values, scores=json_values)
def test_hostile_moderation_payloads_are_refused_or_yield_valid_scores(
    result: Any, flagged: Any, scores: Any
) -> None:
    payloads = [
        {"results": [result]},
        {"results": [{"flagged": flagged, "categories": {}, "category_scores": scores}]},
    ]
    for payload in payloads:
        try:
            parsed = _parse_moderation_payload(payload)
        except AISafetyError:
            continue
        assert isinstance(parsed.flagged, bool)
        assert parsed.scores and all(0.0 <= s <= 1.0 for s in parsed.scores.values())


def test_one_scanner_serves_concurrent_threads(fake: tuple[str, FakeOpenAI]) -> None:
    base_url, _ = fake
    scanner = text_scanner(base_url)
    texts = [f"message {i} {'forbidden' if i % 2 else 'fine'}" for i in range(16)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        verdicts = list(pool.map(lambda text: scanner.scan_text(text).is_safe, texts))
    assert verdicts == [i % 2 == 0 for i in range(16)]


# --- pipeline -------------------------------------------------------------------------


def test_pipeline_scans_joined_text_and_frames(
    fake: tuple[str, FakeOpenAI], tmp_path: Path
) -> None:
    base_url, controller = fake
    gif = coloured_gif(tmp_path / "a.gif", [(10, 10, 200), (10, 10, 190)])
    pipeline = AISafetyPipeline(api_key="k", base_url=base_url, **FAST)
    results = pipeline.scan_upload(str(gif), title="Cat", tags=["a", "b"], description="Jumps")
    assert set(results) == {"text", "visual"}
    assert controller.requests(MODERATIONS)[0].body["input"] == "Cat a b Jumps"


def test_pipeline_without_vision_scans_only_text(
    fake: tuple[str, FakeOpenAI], tmp_path: Path
) -> None:
    base_url, _ = fake
    gif = coloured_gif(tmp_path / "a.gif", [(10, 10, 200), (10, 10, 190)])
    pipeline = AISafetyPipeline(api_key="k", enable_vision=False, base_url=base_url, **FAST)
    assert pipeline.vision_scanner is None
    assert set(pipeline.scan_upload(str(gif), title="Cat")) == {"text"}


def test_pipeline_without_a_file_scans_only_text(fake: tuple[str, FakeOpenAI]) -> None:
    base_url, _ = fake
    pipeline = AISafetyPipeline(api_key="k", base_url=base_url, **FAST)
    assert set(pipeline.scan_upload(title="Cat")) == {"text"}


def safe(confidence: float) -> SafetyScanResult:
    return SafetyScanResult(
        is_safe=True, confidence=confidence, violations=[], categories_flagged={}
    )


@pytest.fixture
def pipeline(fake: tuple[str, FakeOpenAI]) -> AISafetyPipeline:
    return AISafetyPipeline(api_key="k", base_url=fake[0], **FAST)


def test_is_safe_takes_the_lowest_confidence_of_safe_scans(pipeline: AISafetyPipeline) -> None:
    assert pipeline.is_safe({"text": safe(0.95), "visual": safe(0.9)}) == (True, [], 0.9)


def test_is_safe_prefixes_violations_with_the_scan_name(pipeline: AISafetyPipeline) -> None:
    unsafe = SafetyScanResult(False, 0.85, ["Sexual content"], {"sexual": 0.95})
    verdict = pipeline.is_safe({"text": unsafe, "visual": safe(0.9)})
    assert verdict == (False, ["text: Sexual content"], 0.85)


def test_is_safe_of_a_result_recording_an_error_is_not_safe(pipeline: AISafetyPipeline) -> None:
    errored = SafetyScanResult(True, 1.0, [], {}, {"error": "timed out"})
    is_safe, violations, confidence = pipeline.is_safe({"text": safe(0.99), "visual": errored})
    assert (is_safe, confidence) == (False, 0.0)
    assert violations == ["visual: scan failed (timed out)"]


def test_is_safe_of_an_exception_in_place_of_a_result_is_not_safe(
    pipeline: AISafetyPipeline,
) -> None:
    is_safe, violations, _ = pipeline.is_safe({"visual": AISafetyError("down")})
    assert is_safe is False
    assert violations[0].startswith("visual: scan failed")


def test_is_safe_of_no_scans_is_not_safe(pipeline: AISafetyPipeline) -> None:
    assert pipeline.is_safe({})[0] is False


# --- the seed README example ----------------------------------------------------------


def run_seed_example(base_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("OPENAI_BASE_URL", base_url)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "uploads").mkdir()
    make_gif(tmp_path / "uploads" / "cat.gif", frames=5)
    output = io.StringIO()
    with contextlib.redirect_stdout(output):
        exec(compile(SEED_EXAMPLE, "seed-example", "exec"), {})
    return output.getvalue()


def test_seed_example_approves_safe_content(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with running_fake_openai() as (base_url, controller):
        printed = run_seed_example(base_url, tmp_path, monkeypatch)
    assert "Content approved with 100% confidence" in printed
    assert "Text scan: Safe" in printed and "Visual scan: Safe" in printed
    assert "Description: \n" in printed
    assert len(controller.requests(MODERATIONS)) == 4  # the text, then three frames


def test_seed_example_rejects_flagged_frames(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with running_fake_openai(image_rule=lambda image: True) as (base_url, _):
        printed = run_seed_example(base_url, tmp_path, monkeypatch)
    assert "Content rejected: visual: Violence" in printed
    assert "Visual scan: Unsafe" in printed
