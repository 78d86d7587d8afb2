"""AI safety checks for uploads on OpenAI's moderation model: text metadata and GIF frames.

``omni-moderation-latest`` classifies both text and images, so one model judges the
title, tags and description and a few sampled frames of the GIF. The moderation
endpoint accepts a single image per request, so each sampled frame is its own
request and the worst frame decides. A chat completion with a vision model can add a
one-sentence description (``metadata["description"]``); it never decides safety.

Failures are never read as "safe": timeouts, connection errors, 429 and 5xx are
retried a bounded number of times with exponential backoff (honouring
``Retry-After``), then raise ``AISafetyError``, as do error statuses, malformed or
unexpected responses and unreadable files.

The ``openai`` package is an optional extra (``pip install 'gifdist[openai]'``) and is
imported only when a scanner is built. Scanners hold no mutable state after
construction, and the ``openai`` client is thread-safe, so one scanner may serve many
threads at once.
"""

from __future__ import annotations

import base64
import email.utils
import functools
import io
import logging
import math
import os
import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType, ModuleType
from typing import Any

from PIL import Image

from gifdist.errors import InvalidMedia, ServiceUnavailable
from gifdist.media.frames import sample_frames

__all__ = [
    "API_KEY_MISSING",
    "DEFAULT_MAX_FRAMES",
    "DEFAULT_MODERATION_MODEL",
    "DEFAULT_VIOLATION_THRESHOLD",
    "DEFAULT_VISION_MODEL",
    "INSTALL_HINT",
    "MAX_FRAME_EDGE",
    "VIOLATION_LABELS",
    "AISafetyError",
    "AISafetyPipeline",
    "OpenAIModerationScanner",
    "OpenAIVisionScanner",
    "SafetyScanResult",
]

log = logging.getLogger("gifdist.ai_safety_scanner")

DEFAULT_MODERATION_MODEL = "omni-moderation-latest"
DEFAULT_VISION_MODEL = "gpt-4o-mini"
DEFAULT_TIMEOUT = 10.0
DEFAULT_MAX_RETRIES = 2
DEFAULT_RETRY_BACKOFF = 0.5
DEFAULT_MAX_RETRY_DELAY = 8.0
DEFAULT_VIOLATION_THRESHOLD = 0.5
# First, last and one frame between them: a moderation request per frame, so few.
DEFAULT_MAX_FRAMES = 3
# The moderation model looks at images at this scale; larger frames only cost upload time.
MAX_FRAME_EDGE = 512
INSTALL_HINT = "pip install 'gifdist[openai]'"
DESCRIPTION_PROMPT = (
    "Describe this frame of an animated GIF in one short, neutral sentence "
    "suitable as alt text. Do not speculate."
)
DESCRIPTION_MAX_TOKENS = 120
# 408 and 409 are what the API sends for request and lock timeouts.
_RETRYABLE_STATUSES = frozenset({408, 409, 429})

VIOLATION_LABELS: Mapping[str, str] = MappingProxyType(
    {
        "sexual": "Sexual content",
        "sexual/minors": "Sexual content involving minors",
        "hate": "Hate speech",
        "hate/threatening": "Threatening hate speech",
        "harassment": "Harassment",
        "harassment/threatening": "Threatening harassment",
        "self-harm": "Self-harm content",
        "self-harm/intent": "Self-harm intent",
        "self-harm/instructions": "Self-harm instructions",
        "violence": "Violence",
        "violence/graphic": "Graphic violence",
        "illicit": "Illicit content",
        "illicit/violent": "Violent illicit content",
    }
)
_GENERIC_VIOLATION = "Flagged by the moderation model"
#: The seed's message when neither an API key nor ``OPENAI_API_KEY`` is there.
API_KEY_MISSING = "OpenAI API key not provided"


