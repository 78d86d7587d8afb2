"""A local stand-in for the OpenAI HTTP API: ``POST /v1/moderations`` and chat completions.

It answers in the real response shapes, so the real ``openai`` client can be driven
against it, and it keeps the real service's rules that matter to a caller: the
moderation endpoint takes at most one image per request and refuses image URLs that
are not decodable images. Each test programs it through a ``FakeOpenAI`` controller:
which texts and images are flagged, and scripted replies (errors, 429 with
``Retry-After``, hangs, malformed JSON) to send before the normal answer resumes.
"""

from __future__ import annotations

import base64
import binascii
import io
import json
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from PIL import Image

MODERATIONS = "/v1/moderations"
CHAT_COMPLETIONS = "/v1/chat/completions"

CATEGORIES: tuple[str, ...] = (
    "harassment",
    "harassment/threatening",
    "hate",
    "hate/threatening",
    "illicit",
    "illicit/violent",
    "self-harm",
    "self-harm/instructions",
    "self-harm/intent",
    "sexual",
    "sexual/minors",
    "violence",
    "violence/graphic",
)
# Categories the omni moderation model also scores for images.
IMAGE_CATEGORIES = frozenset(
    {
        "self-harm",
        "self-harm/instructions",
        "self-harm/intent",
        "sexual",
        "violence",
        "violence/graphic",
    }
)
MODERATION_MODEL_SNAPSHOT = "omni-moderation-2024-09-26"
BASELINE_SCORE = 0.0012
FLAGGED_SCORE = 0.97
MAX_IMAGES_PER_REQUEST = 1


@dataclass(frozen=True)
class Reply:
    """A scripted answer: a status, headers and body, optionally after a delay.

    ``body=None`` with status 200 means "answer normally", which lets a hang be
    followed by the usual response.
    """

    status: int = 200
    body: bytes | None = None
    headers: tuple[tuple[str, str], ...] = ()
    delay: float = 0.0

    @classmethod
    def error(cls, status: int, *, retry_after: str | None = None) -> Reply:
        """An error in the API's error shape, with ``Retry-After`` when given."""
        headers = (("Retry-After", retry_after),) if retry_after is not None else ()
        payload = {"error": {"message": f"fake error {status}", "type": "server_error"}}
        return cls(status=status, body=json.dumps(payload).encode(), headers=headers)

    @classmethod
    def rate_limited(cls, retry_after: str) -> Reply:
        """A 429 telling the client how long to wait."""
        return cls.error(429, retry_after=retry_after)

    @classmethod
    def hang(cls, seconds: float) -> Reply:
        """Say nothing for ``seconds`` (or until the server closes), then answer normally."""
        return cls(delay=seconds)

    @classmethod
    def malformed(cls) -> Reply:
        """A 200 with a JSON content type whose body is not JSON."""
        return cls(body=b'{"id": "modr-1", "results": [')

    @classmethod
    def json(cls, payload: Any, status: int = 200) -> Reply:
        """A well-formed JSON body of the test's choosing."""
        return cls(status=status, body=json.dumps(payload).encode())


@dataclass(frozen=True)
class RecordedRequest:
    """One request the server received: method, path, headers and the parsed JSON body."""

    method: str
    path: str
    headers: dict[str, str]
    body: Any

    def image_urls(self) -> list[str]:
        """The ``image_url`` URLs in a moderation input or in chat message content."""
        return [
            part["image_url"]["url"] for part in self._parts() if part.get("type") == "image_url"
        ]

    def images(self) -> list[Image.Image]:
        """The images behind the data URLs, decoded."""
        return [decode_data_url(url) for url in self.image_urls()]

    def _parts(self) -> list[dict[str, Any]]:
        if not isinstance(self.body, dict):
            return []
        if self.path == MODERATIONS:
            value = self.body.get("input")
            return (
                [part for part in value if isinstance(part, dict)]
                if isinstance(value, list)
                else []
            )
        parts: list[dict[str, Any]] = []
        for message in self.body.get("messages", []):
            content = message.get("content")
            if isinstance(content, list):
                parts.extend(part for part in content if isinstance(part, dict))
        return parts


