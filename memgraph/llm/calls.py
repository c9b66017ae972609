"""Chat model calls: structured output or JSON text, backoff on transient errors, token counts."""

from __future__ import annotations

import json
import logging
import random
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ValidationError

from memgraph.errors import ConfigurationError

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel
    from langchain_core.messages import BaseMessage

logger = logging.getLogger(__name__)

SchemaT = TypeVar("SchemaT", bound=BaseModel)
ResultT = TypeVar("ResultT")
OutputMode = Literal["auto", "structured", "json"]

#: Exception class names, anywhere in the class hierarchy, that mark a call worth retrying
#: (the names used by the openai, anthropic and httpx packages and the standard library).
_TRANSIENT_NAMES = frozenset(
    {
        "RateLimitError",
        "APITimeoutError",
        "TimeoutError",
        "TimeoutException",
        "ReadTimeout",
        "ConnectTimeout",
        "InternalServerError",
        "ServiceUnavailableError",
        "OverloadedError",
    }
)
#: HTTP statuses of rate limits, timeouts and overloaded servers; 529 is Anthropic's "overloaded".
_TRANSIENT_STATUSES = frozenset({408, 429, 500, 502, 503, 504, 529})
_MAX_REASON_CHARS = 600


def is_transient_error(error: BaseException) -> bool:
    """Return whether ``error`` is a rate limit, a timeout or an overloaded server.

    The test is the class name anywhere in the class hierarchy, or the HTTP
    status, of the error itself or of up to two errors it was raised from.
    """
    current: BaseException | None = error
    for _ in range(3):  # the error itself and up to two causes it wraps
        if current is None:
            return False
        if any(cls.__name__ in _TRANSIENT_NAMES for cls in type(current).__mro__):
            return True
        if _status_code(current) in _TRANSIENT_STATUSES:
            return True
        current = current.__cause__
    return False


def _status_code(error: BaseException) -> int | None:
    for candidate in (
        getattr(error, "status_code", None),
        getattr(error, "status", None),
        getattr(getattr(error, "response", None), "status_code", None),
    ):
        if isinstance(candidate, int):
            return candidate
    return None


def _retry_after_seconds(error: BaseException) -> float | None:
    headers = getattr(getattr(error, "response", None), "headers", None)
    if headers is None:
        return None
    try:
        value = headers.get("retry-after")
        return float(value) if value is not None else None
    except (AttributeError, TypeError, ValueError):
        return None


@dataclass(frozen=True)
class RetryPolicy:
    """Backoff for calls that failed with a rate limit, a timeout or an overloaded server.

    Attributes:
        max_retries: Retries after the first call; 0 disables them.
        initial_delay: Seconds before the first retry; each later retry waits twice as long.
        max_delay: Upper bound of one wait, in seconds, also applied to a server's Retry-After.
    """

    max_retries: int = 5
    initial_delay: float = 1.0
    max_delay: float = 60.0

    def delay(self, retry: int, error: BaseException | None = None) -> float:
        """Return the seconds to wait before retry number ``retry`` (from 0), with jitter of up to -50 %."""
        delay = min(self.max_delay, self.initial_delay * 2**retry) * random.uniform(0.5, 1.0)
        retry_after = _retry_after_seconds(error) if error is not None else None
        if retry_after is not None:
            delay = max(delay, min(retry_after, self.max_delay))
        return delay


class LLMUsage:
    """Counters of chat model calls and tokens, safe to update from several threads.

    Tokens come from ``usage_metadata`` of each response; a provider that
    does not report usage adds calls but no tokens.
    """

    FIELDS = ("calls", "cache_hits", "input_tokens", "output_tokens", "rejected_outputs", "retries")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts = dict.fromkeys(self.FIELDS, 0)

    def record_response(self, message: BaseMessage | None) -> None:
        """Count one completed call and the tokens that ``message`` reports."""
        metadata = getattr(message, "usage_metadata", None) or {}
        with self._lock:
            self._counts["calls"] += 1
            self._counts["input_tokens"] += int(metadata.get("input_tokens") or 0)
            self._counts["output_tokens"] += int(metadata.get("output_tokens") or 0)

    def add(self, field: str, amount: int = 1) -> None:
        """Add ``amount`` to the counter ``field``, one of :attr:`FIELDS`."""
        if field not in self._counts:
            raise KeyError(f"unknown usage counter {field!r}; expected one of {', '.join(self.FIELDS)}")
        with self._lock:
            self._counts[field] += amount

    def counts(self) -> dict[str, int]:
        """Return a copy of the counters."""
        with self._lock:
            return dict(self._counts)