class AISafetyError(ServiceUnavailable):
    """The AI safety check could not be completed; the content must not count as safe.

    ``retry_after`` is the delay the API asked for when it refused with 429, if any.
    """

    code = "ai_safety_unavailable"

    def __init__(
        self, message: str, *, code: str | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(message, code=code)
        self.retry_after = retry_after


@dataclass
class SafetyScanResult:
    """One scan's verdict.

    ``confidence`` is in [0, 1]: for a safe result, 1 minus the highest category
    score; for an unsafe one, the highest score. ``categories_flagged`` maps each
    violating moderation category to its score; ``metadata`` holds the model, the
    scores of every category and, for images, the frames and ``description``.
    """

    is_safe: bool
    confidence: float
    violations: list[str]
    categories_flagged: dict[str, float]
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class _Moderation:
    """The part of a moderation response the verdict is built from."""

    flagged: bool
    categories: dict[str, bool]
    scores: dict[str, float]
    model: str

    def merged(self, other: _Moderation) -> _Moderation:
        """The worst of two verdicts, category by category."""
        names = self.scores.keys() | other.scores.keys()
        return _Moderation(
            flagged=self.flagged or other.flagged,
            categories={
                name: self.categories.get(name, False) or other.categories.get(name, False)
                for name in self.categories.keys() | other.categories.keys()
            },
            scores={
                name: max(self.scores.get(name, 0.0), other.scores.get(name, 0.0)) for name in names
            },
            model=self.model or other.model,
        )


@dataclass(frozen=True)
class _RetryPolicy:
    """Bounded retries with exponential backoff; all delays in seconds."""

    max_retries: int
    backoff: float
    max_delay: float

    def __post_init__(self) -> None:
        if self.max_retries < 0:
            raise ValueError("max_retries must be 0 or more")
        if self.backoff < 0 or self.max_delay < 0:
            raise ValueError("retry delays must be 0 or more")

    def backoff_delay(self, attempt: int) -> float:
        """Delay before retry number ``attempt + 1``: doubling, capped, with up to 25% jitter."""
        delay = min(self.max_delay, self.backoff * 2.0 ** min(attempt, 30))
        return delay * (1.0 - 0.25 * random.random())


class _OpenAIConnection:
    """A client (``openai.OpenAI`` or one shaped like it) plus our retry policy.

    Requests go through ``client.moderations.create`` and
    ``client.chat.completions.create`` and read their typed results, so any client
    with that shape works. A real ``openai.OpenAI``'s own retries are switched off
    (through a copy) so that only one policy applies.
    """

    def __init__(
        self, openai: ModuleType, client: Any, timeout: float, retry: _RetryPolicy
    ) -> None:
        self._openai = openai
        self.client = client
        self._quiet: tuple[Any, Any] | None = None  # (client, its copy without retries)
        self.timeout = timeout
        self.retry = retry

    def moderate(self, model: str, value: str | list[dict[str, Any]]) -> _Moderation:
        """Classify ``value`` (text, or multi-modal parts); raises AISafetyError."""
        response = self._request(
            "moderation",
            lambda client: client.moderations.create(
                model=model, input=value, timeout=self.timeout
            ),
        )
        return _parse_moderation_payload(_moderation_payload(response))

    def describe(self, model: str, image_url: str) -> tuple[str, str]:
        """A one-sentence description of an image and the model that wrote it."""
        messages = [
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": DESCRIPTION_PROMPT},
                    {"type": "image_url", "image_url": {"url": image_url, "detail": "low"}},
                ],
            }
        ]
        response = self._request(
            "description",
            lambda client: client.chat.completions.create(
                model=model,
                messages=messages,
                max_completion_tokens=DESCRIPTION_MAX_TOKENS,
                timeout=self.timeout,
            ),
        )
        return _parse_chat_payload(_chat_payload(response))

    def _sender(self) -> Any:
        """The client to send with: a real ``openai.OpenAI`` without its own retries."""
        client = self.client
        if not isinstance(client, self._openai.OpenAI) or client.max_retries == 0:
            return client
        quiet = self._quiet
        if quiet is None or quiet[0] is not client:
            quiet = self._quiet = (client, client.with_options(max_retries=0))
        return quiet[1]

    def _request(self, what: str, send: Callable[[Any], Any]) -> Any:
        """Send with bounded retries and return the typed result; raises AISafetyError."""
        attempt = 0
        while True:
            try:
                return send(self._sender())
            except ValueError as exc:  # the client could not decode the body as JSON
                raise _bad_response(what, f"body is not JSON ({exc})") from exc
            except self._openai.OpenAIError as exc:
                delay = self._retry_delay(exc, attempt)
                if delay is None:
                    raise self._as_safety_error(exc, what, attempt) from exc
                log.warning(
                    "OpenAI %s request failed (%s); retry %d of %d in %.2fs",
                    what,
                    _describe_error(exc),
                    attempt + 1,
                    self.retry.max_retries,
                    delay,
                )
                time.sleep(delay)
                attempt += 1

    def _retry_delay(self, exc: Exception, attempt: int) -> float | None:
        """Seconds to wait before retrying ``exc``, or None when it must not be retried."""
        if attempt >= self.retry.max_retries:
            return None
        if isinstance(exc, self._openai.APIConnectionError):
            return self.retry.backoff_delay(attempt)
        if not isinstance(exc, self._openai.APIStatusError) or not _is_retryable(exc.status_code):
            return None
        retry_after = _retry_after_seconds(exc.response.headers)
        if retry_after is None:
            return self.retry.backoff_delay(attempt)
        return retry_after if retry_after <= self.retry.max_delay else None

    def _as_safety_error(self, exc: Exception, what: str, attempt: int) -> AISafetyError:
        """The AISafetyError that reports ``exc`` after ``attempt`` retries."""
        message = (
            f"OpenAI {what} request failed after {attempt + 1} attempt(s): {_describe_error(exc)}"
        )
        if isinstance(exc, self._openai.APITimeoutError):
            return AISafetyError(message, code="ai_safety_timeout")
        if isinstance(exc, self._openai.APIStatusError):
            retry_after = _retry_after_seconds(exc.response.headers)
            code = "ai_safety_rate_limited" if exc.status_code == 429 else None
            return AISafetyError(message, code=code, retry_after=retry_after)
        return AISafetyError(message)


