"""The LLM seed filter with fake chat models, and its failure handling in retrieval."""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping
from typing import Any

import numpy as np
import pytest

from memgraph.errors import ConfigurationError
from memgraph.llm.calls import RetryPolicy
from memgraph.retrieval.seed_filter import LLMSeedFilter, SeedFilterError, as_seed_filter, filter_seeds
from memgraph.store import GraphStore
from tests.llm_fakes import ReplayChatModel, ToolReplayChatModel

SEEDS = {
    "edu-a": "Ana signed up for the pottery class at the community center.",
    "edu-b": "Ben spent last weekend fixing his old bike.",
    "edu-c": "Ana's first pottery lesson is next Tuesday.",
}
QUERY = "When did Ana start pottery?"


class _Store(GraphStore):
    """Stands in for GraphStore: returns the texts of ``SEEDS`` for ``retrieval.edu_details``."""

    def __init__(self) -> None:  # no driver: nothing is sent
        self.statements: list[str] = []

    def read(self, name: str, **parameters: Any) -> list[dict[str, Any]]:
        self.statements.append(name)
        return [{"id": edu_id, "text": SEEDS[edu_id]} for edu_id in parameters["ids"] if edu_id in SEEDS]


class _FailingFilter:
    def select(self, query: str, seeds: Mapping[str, str]) -> Collection[str]:
        raise RuntimeError("provider unavailable")


def _no_retry() -> RetryPolicy:
    return RetryPolicy(max_retries=0)


def test_tool_call_selects_numbered_seeds() -> None:
    model = ToolReplayChatModel.from_recording("seed_filter", tool_name="SeedSelection")
    seed_filter = LLMSeedFilter(model)

    selected = seed_filter.select(QUERY, SEEDS)

    # The recording names 1, 3 and 9; 9 is out of range and ignored.
    assert selected == {"edu-a", "edu-c"}
    assert model.calls == 1
    assert seed_filter.usage.counts()["input_tokens"] == 240


def test_prompt_lists_query_and_numbered_seeds() -> None:
    model = ToolReplayChatModel.from_recording("seed_filter", tool_name="SeedSelection")

    LLMSeedFilter(model).select(QUERY, SEEDS)

    user = str(model.requests[0][1].content)
    assert f"Question: {QUERY}" in user
    assert "[2] Ben spent last weekend fixing his old bike." in user


def test_json_text_response_selects_seeds() -> None:
    model = ReplayChatModel(responses={"*": [{"text": 'Relevant:\n```json\n{"relevant": ["2"]}\n```'}]})

    assert LLMSeedFilter(model).select(QUERY, SEEDS) == {"edu-b"}


def test_unparseable_response_raises() -> None:
    model = ReplayChatModel(responses={"*": [{"text": "All of them look relevant to me."}]})

    with pytest.raises(SeedFilterError, match="not JSON"):
        LLMSeedFilter(model).select(QUERY, SEEDS)


def test_empty_seeds_make_no_call() -> None:
    model = ReplayChatModel(responses={})

    assert LLMSeedFilter(model).select(QUERY, {}) == set()
    assert model.calls == 0


def test_filter_seeds_drops_irrelevant() -> None:
    model = ToolReplayChatModel.from_recording("seed_filter", tool_name="SeedSelection")
    store = _Store()
    seeds = {"edu-a": 0.9, "edu-b": 0.8, "edu-c": 0.7}

    kept = filter_seeds(LLMSeedFilter(model), store, space="s", query=QUERY, embedding=np.zeros(4), seeds=seeds)

    assert kept == {"edu-a": 0.9, "edu-c": 0.7}
    assert store.statements == ["retrieval.edu_details"]


def test_failing_model_keeps_all_seeds(caplog: pytest.LogCaptureFixture) -> None:
    model = ReplayChatModel(responses={"*": [{"error": "RateLimitError", "message": "429 too many requests"}]})
    seeds = {"edu-a": 0.9, "edu-b": 0.8}

    with caplog.at_level(logging.WARNING, logger="memgraph.retrieval.seed_filter"):
        kept = filter_seeds(
            LLMSeedFilter(model, retry=_no_retry()),
            _Store(),
            space="s",
            query=QUERY,
            embedding=np.zeros(4),
            seeds=seeds,
        )

    assert kept == seeds
    assert "seed filter failed, keeping all 2 seeds" in caplog.text
    assert "RateLimitError" in caplog.text


def test_failing_custom_filter_keeps_all_seeds(caplog: pytest.LogCaptureFixture) -> None:
    seeds = {"edu-a": 0.9}

    with caplog.at_level(logging.WARNING, logger="memgraph.retrieval.seed_filter"):
        kept = filter_seeds(_FailingFilter(), _Store(), space="s", query=QUERY, embedding=np.zeros(4), seeds=seeds)

    assert kept == seeds
    assert "provider unavailable" in caplog.text


def test_as_seed_filter_wraps_chat_model() -> None:
    assert as_seed_filter(None) is None
    assert isinstance(as_seed_filter(ReplayChatModel(responses={})), LLMSeedFilter)
    custom = _FailingFilter()
    assert as_seed_filter(custom) is custom
    with pytest.raises(ConfigurationError, match="select"):
        as_seed_filter("openai:gpt-4o-mini")  # type: ignore[arg-type]