def call_with_backoff(
    call: Callable[[], ResultT],
    *,
    policy: RetryPolicy,
    label: str,
    usage: LLMUsage | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> ResultT:
    """Run ``call``, retrying with exponential backoff while it fails with a transient error.

    Raises:
        Exception: the last error of ``call`` when it is not transient or the retries are used up.
    """
    retry = 0
    while True:
        try:
            return call()
        except Exception as e:
            if not is_transient_error(e) or retry >= policy.max_retries:
                raise
            delay = policy.delay(retry, e)
            retry += 1
            logger.warning(
                "%s: chat model call failed with %s: %s; retry %d of %d in %.1f s",
                label,
                type(e).__name__,
                _shorten(str(e)),
                retry,
                policy.max_retries,
                delay,
            )
            if usage is not None:
                usage.add("retries")
            sleep(delay)


def message_text(message: Any) -> str:
    """Return the text of a chat message, joining text blocks when the content is a list."""
    text = getattr(message, "text", None)
    if isinstance(text, str):  # a property in langchain-core 1.x
        return str(text)
    if callable(text):  # a method in langchain-core 0.3
        text = text()
        if isinstance(text, str):
            return text
    content = getattr(message, "content", "")
    return content if isinstance(content, str) else ""


def parse_json_text(text: str) -> Any:
    """Parse the JSON value in a model's text: bare, in a Markdown code fence, or after a line of prose.

    Raises:
        ValueError: the text contains no complete JSON value.
    """
    from langchain_core.utils.json import parse_json_markdown

    try:
        return parse_json_markdown(text, parser=json.loads)
    except json.JSONDecodeError:
        pass
    decoder = json.JSONDecoder()
    for position, character in enumerate(text):
        if character in "{[":
            try:
                value, _ = decoder.raw_decode(text, position)
            except json.JSONDecodeError:
                continue
            return value
    raise ValueError(f"no complete JSON value in the model output: {_shorten(text)!r}")


def describe_validation_error(error: ValidationError) -> str:
    """Summarise a pydantic error as ``'location: message'`` items, at most five."""
    items = [f"{'.'.join(str(part) for part in item['loc']) or 'output'}: {item['msg']}" for item in error.errors()]
    more = f" (and {len(items) - 5} more)" if len(items) > 5 else ""
    return "; ".join(items[:5]) + more


def _shorten(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _MAX_REASON_CHARS else text[: _MAX_REASON_CHARS - 3] + "..."


@dataclass(frozen=True)
class StructuredResult(Generic[SchemaT]):
    """Outcome of one call: the parsed output, or the reason it was rejected."""

    output: SchemaT | None
    error: str | None = None


class StructuredOutputCaller(Generic[SchemaT]):
    """Calls a chat model for an instance of a pydantic schema.

    Structured output (``with_structured_output(include_raw=True)``) is used
    where the model implements it. Otherwise, and when a structured call
    returns text in place of a tool call, the JSON value in the text is parsed
    and validated against the schema.

    Args:
        chat_model: Any LangChain chat model.
        schema: Pydantic model the output must match.
        mode: ``'auto'`` picks structured output when available; ``'structured'``
            requires it; ``'json'`` always parses the text.
        retry: Backoff for rate limits, timeouts and overloaded servers.
        usage: Counters the calls and tokens are added to.
        sleep: Wait function, replaceable in tests.

    Raises:
        ConfigurationError: ``mode`` is ``'structured'`` and the model does not implement it.
    """

    def __init__(
        self,
        chat_model: BaseChatModel,
        schema: type[SchemaT],
        *,
        mode: OutputMode = "auto",
        retry: RetryPolicy | None = None,
        usage: LLMUsage | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.chat_model = chat_model
        self.schema = schema
        self.retry = retry or RetryPolicy()
        self.usage = usage or LLMUsage()
        self._sleep = sleep
        self._structured: Any = None
        if mode != "json":
            # NOTE: only a model that lacks with_structured_output falls back to JSON text. A provider that
            # rejects the tool call at request time fails the call instead; mode 'json' avoids that.
            try:
                self._structured = chat_model.with_structured_output(schema, include_raw=True)
            except NotImplementedError as e:
                if mode == "structured":
                    raise ConfigurationError(
                        f"{type(chat_model).__name__} does not implement structured output; use mode 'json' or 'auto'"
                    ) from e
                logger.info("%s has no structured output; parsing JSON from its text", type(chat_model).__name__)
        self.mode: OutputMode = "structured" if self._structured is not None else "json"

    def invoke(self, messages: Sequence[BaseMessage], *, label: str) -> StructuredResult[SchemaT]:
        """Call the model once, plus backoff retries, and parse its response.

        Raises:
            Exception: the model's own error when it is not transient or the retries are used up.
        """
        if self._structured is not None:
            response = call_with_backoff(
                lambda: self._structured.invoke(list(messages)),
                policy=self.retry,
                label=label,
                usage=self.usage,
                sleep=self._sleep,
            )
            return self._from_structured(response)
        message = call_with_backoff(
            lambda: self.chat_model.invoke(list(messages)),
            policy=self.retry,
            label=label,
            usage=self.usage,
            sleep=self._sleep,
        )
        self.usage.record_response(message)
        return self._from_text(message_text(message))

    def _from_structured(self, response: dict[str, Any]) -> StructuredResult[SchemaT]:
        raw = response.get("raw")
        self.usage.record_response(raw)
        parsed = response.get("parsed")
        if isinstance(parsed, self.schema):
            return StructuredResult(parsed)
        if isinstance(parsed, dict):
            return self._validate(parsed)
        error = response.get("parsing_error")
        if error is not None:
            if isinstance(error, ValidationError):
                return StructuredResult(None, f"output does not match the schema: {describe_validation_error(error)}")
            return StructuredResult(None, f"structured output could not be parsed: {_shorten(str(error))}")
        # No tool call: some models respond in text even when a tool is bound.
        text = message_text(raw)
        if not text.strip():
            return StructuredResult(None, "the model returned neither a tool call nor text")
        return self._from_text(text)

    def _from_text(self, text: str) -> StructuredResult[SchemaT]:
        try:
            data = parse_json_text(text)
        except ValueError as e:
            return StructuredResult(None, f"output is not JSON: {e}")
        return self._validate(data)

    def _validate(self, data: Any) -> StructuredResult[SchemaT]:
        try:
            return StructuredResult(self.schema.model_validate(data))
        except ValidationError as e:
            return StructuredResult(None, f"output does not match the schema: {describe_validation_error(e)}")