class ImageInputError(ValueError):
    """An image input the real API would refuse with 400."""


def decode_data_url(url: str) -> Image.Image:
    """Decode a ``data:image/...;base64,`` URL; raises ImageInputError if it is not an image."""
    header, _, data = url.partition(",")
    if not (header.startswith("data:image/") and header.endswith(";base64")):
        raise ImageInputError(f"not a base64 image data URL: {header[:40]!r}")
    try:
        image = Image.open(io.BytesIO(base64.b64decode(data, validate=True)))
        image.load()
    except (binascii.Error, OSError, ValueError) as exc:
        raise ImageInputError(f"undecodable image: {exc}") from exc
    return image


@dataclass
class FakeOpenAI:
    """The programmable side of the fake server; safe to use from the test's thread.

    A text input is flagged (in ``flag_category``) when it contains ``flag_marker``,
    case-insensitively; an image input is flagged when ``image_rule`` says so.
    """

    flag_marker: str = "forbidden"
    flag_category: str = "violence"
    image_rule: Callable[[Image.Image], bool] | None = None
    description: str = "A cat doing a backflip."
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _released: threading.Event = field(default_factory=threading.Event, repr=False)
    _requests: list[RecordedRequest] = field(default_factory=list, repr=False)
    _scripts: dict[str, deque[Reply]] = field(default_factory=dict, repr=False)
    _repeat: dict[str, Reply] = field(default_factory=dict, repr=False)

    def script(self, path: str, *replies: Reply, repeat_last: bool = False) -> None:
        """Queue replies for the next requests to ``path``; with ``repeat_last`` the last sticks."""
        with self._lock:
            self._scripts.setdefault(path, deque()).extend(replies)
            if repeat_last and replies:
                self._repeat[path] = replies[-1]

    def requests(self, path: str | None = None) -> list[RecordedRequest]:
        """The requests received so far, optionally only those to ``path``."""
        with self._lock:
            return [r for r in self._requests if path is None or r.path == path]

    def release(self) -> None:
        """Wake every hanging handler (called when the server stops)."""
        self._released.set()

    def wait_released(self, seconds: float) -> None:
        """Block a handler for ``seconds`` or until ``release``."""
        self._released.wait(seconds)

    def record(self, request: RecordedRequest) -> Reply | None:
        """Store a request and take the scripted reply for it, if any."""
        with self._lock:
            self._requests.append(request)
            queue = self._scripts.get(request.path)
            if queue:
                reply = queue.popleft()
                if not queue and request.path in self._repeat:
                    queue.append(self._repeat[request.path])
                return reply
            return None

    def is_flagged_text(self, text: str) -> bool:
        """Whether a text input counts as flagged."""
        return self.flag_marker.lower() in text.lower()

    def is_flagged_image(self, image: Image.Image) -> bool:
        """Whether an image input counts as flagged."""
        return self.image_rule is not None and bool(self.image_rule(image))


def moderation_result(flagged: bool, category: str, input_types: set[str]) -> dict[str, Any]:
    """One entry of ``results`` in the real shape, flagged in ``category`` or not at all."""
    scores = {name: BASELINE_SCORE for name in CATEGORIES}
    if flagged:
        scores[category] = FLAGGED_SCORE
    applied = {
        name: sorted(kind for kind in input_types if kind == "text" or name in IMAGE_CATEGORIES)
        for name in CATEGORIES
    }
    return {
        "flagged": flagged,
        "categories": {name: flagged and name == category for name in CATEGORIES},
        "category_scores": scores,
        "category_applied_input_types": applied,
    }


def moderation_response(controller: FakeOpenAI, body: Any) -> tuple[int, dict[str, Any]]:
    """Status and payload for a moderation request, following the real API's rules."""
    if not isinstance(body, dict) or "input" not in body:
        return 400, _error_body("'input' is a required property", "invalid_request_error")
    value = body["input"]
    try:
        results = _moderate(controller, value)
    except ImageInputError as exc:
        code = "too_many_images" if "exceeds maximum" in str(exc) else "invalid_image"
        return 400, _error_body(str(exc), "invalid_request_error", code)
    model = (
        MODERATION_MODEL_SNAPSHOT
        if body.get("model") in (None, "omni-moderation-latest")
        else body["model"]
    )
    return 200, {"id": f"modr-{time.monotonic_ns()}", "model": model, "results": results}