class _OpenAIScanner:
    """Construction shared by the scanners: import ``openai``, build or adopt a client.

    ``api_key`` is the argument, else the adopted client's, else ``OPENAI_API_KEY``
    (read here, as the seed's constructors do); ``client`` is the ``openai.OpenAI``
    (or the caller's client) every request goes through.
    """

    def __init__(
        self,
        api_key: str | None,
        *,
        base_url: str | None,
        model: str,
        timeout: float,
        max_retries: int,
        client: Any,
        retry_backoff: float,
        max_retry_delay: float,
        threshold: float,
    ) -> None:
        if timeout <= 0:
            raise ValueError("timeout must be positive")
        if not 0.0 < threshold <= 1.0:
            raise ValueError("threshold must be in (0, 1]")
        self.api_key = _resolve_api_key(api_key, client)
        openai = _import_openai()
        if client is None:
            client = _build_client(openai, self.api_key, base_url, timeout)
        retry = _RetryPolicy(max_retries, retry_backoff, max_retry_delay)
        self._connection = _OpenAIConnection(openai, client, timeout, retry)
        self.model = model
        self.threshold = threshold

    @property
    def client(self) -> Any:
        """The client requests go through (``openai.OpenAI`` unless one was handed in)."""
        return self._connection.client

    @client.setter
    def client(self, client: Any) -> None:
        self._connection.client = client

    @property
    def timeout(self) -> float:
        """Seconds allowed per HTTP attempt."""
        return self._connection.timeout

    @property
    def max_retries(self) -> int:
        """Retries after the first attempt on timeouts, connection errors, 429 and 5xx."""
        return self._connection.retry.max_retries


