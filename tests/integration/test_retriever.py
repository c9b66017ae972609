"""The LangChain retriever, including langchain-tests' standard retriever suite."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.documents import Document
from langchain_tests.integration_tests import RetrieversIntegrationTests

from memgraph.retriever import MemgraphRetriever
from tests.conftest import SAMPLE_CONVERSATION
from tests.fakes import TurnExtractor


@pytest.fixture
def sample_memory(make_memory: Any) -> Any:
    memory = make_memory(extractor=TurnExtractor())
    memory.ingest(SAMPLE_CONVERSATION, progress=False)
    return memory


def test_documents_carry_provenance(sample_memory: Any) -> None:
    retriever = MemgraphRetriever(memory=sample_memory, k=3)

    documents = retriever.invoke("What is the name of Ben's dog?")

    assert len(documents) == 3
    first = documents[0]
    assert isinstance(first, Document)
    assert first.page_content
    assert set(first.metadata) >= {"edu_id", "session_id", "session_date", "speakers", "source_turn_ids", "score"}
    assert first.metadata["source_turn_ids"][0].startswith("S")
    assert first.id == first.metadata["edu_id"]


async def test_async_invoke_matches_sync(sample_memory: Any) -> None:
    retriever = MemgraphRetriever(memory=sample_memory, k=4)

    sync_documents = retriever.invoke("pottery class")
    async_documents = await retriever.ainvoke("pottery class")

    assert [doc.id for doc in async_documents] == [doc.id for doc in sync_documents]


def test_k_keyword_overrides_constructor(sample_memory: Any) -> None:
    retriever = MemgraphRetriever(memory=sample_memory, k=5)

    assert len(retriever.invoke("pottery class", k=2)) == 2


class TestMemgraphRetrieverStandard(RetrieversIntegrationTests):
    """langchain-tests' conformance suite, on a space holding the sample conversation."""

    @pytest.fixture(autouse=True)
    def _space(self, make_memory: Any) -> None:
        memory = make_memory(extractor=TurnExtractor())
        memory.ingest(SAMPLE_CONVERSATION, progress=False)
        self._memory = memory

    @property
    def retriever_constructor(self) -> type[MemgraphRetriever]:
        return MemgraphRetriever

    @property
    def retriever_constructor_params(self) -> dict[str, Any]:
        return {"memory": self._memory}

    @property
    def retriever_query_example(self) -> str:
        return "What did Ana make in her pottery class?"
