"""LangChain retriever over a memgraph space."""

from __future__ import annotations

from typing import Any

from langchain_core.callbacks import AsyncCallbackManagerForRetrieverRun, CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict, Field

from memgraph.memory import Memory
from memgraph.models import Hit
from memgraph.retrieval.search import SearchMode


def hit_to_document(hit: Hit) -> Document:
    """Wrap a hit as a Document: the EDU text as content, its provenance as metadata."""
    return Document(
        page_content=hit.text,
        metadata={
            "edu_id": hit.edu_id,
            "score": hit.score,
            "dense_score": hit.dense_score,
            "propagation_score": hit.propagation_score,
            "conversation_id": hit.conversation_id,
            "session_id": hit.session_id,
            "session_date": hit.session_date.isoformat() if hit.session_date else None,
            "speakers": hit.speakers,
            "source_turn_ids": hit.source_turn_ids,
            "time_text": hit.time_text,
            "occurred_at": hit.occurred_at.isoformat() if hit.occurred_at else None,
            "question": hit.question,
        },
        id=hit.edu_id,
    )


class MemgraphRetriever(BaseRetriever):
    """Retrieves EDUs of one memory space as Documents.

    ``invoke(query, k=3)`` overrides ``k`` for one call.

    Example:
        >>> retriever = MemgraphRetriever(memory=Memory(space="alice"), k=5)
        >>> docs = retriever.invoke("When did Ana start the pottery class?")
        >>> docs[0].metadata["source_turn_ids"]
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    memory: Memory
    k: int = Field(default=10, ge=1, description="Documents returned per query.")
    mode: SearchMode = SearchMode.GRAPH

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun, **kwargs: Any
    ) -> list[Document]:
        hits = self.memory.search(query, k=int(kwargs.get("k", self.k)), mode=kwargs.get("mode", self.mode))
        return [hit_to_document(hit) for hit in hits]

    async def _aget_relevant_documents(
        self, query: str, *, run_manager: AsyncCallbackManagerForRetrieverRun, **kwargs: Any
    ) -> list[Document]:
        hits = await self.memory.asearch(query, k=int(kwargs.get("k", self.k)), mode=kwargs.get("mode", self.mode))
        return [hit_to_document(hit) for hit in hits]