class OpenAIModerationScanner(_OpenAIScanner):
    """Text moderation (titles, tags, descriptions) with OpenAI's moderation model.

    ``api_key`` falls back to ``OPENAI_API_KEY`` and ``base_url`` to ``OPENAI_BASE_URL``
    (read by the ``openai`` client). ``client`` adopts a ready ``openai.OpenAI`` (its own
    retries are replaced by this scanner's) or any client with the same
    ``moderations.create`` shape. Each HTTP attempt may take ``timeout``
    seconds and ``max_retries`` bounds the retries, so one request gives up after at
    most ``(max_retries + 1) * timeout`` plus the backoff delays (each at most
    ``max_retry_delay``). Raises AISafetyError when the
    ``openai`` package is missing or no API key is configured, ValueError for a bad
    argument.
    """

    def __init__(
        self,
        api_key: str | None = None,
        *,
        base_url: str | None = None,
        model: str = DEFAULT_MODERATION_MODEL,
        timeout: float = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        client: Any = None,
        retry_backoff: float = DEFAULT_RETRY_BACKOFF,
        max_retry_delay: float = DEFAULT_MAX_RETRY_DELAY,
        threshold: float = DEFAULT_VIOLATION_THRESHOLD,
    ) -> None:
        super().__init__(
            api_key,
            base_url=base_url,
            model=model,
            timeout=timeout,
            max_retries=max_retries,
            client=client,
            retry_backoff=retry_backoff,
            max_retry_delay=max_retry_delay,
            threshold=threshold,
        )

    def scan_text(self, text: str) -> SafetyScanResult:
        """Moderate ``text``; blank text is safe without a request.

        A category is a violation when the model flags it or its score reaches
        ``threshold``. Raises AISafetyError when the check cannot be completed.
        """
        if not text or not text.strip():
            return SafetyScanResult(True, 1.0, [], {}, {"text_length": 0, "flagged": False})
        moderation = self._connection.moderate(self.model, text)
        metadata = {
            "text_length": len(text),
            "model": moderation.model,
            "flagged": moderation.flagged,
        }
        return _verdict(moderation, self.threshold, metadata)