def _moderate(controller: FakeOpenAI, value: Any) -> list[dict[str, Any]]:
    category = controller.flag_category
    if isinstance(value, str):
        return [moderation_result(controller.is_flagged_text(value), category, {"text"})]
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return [moderation_result(controller.is_flagged_text(t), category, {"text"}) for t in value]
    if not isinstance(value, list):
        raise ImageInputError("input must be a string or an array")
    images = [part for part in value if isinstance(part, dict) and part.get("type") == "image_url"]
    if len(images) > MAX_IMAGES_PER_REQUEST:
        raise ImageInputError(f"Number of images ({len(images)}) exceeds maximum of 1")
    flagged = any(
        controller.is_flagged_image(decode_data_url(p["image_url"]["url"])) for p in images
    )
    texts = [
        part.get("text", "")
        for part in value
        if isinstance(part, dict) and part.get("type") == "text"
    ]
    flagged = flagged or any(controller.is_flagged_text(text) for text in texts)
    kinds = {"image"} if images else set()
    kinds |= {"text"} if texts else set()
    return [moderation_result(flagged, category, kinds)]


def chat_response(controller: FakeOpenAI, body: Any) -> tuple[int, dict[str, Any]]:
    """Status and payload for a chat completion: the controller's description."""
    if not isinstance(body, dict) or not body.get("messages"):
        return 400, _error_body("'messages' is a required property", "invalid_request_error")
    payload = {
        "id": f"chatcmpl-{time.monotonic_ns()}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body.get("model", "gpt-4o-mini"),
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": controller.description,
                    "refusal": None,
                },
                "logprobs": None,
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 85, "completion_tokens": 9, "total_tokens": 94},
    }
    return 200, payload


def _error_body(message: str, kind: str, code: str | None = None) -> dict[str, Any]:
    return {"error": {"message": message, "type": kind, "param": "input", "code": code}}


ROUTES: dict[str, Callable[[FakeOpenAI, Any], tuple[int, dict[str, Any]]]] = {
    MODERATIONS: moderation_response,
    CHAT_COMPLETIONS: chat_response,
}


class _Handler(BaseHTTPRequestHandler):
    server: _FakeServer

    def do_POST(self) -> None:  # noqa: N802 (the http.server naming)
        controller = self.server.controller
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        try:
            body: Any = json.loads(raw)
        except ValueError:
            body = None
        headers = {name.lower(): value for name, value in self.headers.items()}
        reply = controller.record(RecordedRequest("POST", self.path, headers, body))
        if reply is not None and reply.delay:
            controller.wait_released(reply.delay)
        if reply is not None and reply.body is not None:
            self._send(reply.status, reply.body, reply.headers)
            return
        route = ROUTES.get(self.path)
        if route is None:
            self._send(404, json.dumps(_error_body("not found", "invalid_request_error")).encode())
            return
        status, payload = route(controller, body)
        self._send(status, json.dumps(payload).encode())

    def _send(self, status: int, body: bytes, headers: tuple[tuple[str, str], ...] = ()) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            for name, value in headers:
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a timeout test); nothing to tell it

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        """Keep test output quiet."""


class _FakeServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, controller: FakeOpenAI) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.controller = controller

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client hanging up mid-reply is expected here; do not print tracebacks."""


@contextmanager
def running_fake_openai(**settings: Any) -> Iterator[tuple[str, FakeOpenAI]]:
    """Serve a fake OpenAI API on a free local port; yields ``(base_url, controller)``.

    ``settings`` are ``FakeOpenAI`` fields (``flag_marker``, ``image_rule``, ...).
    """
    controller = FakeOpenAI(**settings)
    server = _FakeServer(controller)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1", controller
    finally:
        controller.release()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
