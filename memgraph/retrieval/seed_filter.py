"""Optional LLM check of the seed EDUs before propagation.

The vector index returns the EDUs nearest to the query, and some of them are
near without being relevant. A seed filter drops those, so that personalized
PageRank restarts only from relevant seeds. Search runs without one unless a
filter or a chat model is configured, and a failing filter keeps all seeds.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import numpy as np
from pydantic import BaseModel, Field

from memgraph.errors import ConfigurationError
from memgraph.llm.calls import OutputMode, RetryPolicy, StructuredOutputCaller
from memgraph.llm.prompts import PromptTemplate
from memgraph.store import GraphStore

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

logger = logging.getLogger(__name__)

#: Prompt file of ``memgraph/retrieval/prompts/`` used when none is given.
DEFAULT_PROMPT_VERSION = "seed_filter_v1"


@runtime_checkable
class SeedFilter(Protocol):
    """Selects the seed EDUs relevant to a query."""

    def select(self, query: str, seeds: Mapping[str, str]) -> Collection[str]:
        """Return the ids among ``seeds`` (EDU id → text) that are relevant to ``query``."""
        ...


class SeedSelection(BaseModel):
    """The memories relevant to the question."""

    relevant: list[int] = Field(description="Numbers of the relevant memories, as given in square brackets.")


class SeedFilterError(ValueError):
    """The chat model's response could not be used to select seeds."""


class LLMSeedFilter:
    """A seed filter that lets a LangChain chat model select the relevant seeds.

    Args:
        chat_model: Any LangChain chat model.
        prompt: Prompt template; by default ``memgraph/retrieval/prompts/seed_filter_v1.md``.
        retry: Backoff on rate limits and timeouts; short by default because a query waits for it.
        output_mode: ``'auto'``, ``'structured'`` or ``'json'``; see
            :class:`memgraph.llm.calls.StructuredOutputCaller`.
    """

    def __init__(
        self,
        chat_model: BaseChatModel,
        *,
        prompt: PromptTemplate | None = None,
        retry: RetryPolicy | None = None,
        output_mode: OutputMode = "auto",
    ) -> None:
        self.prompt = prompt or PromptTemplate.from_package("memgraph.retrieval", DEFAULT_PROMPT_VERSION)
        self._caller = StructuredOutputCaller(
            chat_model,
            SeedSelection,
            mode=output_mode,
            retry=retry or RetryPolicy(max_retries=2, initial_delay=0.5, max_delay=5.0),
        )
        self.usage = self._caller.usage

    def select(self, query: str, seeds: Mapping[str, str]) -> set[str]:
        """Return the ids of the seeds the model names as relevant to ``query``.

        Raises:
            SeedFilterError: the response does not parse or match :class:`SeedSelection`.
            Exception: the model's own error, after the retries on rate limits and timeouts.
        """
        if not seeds:
            return set()
        edu_ids = list(seeds)
        memories = "\n".join(
            f"[{number}] {' '.join(seeds[edu_id].split())}" for number, edu_id in enumerate(edu_ids, 1)
        )
        result = self._caller.invoke(self.prompt.render(query=query, memories=memories), label="seed filter")
        if result.output is None:
            raise SeedFilterError(result.error or "no output")
        chosen = {edu_ids[number - 1] for number in result.output.relevant if 1 <= number <= len(edu_ids)}
        ignored = [number for number in result.output.relevant if not 1 <= number <= len(edu_ids)]
        if ignored:
            logger.debug("seed filter: ignored numbers %s outside 1..%d", ignored, len(edu_ids))
        return chosen


def as_seed_filter(seed_filter: SeedFilter | BaseChatModel | None) -> SeedFilter | None:
    """Return ``seed_filter`` as a :class:`SeedFilter`, wrapping a chat model in :class:`LLMSeedFilter`.

    Raises:
        ConfigurationError: ``seed_filter`` is neither a seed filter nor a chat model.
    """
    if seed_filter is None or isinstance(seed_filter, SeedFilter):
        return seed_filter
    from langchain_core.language_models import BaseChatModel

    if isinstance(seed_filter, BaseChatModel):
        return LLMSeedFilter(seed_filter)
    raise ConfigurationError(
        "seed_filter must be a LangChain chat model or have a select(query, seeds) method, "
        f"got {type(seed_filter).__name__}"
    )


def filter_seeds(
    seed_filter: SeedFilter,
    store: GraphStore,
    *,
    space: str,
    query: str,
    embedding: np.ndarray,
    seeds: dict[str, float],
) -> dict[str, float]:
    """Return the seeds (EDU id → score) that ``seed_filter`` keeps, or all of them when it fails."""
    records = store.read("retrieval.edu_details", space=space, ids=list(seeds), embedding=embedding.tolist())
    texts = {record["id"]: record["text"] for record in records}
    try:
        keep = set(seed_filter.select(query, texts))
    except Exception as e:  # a filter is optional; any failure, whatever the provider raises, keeps every seed
        logger.warning(
            "space %r: seed filter failed, keeping all %d seeds: %s: %s", space, len(seeds), type(e).__name__, e
        )
        return seeds
    relevant_seeds = {edu_id: score for edu_id, score in seeds.items() if edu_id in keep}
    logger.debug("space %r: seed filter kept %d of %d seeds", space, len(relevant_seeds), len(seeds))
    return relevant_seeds
