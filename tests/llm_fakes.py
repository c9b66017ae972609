"""Fake LangChain chat models that replay recorded responses from ``tests/data/llm/``.

A recording is a JSON object whose ``responses`` map a key to a list of responses.
A request gets its response from the first key found in its user message (a turn id
such as ``"S1:1"`` picks a session), else from ``"*"``, each key's responses in
order. A response is one of:

* ``{"tool_call": {...}}``: a tool call whose arguments are the structured output;
* ``{"text": "..."}``: a text response, as a model without structured output gives;
* ``{"error": "RateLimitError", "message": "..."}``: raise that error instead.

``"usage": {"input_tokens": N, "output_tokens": M}`` adds usage metadata, and a
``tool_call`` value ``"@name"`` stands for the contents of ``tests/data/llm/name.json``.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Self

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from pydantic import PrivateAttr

RECORDINGS = Path(__file__).parent / "data" / "llm"


class RateLimitError(Exception):
    """Stand-in for a provider's rate-limit error, recognised by its class name."""

    status_code = 429


class APITimeoutError(Exception):
    """Stand-in for a provider's timeout error, recognised by its class name."""


class AuthenticationError(Exception):
    """Stand-in for a provider's error that no retry fixes."""

    status_code = 401


_ERRORS: dict[str, type[Exception]] = {
    cls.__name__: cls for cls in (RateLimitError, APITimeoutError, AuthenticationError)
}


def load_responses(name: str) -> dict[str, list[dict[str, Any]]]:
    """Return the ``responses`` of the recording ``tests/data/llm/<name>.json``."""
    recording = json.loads((RECORDINGS / f"{name}.json").read_text(encoding="utf-8"))
    responses: dict[str, list[dict[str, Any]]] = recording["responses"]
    for script in responses.values():
        for response in script:
            reference = response.get("tool_call")
            if isinstance(reference, str) and reference.startswith("@"):
                response["tool_call"] = json.loads((RECORDINGS / f"{reference[1:]}.json").read_text(encoding="utf-8"))
    return responses


class ReplayChatModel(BaseChatModel):
    """Chat model without tool calling that replays recorded responses and records its requests.

    Attributes:
        responses: Recorded responses by key; see the module docstring.
        tool_name: Name of the tool a ``tool_call`` response calls.
        delay: Seconds each call takes, to observe concurrency.
        model: Model name, reported to LangSmith parameters.
    """

    responses: dict[str, list[dict[str, Any]]]
    tool_name: str = "EDUExtraction"
    delay: float = 0.0
    model: str = "replay-1"

    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)
    _cursors: dict[str, int] = PrivateAttr(default_factory=dict)
    _requests: list[list[BaseMessage]] = PrivateAttr(default_factory=list)
    _running: int = PrivateAttr(default=0)
    _max_running: int = PrivateAttr(default=0)

    @classmethod
    def from_recording(cls, name: str, **fields: Any) -> Self:
        """Create the model from ``tests/data/llm/<name>.json``."""
        return cls(responses=load_responses(name), **fields)

    @property
    def _llm_type(self) -> str:
        return "replay"

    @property
    def requests(self) -> list[list[BaseMessage]]:
        """Messages of every call, in call order."""
        return self._requests

    @property
    def calls(self) -> int:
        """Number of calls made, including those that raised."""
        return len(self._requests)

    @property
    def max_running(self) -> int:
        """Largest number of calls that ran at the same time."""
        return self._max_running

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: Any = None,
        **kwargs: Any,
    ) -> ChatResult:
        with self._lock:
            self._requests.append(list(messages))
            key = self._key(messages)
            position = self._cursors.get(key, 0)
            self._cursors[key] = position + 1
            self._running += 1
            self._max_running = max(self._max_running, self._running)
        try:
            if self.delay:
                time.sleep(self.delay)
            responses = self.responses[key]
            if position >= len(responses):
                raise AssertionError(f"unexpected call {position + 1} for key {key!r}: only {len(responses)} recorded")
            return ChatResult(generations=[ChatGeneration(message=self._message(responses[position], position))])
        finally:
            with self._lock:
                self._running -= 1

    def _key(self, messages: Sequence[BaseMessage]) -> str:
        user = next((str(message.content) for message in messages if isinstance(message, HumanMessage)), "")
        for key in self.responses:
            if key != "*" and f"[{key}]" in user:
                return key
        return "*"

    def _message(self, response: dict[str, Any], position: int) -> AIMessage:
        if "error" in response:
            raise _ERRORS[response["error"]](response.get("message", response["error"]))
        usage = response.get("usage")
        metadata = None
        if usage is not None:
            metadata = {
                "input_tokens": usage["input_tokens"],
                "output_tokens": usage["output_tokens"],
                "total_tokens": usage["input_tokens"] + usage["output_tokens"],
            }
        if "tool_call" in response:
            return AIMessage(
                content="",
                tool_calls=[{"name": self.tool_name, "args": response["tool_call"], "id": f"call_{position}"}],
                usage_metadata=metadata,
            )
        return AIMessage(content=response["text"], usage_metadata=metadata)


class ToolReplayChatModel(ReplayChatModel):
    """:class:`ReplayChatModel` with tool calling, so that ``with_structured_output`` works."""

    def bind_tools(self, tools: Sequence[Any], *, tool_choice: str | None = None, **kwargs: Any) -> Any:
        # The recorded responses already are tool calls, so the binding only has to exist.
        return self
