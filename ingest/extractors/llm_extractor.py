"""EDU extraction with any LangChain chat model.

The model gets one session per call, with the prompt in
``ingest/prompts/<version>.md``, and responds through structured output where
the model implements it, or with JSON in its text otherwise. Each response is
validated before anything is written: output that does not parse or match the
schema, an EDU with empty text, and a source turn id that is not in the
session are rejected with a logged reason, and the session is requested again
up to ``max_attempts`` times. A session that still fails raises
:class:`IngestError`, which the ingest job reports while it goes on with the
other sessions.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import ValidationError

from ingest.extractors._llm_output import EDUExtraction, InvalidExtractionError, to_extracted_edus
from ingest.extractors.base import ExtractionContext, Extractor
from ingest.extractors.time_expressions import MONTH_NAMES
from ingest.llm_cache import LLMCache
from memgraph.errors import ConfigurationError, IngestError
from memgraph.llm.calls import LLMUsage, OutputMode, RetryPolicy, StructuredOutputCaller
from memgraph.llm.chat_models import model_identifier
from memgraph.llm.prompts import PromptTemplate
from memgraph.models import ExtractedEDU, Session

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel
    from langchain_core.messages import BaseMessage

logger = logging.getLogger(__name__)

#: Prompt file of ``ingest/prompts/`` used when none is given.
DEFAULT_PROMPT_VERSION = "edu_extraction_v1"
_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


class LLMExtractor(Extractor):
    """Extracts EDUs from sessions with a LangChain chat model.

    The checkpoint is ``llm:<prompt version>@<model id>``, e.g.
    ``llm:edu_extraction_v1@openai:gpt-4o-mini``, so a new prompt version or
    another model re-extracts sessions ingested before.

    Args:
        chat_model: Any LangChain chat model.
        model_id: Identifier stored in the checkpoint and cache keys; by default
            ``provider:model`` from the model's LangSmith parameters. It must
            not contain a secret, because it is stored in the database.
        prompt: Prompt template, or the path of a prompt file; by default
            ``ingest/prompts/edu_extraction_v1.md``.
        cache: An :class:`LLMCache`, the path of its SQLite file, ``True`` for
            the default file under the data folder, or ``False`` for none.
        max_attempts: Calls per session before it fails; each rejected response
            costs one attempt. Rate limits and timeouts are retried separately.
        concurrency: Sessions extracted at once by :meth:`extract_many`.
        retry: Backoff on rate limits, timeouts and overloaded servers.
        output_mode: ``'auto'``, ``'structured'`` or ``'json'``; see
            :class:`memgraph.llm.calls.StructuredOutputCaller`.
        sleep: Wait function for backoff, replaceable in tests.

    Raises:
        ConfigurationError: an argument is out of range or the prompt cannot be read.
    """

    name = "llm"

    def __init__(
        self,
        chat_model: BaseChatModel,
        *,
        model_id: str | None = None,
        prompt: PromptTemplate | str | Path | None = None,
        cache: LLMCache | str | Path | bool = True,
        max_attempts: int = 3,
        concurrency: int = 4,
        retry: RetryPolicy | None = None,
        output_mode: OutputMode = "auto",
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if max_attempts < 1:
            raise ConfigurationError(f"max_attempts must be at least 1, got {max_attempts}")
        if concurrency < 1:
            raise ConfigurationError(f"concurrency must be at least 1, got {concurrency}")
        self.chat_model = chat_model
        self.model_id = model_id or model_identifier(chat_model)
        self.prompt = _load_prompt(prompt)
        self.version = f"{self.prompt.version}@{self.model_id}"
        self.cache = _open_cache(cache)
        self.max_attempts = max_attempts
        self.concurrency = concurrency
        self.usage = LLMUsage()
        self._caller = StructuredOutputCaller(
            chat_model, EDUExtraction, mode=output_mode, retry=retry, usage=self.usage, sleep=sleep
        )

    def extract(self, session: Session, context: ExtractionContext) -> list[ExtractedEDU]:
        """Return the validated EDUs of ``session``, from the cache when it has them.

        Raises:
            IngestError: every attempt was rejected, the retries on rate limits
                or timeouts ran out, or the model raised another error.
        """
        label = f"{context.conversation_id}/{session.id}"
        messages = self._render(session, context)
        # NOTE: model settings such as temperature are not part of the key; use another cache file to compare them.
        key = LLMCache.make_key(self.model_id, self.prompt.version, self.prompt.digest, *_contents(messages))

        cached = self._from_cache(key, session, label)
        if cached is not None:
            return cached

        reason = ""
        for attempt in range(1, self.max_attempts + 1):
            request = messages if attempt == 1 else [*messages, self.prompt.render_retry(reason)]
            try:
                result = self._caller.invoke(request, label=label)
            except Exception as e:  # providers raise their own types; the job must go on with other sessions
                raise IngestError(
                    f"chat model {self.model_id} failed on session {label}: {type(e).__name__}: {e}. "
                    "Check the model's credentials and limits, then rerun the same command to resume."
                ) from e
            if result.output is None:
                reason = result.error or "no output"
            else:
                try:
                    edus = to_extracted_edus(result.output, session)
                except InvalidExtractionError as e:
                    reason = str(e)
                else:
                    if self.cache is not None:
                        self.cache.put(
                            key,
                            result.output.model_dump(mode="json"),
                            model=self.model_id,
                            prompt_version=self.prompt.version,
                        )
                    logger.debug("session %s: %d EDUs from %s (attempt %d)", label, len(edus), self.model_id, attempt)
                    return edus
            self.usage.add("rejected_outputs")
            logger.warning(
                "session %s: response %d of %d from %s rejected: %s",
                label,
                attempt,
                self.max_attempts,
                self.model_id,
                reason,
            )
        raise IngestError(
            f"chat model {self.model_id} gave no valid EDUs for session {label} in {self.max_attempts} attempts; "
            f"last rejection: {reason}. Rerun to try again, or use another model or prompt version."
        )

    def extract_many(self, items: Iterable[tuple[Session, ExtractionContext]]) -> Iterator[Future[list[ExtractedEDU]]]:
        """Extract sessions concurrently and yield one future per session, in input order.

        At most ``concurrency`` sessions are in flight, and at most twice that
        many are submitted ahead of the consumer. Closing the generator cancels
        sessions not yet started; calls already running finish in the background.
        """
        executor = ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix="llm-extract")
        remaining = iter(items)
        pending: deque[Future[list[ExtractedEDU]]] = deque(
            executor.submit(self.extract, session, context)
            for session, context in islice(remaining, 2 * self.concurrency)
        )
        try:
            while pending:
                yield pending.popleft()
                following = next(remaining, None)
                if following is not None:
                    pending.append(executor.submit(self.extract, *following))
        finally:
            for future in pending:
                future.cancel()
            executor.shutdown(wait=False, cancel_futures=True)

    def _render(self, session: Session, context: ExtractionContext) -> list[BaseMessage]:
        started = session.started_at
        weekday, month = _WEEKDAYS[started.weekday()], MONTH_NAMES[started.month - 1]
        return self.prompt.render(
            session_date=f"{weekday}, {started.day} {month} {started.year}",
            session_date_iso=started.date().isoformat(),
            speakers=", ".join(context.speakers or session.speakers),
            turns="\n".join(f"[{turn.id}] {turn.speaker}: {' '.join(turn.content.split())}" for turn in session.turns),
        )

    def _from_cache(self, key: str, session: Session, label: str) -> list[ExtractedEDU] | None:
        if self.cache is None:
            return None
        stored = self.cache.get(key)
        if stored is None:
            return None
        try:
            edus = to_extracted_edus(EDUExtraction.model_validate(stored), session)
        except (ValidationError, InvalidExtractionError) as e:
            logger.warning("session %s: cached output no longer validates, calling the model again: %s", label, e)
            return None
        self.usage.add("cache_hits")
        logger.debug("session %s: %d EDUs from the LLM cache", label, len(edus))
        return edus


def _load_prompt(prompt: PromptTemplate | str | Path | None) -> PromptTemplate:
    if prompt is None:
        return PromptTemplate.from_package("ingest", DEFAULT_PROMPT_VERSION)
    if isinstance(prompt, PromptTemplate):
        return prompt
    return PromptTemplate.from_file(prompt)


def _open_cache(cache: LLMCache | str | Path | bool) -> LLMCache | None:
    if cache is True:
        return LLMCache()
    if cache is False:
        return None
    if isinstance(cache, LLMCache):
        return cache
    return LLMCache(cache)


def _contents(messages: list[BaseMessage]) -> list[str]:
    return [f"{message.type}\x1f{message.content}" for message in messages]