class OpenAIVisionScanner(_OpenAIScanner):
    """Visual moderation of an image or GIF: sampled frames through the moderation model.

    Up to ``max_frames`` frames (first, last and the most representative between
    them) are downscaled to at most ``max_frame_edge`` pixels, sent as PNG data URLs,
    one per request, and the worst frame decides. With ``describe`` a chat completion
    on ``vision_model`` adds ``metadata["description"]``. Other arguments and errors
    are as for ``OpenAIModerationScanner``.
    """

    def __init__(
        self,
        api_key: str | None = None,
        *,
        base_url: str | None = None,
        model: str = DEFAULT_MODERATION_MODEL,
        timeout: float = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        client: Any = None,
        retry_backoff: float = DEFAULT_RETRY_BACKOFF,
        max_retry_delay: float = DEFAULT_MAX_RETRY_DELAY,
        threshold: float = DEFAULT_VIOLATION_THRESHOLD,
        max_frames: int = DEFAULT_MAX_FRAMES,
        max_frame_edge: int = MAX_FRAME_EDGE,
        describe: bool = False,
        vision_model: str = DEFAULT_VISION_MODEL,
    ) -> None:
        if max_frames < 1:
            raise ValueError("max_frames must be at least 1")
        if max_frame_edge < 16:
            raise ValueError("max_frame_edge must be at least 16")
        super().__init__(
            api_key,
            base_url=base_url,
            model=model,
            timeout=timeout,
            max_retries=max_retries,
            client=client,
            retry_backoff=retry_backoff,
            max_retry_delay=max_retry_delay,
            threshold=threshold,
        )
        self.max_frames = max_frames
        self.max_frame_edge = max_frame_edge
        self.describe = describe
        self.vision_model = vision_model

    def scan_image(
        self,
        file_path: str | os.PathLike[str],
        check_nsfw: bool = True,
        *,
        describe: bool | None = None,
    ) -> SafetyScanResult:
        """Moderate the frames of the image at ``file_path``.

        ``check_nsfw=False`` skips moderation and returns an unchecked, not-safe
        result (only a check can call content safe). ``describe`` overrides the
        scanner's setting; a failed description leaves ``description`` empty and
        records ``description_error``. Raises AISafetyError when the file is missing or
        not a readable image, or when moderation cannot be completed.
        """
        indices, urls = self._frame_data_urls(file_path)
        metadata: dict[str, Any] = {"frame_indices": indices, "frames_scanned": 0}
        result = self._moderate_frames(urls, metadata) if check_nsfw else _unchecked(metadata)
        want_description = self.describe if describe is None else describe
        metadata.update(self._description(urls[len(urls) // 2]) if want_description else {})
        metadata.setdefault("description", "")
        return result

    def _frame_data_urls(self, file_path: str | os.PathLike[str]) -> tuple[list[int], list[str]]:
        """Indices and PNG data URLs of the sampled frames; raises AISafetyError."""
        try:
            frames = sample_frames(file_path, max_frames=self.max_frames)
        except InvalidMedia as exc:
            raise AISafetyError(
                f"cannot read frames of {file_path!r}: {exc.message}",
                code="ai_safety_unreadable_media",
            ) from exc
        return [f.index for f in frames], [
            _png_data_url(f.image, self.max_frame_edge) for f in frames
        ]

    def _moderate_frames(self, urls: Sequence[str], metadata: dict[str, Any]) -> SafetyScanResult:
        """One moderation request per frame (the API takes one image each); worst frame wins."""
        moderations = [self._connection.moderate(self.model, [_image_part(url)]) for url in urls]
        worst = functools.reduce(_Moderation.merged, moderations)
        indices = metadata["frame_indices"]
        flagged_frames = [index for index, m in zip(indices, moderations, strict=True) if m.flagged]
        metadata.update(
            frames_scanned=len(urls),
            frames_flagged=flagged_frames,
            model=worst.model,
            flagged=worst.flagged,
        )
        return _verdict(worst, self.threshold, metadata)

    def _description(self, image_url: str) -> dict[str, Any]:
        """``description`` (and ``description_model``), or an empty one with the error."""
        try:
            text, model = self._connection.describe(self.vision_model, image_url)
        except AISafetyError as exc:
            log.warning("GIF description failed; continuing without one: %s", exc.message)
            return {"description": "", "description_error": exc.message}
        return {"description": text, "description_model": model}


class AISafetyPipeline:
    """Text and visual AI safety scans of one upload, and the combined verdict.

    Both scanners share one ``openai`` client. Keyword arguments are those of the
    scanners (``describe``, ``max_frames`` and ``vision_model`` apply to the visual
    scan). Raises AISafetyError when ``openai`` is missing or not configured.
    """

    def __init__(
        self,
        api_key: str | None = None,
        enable_vision: bool = True,
        *,
        base_url: str | None = None,
        model: str = DEFAULT_MODERATION_MODEL,
        timeout: float = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        client: Any = None,
        retry_backoff: float = DEFAULT_RETRY_BACKOFF,
        max_retry_delay: float = DEFAULT_MAX_RETRY_DELAY,
        threshold: float = DEFAULT_VIOLATION_THRESHOLD,
        max_frames: int = DEFAULT_MAX_FRAMES,
        describe: bool = False,
        vision_model: str = DEFAULT_VISION_MODEL,
    ) -> None:
        if client is None:
            client = _build_client(
                _import_openai(), _resolve_api_key(api_key, None), base_url, timeout
            )
        common: dict[str, Any] = {
            "model": model,
            "timeout": timeout,
            "max_retries": max_retries,
            "client": client,
            "retry_backoff": retry_backoff,
            "max_retry_delay": max_retry_delay,
            "threshold": threshold,
        }
        self.moderation_scanner = OpenAIModerationScanner(**common)
        self.vision_scanner: OpenAIVisionScanner | None = None
        if enable_vision:
            self.vision_scanner = OpenAIVisionScanner(
                max_frames=max_frames, describe=describe, vision_model=vision_model, **common
            )
        self.enable_vision = enable_vision

    def scan_upload(
        self,
        file_path: str | None = None,
        title: str = "",
        tags: list[str] | None = None,
        description: str = "",
    ) -> dict[str, SafetyScanResult]:
        """Scan an upload's text (title, tags, description) and, with vision, its frames.

        Returns ``{"text": ...}`` when there is any text and ``{"visual": ...}`` when
        vision is enabled and ``file_path`` given. Raises AISafetyError when a scan
        cannot be completed.
        """
        results: dict[str, SafetyScanResult] = {}
        text = " ".join(part for part in (title, " ".join(tags or []), description) if part)
        if text.strip():
            results["text"] = self.moderation_scanner.scan_text(text)
        if self.vision_scanner is not None and file_path:
            results["visual"] = self.vision_scanner.scan_image(file_path)
        return results

    def is_safe(self, scan_results: Mapping[str, Any]) -> tuple[bool, list[str], float]:
        """Combine scans into ``(is_safe, violations, confidence)``.

        Safe only when there is at least one scan and every scan is a safe
        ``SafetyScanResult`` without an ``error`` in its metadata. Violations are
        prefixed with the scan name (``"text: Violence"``); confidence is the lowest
        of the scans' (0.0 when a scan failed or nothing was scanned).
        """
        if not scan_results:
            return False, ["no scan was performed"], 0.0
        safe = True
        violations: list[str] = []
        confidence = 1.0
        for name, result in scan_results.items():
            problem = _scan_failure(result)
            if problem is not None:
                safe, confidence = False, 0.0
                violations.append(f"{name}: {problem}")
                continue
            if not result.is_safe:
                safe = False
                violations.extend(f"{name}: {violation}" for violation in result.violations)
            confidence = min(confidence, result.confidence)
        return safe, violations, confidence


def _scan_failure(result: Any) -> str | None:
    """Why ``result`` cannot count as a completed scan, or None when it can."""
    if not isinstance(result, SafetyScanResult):
        return f"scan failed ({result!r})"
    error = (result.metadata or {}).get("error")
    return f"scan failed ({error})" if error else None


def _verdict(
    moderation: _Moderation, threshold: float, metadata: dict[str, Any]
) -> SafetyScanResult:
    """Turn model scores into violations and a confidence (see ``SafetyScanResult``)."""
    violating = {
        name: moderation.scores.get(name, 1.0)
        for name in moderation.scores.keys() | moderation.categories.keys()
        if moderation.categories.get(name) or moderation.scores.get(name, 0.0) >= threshold
    }
    unsafe = moderation.flagged or bool(violating)
    ordered = sorted(violating, key=lambda name: (-violating[name], name))
    violations = [VIOLATION_LABELS.get(name, name) for name in ordered]
    if unsafe and not violations:
        violations = [_GENERIC_VIOLATION]
    top = max(moderation.scores.values(), default=0.0)
    metadata["category_scores"] = dict(moderation.scores)
    return SafetyScanResult(
        is_safe=not unsafe,
        confidence=top if unsafe else 1.0 - top,
        violations=violations,
        categories_flagged=violating,
        metadata=metadata,
    )


def _unchecked(metadata: dict[str, Any]) -> SafetyScanResult:
    """The result of a visual scan asked not to check: unknown, so not safe."""
    metadata.update(checked=False)
    return SafetyScanResult(False, 0.0, ["Visual content was not checked"], {}, metadata)


def _image_part(url: str) -> dict[str, Any]:
    """A moderation input part for one image."""
    return {"type": "image_url", "image_url": {"url": url}}


def _png_data_url(image: Image.Image, max_edge: int) -> str:
    """``image`` shrunk to fit ``max_edge`` (aspect kept), as a PNG ``data:`` URL."""
    frame = image.convert("RGB")
    frame.thumbnail((max_edge, max_edge), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    frame.save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _import_openai() -> ModuleType:
    """The ``openai`` module; raises AISafetyError naming the extra when it is missing."""
    try:
        import openai
    except ImportError as exc:
        raise AISafetyError(
            f"AI safety scanning needs the openai package: {INSTALL_HINT}",
            code="ai_safety_not_installed",
        ) from exc
    return openai


def _resolve_api_key(api_key: str | None, client: Any) -> str | None:
    """The key given, else the adopted client's, else ``OPENAI_API_KEY``.

    Raises:
        AISafetyError: no key anywhere and no client to adopt (the seed's message).
    """
    if api_key:
        return api_key
    if client is not None:
        key = getattr(client, "api_key", None)
        return key if isinstance(key, str) and key else None
    key = os.environ.get("OPENAI_API_KEY")
    if not key:
        raise AISafetyError(API_KEY_MISSING, code="ai_safety_not_configured")
    return key


def _build_client(
    openai: ModuleType, api_key: str | None, base_url: str | None, timeout: float
) -> Any:
    """An ``openai.OpenAI`` without its own retries (``base_url`` falls back to
    ``OPENAI_BASE_URL``, read by the client)."""
    return openai.OpenAI(api_key=api_key, base_url=base_url, timeout=timeout, max_retries=0)


def _is_retryable(status: int) -> bool:
    return status in _RETRYABLE_STATUSES or status >= 500


def _retry_after_seconds(headers: Mapping[str, str]) -> float | None:
    """The wait asked for by ``Retry-After`` (seconds or HTTP date) or ``retry-after-ms``."""
    for name, divisor in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        value = headers.get(name)
        if value is None:
            continue
        try:
            seconds = float(value) / divisor
        except ValueError:
            continue
        return max(seconds, 0.0) if math.isfinite(seconds) else None
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(when.timestamp() - time.time(), 0.0)


def _describe_error(exc: Exception) -> str:
    status = getattr(exc, "status_code", None)
    name = type(exc).__name__
    return f"{name} {status}: {exc}" if status is not None else f"{name}: {exc}"


def _dump(value: Any) -> Any:
    """A typed result's fields as a plain dict (API names, only fields the answer set).

    The ``openai`` client builds its models without validation, so anything may be
    in them; a client of the caller's may return plain mappings or its own objects
    with a seed-style ``model_dump()``.
    """
    if isinstance(value, Mapping):
        return dict(value)
    dump = getattr(value, "model_dump", None)
    if dump is None:
        return value
    try:
        return dump(by_alias=True, exclude_unset=True, warnings=False)
    except TypeError:  # a caller's object whose model_dump takes no options
        return dump()


def _moderation_payload(response: Any) -> dict[str, Any]:
    """A typed moderation response as the API's JSON shape (for validation)."""
    try:
        results = [
            {
                "flagged": result.flagged,
                "categories": _dump(result.categories),
                "category_scores": _dump(result.category_scores),
            }
            for result in response.results
        ]
    except (AttributeError, TypeError) as exc:
        raise _bad_response("moderation", f"not a moderation result ({exc})") from exc
    return {"model": getattr(response, "model", ""), "results": results}


def _chat_payload(response: Any) -> dict[str, Any]:
    """A typed chat completion as the API's JSON shape (for validation)."""
    try:
        choices = [{"message": {"content": c.message.content}} for c in response.choices]
    except (AttributeError, TypeError) as exc:
        raise _bad_response("description", f"not a chat completion ({exc})") from exc
    return {"model": getattr(response, "model", ""), "choices": choices}


def _bad_response(what: str, reason: str) -> AISafetyError:
    return AISafetyError(
        f"unexpected OpenAI {what} response: {reason}", code="ai_safety_bad_response"
    )


def _parse_moderation_payload(payload: Mapping[str, Any]) -> _Moderation:
    """Validate a moderation response body; raises AISafetyError on any unexpected shape.

    The ``openai`` client builds its response models without validation, so the
    shape is checked here: an unvalidated result must never read as "not flagged".
    """
    results = payload.get("results")
    if not isinstance(results, list) or len(results) != 1 or not isinstance(results[0], dict):
        raise _bad_response("moderation", "expected exactly one result")
    result = results[0]
    flagged = result.get("flagged")
    if not isinstance(flagged, bool):
        raise _bad_response("moderation", "'flagged' is not a boolean")
    model = payload.get("model", "")
    return _Moderation(
        flagged=flagged,
        categories=_bool_map(result.get("categories")),
        scores=_score_map(result.get("category_scores")),
        model=model if isinstance(model, str) else "",
    )


def _bool_map(value: Any) -> dict[str, bool]:
    if not isinstance(value, dict) or not all(isinstance(v, bool | None) for v in value.values()):
        raise _bad_response("moderation", "'categories' is not a map of booleans")
    return {str(name): bool(flag) for name, flag in value.items()}


def _score_map(value: Any) -> dict[str, float]:
    if not isinstance(value, dict) or not value:
        raise _bad_response("moderation", "'category_scores' is missing or empty")
    scores: dict[str, float] = {}
    for name, score in value.items():
        valid = isinstance(score, int | float) and not isinstance(score, bool)
        if not valid or not math.isfinite(score) or not 0.0 <= score <= 1.0:
            raise _bad_response("moderation", f"score of {name!r} is not a number in [0, 1]")
        scores[str(name)] = float(score)
    return scores


def _parse_chat_payload(payload: Mapping[str, Any]) -> tuple[str, str]:
    """The first choice's text and the model of a chat completion; raises AISafetyError."""
    choices = payload.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        raise _bad_response("description", "no choices")
    message = choices[0].get("message")
    content = message.get("content") if isinstance(message, dict) else None
    if not isinstance(content, str):
        raise _bad_response("description", "the first choice has no text")
    model = payload.get("model", "")
    return content.strip(), model if isinstance(model, str) else ""
