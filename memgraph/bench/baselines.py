"""Turn-level baselines: BM25, exact dense search and their reciprocal-rank fusion.

Each baseline indexes one conversation's turns as documents and returns
turns, so its hits map to evidence one to one. A turn's document is
``"<speaker>: <text>"`` with the image caption appended as
:attr:`memgraph.models.Turn.content` does, optionally prefixed with the
session date (``"[8 May 2023] "``). The dense baseline blends each turn's
embedding with the turn before it in its session, as memgraph's turn
embeddings are (:func:`ingest.writer.with_context`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from ingest.extractors.base import ExtractionContext, Extractor
from ingest.writer import TURN_CONTEXT, with_context
from memgraph.bench.metrics import RankedHit
from memgraph.embeddings import Embedder
from memgraph.models import ArgumentKind, Conversation, ExtractedArgument, ExtractedEDU, Session

logger = logging.getLogger(__name__)

#: Constant of reciprocal-rank fusion: a document at rank r of a list scores 1 / (RRF_K + r).
RRF_K = 60


class Retriever(Protocol):
    """A method under test: returns the hits for a query, best first."""

    name: str

    def search(self, query: str, depth: int) -> list[RankedHit]:
        """Return up to ``depth`` hits for ``query``, best first."""
        ...


@dataclass(frozen=True)
class TurnDocument:
    """One turn as a baseline document."""

    turn_id: str
    text: str  # "<speaker>: <content>", the text a hit returns and the token budget counts
    dated_text: str  # ``text`` prefixed with the session date
    session_id: str


def turn_documents(conversation: Conversation) -> list[TurnDocument]:
    """Build one document per non-empty turn of ``conversation``, in conversation order."""
    documents = []
    for session in conversation.sessions:
        stamp = f"[{session.started_at.day} {session.started_at:%B %Y}] "
        for turn in session.turns:
            if not turn.content.strip():
                continue
            text = f"{turn.speaker}: {turn.content}"
            documents.append(TurnDocument(turn.id, text, stamp + text, session.id))
    return documents


class _TurnRanker:
    """Shared part of the turn baselines: documents, the dated-or-not choice and hit building."""

    def __init__(self, name: str, documents: Sequence[TurnDocument], *, dated: bool) -> None:
        if not documents:
            raise ValueError("a baseline needs at least one turn to index")
        self.name = name
        self.documents = list(documents)
        self.dated = dated
        self.index_seconds = 0.0

    def _indexed_texts(self) -> list[str]:
        return [document.dated_text if self.dated else document.text for document in self.documents]

    def ranking(self, query: str) -> list[int]:
        """Return document positions, best first; documents that cannot match are left out."""
        raise NotImplementedError

    def search(self, query: str, depth: int) -> list[RankedHit]:
        """Return up to ``depth`` turns for ``query``, best first."""
        return [self._hit(position) for position in self.ranking(query)[:depth]]

    def _hit(self, position: int) -> RankedHit:
        document = self.documents[position]
        return RankedHit(document.text, (document.turn_id,))


class BM25TurnRetriever(_TurnRanker):
    """Okapi BM25 over turns (bm25s, Lucene variant) with Snowball English stemming and stopwords.

    The stopwords are bm25s's ``"en_plus"`` list of 179 words, which matches
    NLTK's English list. Queries are questions, and bm25s's default 33-word
    ``"en"`` list keeps "what", "did", "when" and "how", which then match
    small-talk turns. Only turns that share a term with the query are ranked.
    """

    def __init__(
        self, documents: Sequence[TurnDocument], *, dated: bool, name: str | None = None, stopwords: str = "en_plus"
    ) -> None:
        super().__init__(name or ("bm25+date" if dated else "bm25"), documents, dated=dated)
        self._stopwords = stopwords
        import bm25s
        import Stemmer

        self._bm25s = bm25s
        self._stemmer = Stemmer.Stemmer("english")
        started = time.perf_counter()
        self._index = bm25s.BM25()
        self._index.index(self._tokenize(self._indexed_texts()), show_progress=False)
        self.index_seconds = time.perf_counter() - started

    def _tokenize(self, texts: list[str]) -> list[list[str]]:
        tokens: list[list[str]] = self._bm25s.tokenize(
            texts, stopwords=self._stopwords, stemmer=self._stemmer, return_ids=False, show_progress=False
        )
        return tokens

    def ranking(self, query: str) -> list[int]:
        terms = self._tokenize([query])[0]
        if not terms:
            return []
        scores = np.asarray(self._index.get_scores(terms))
        order = np.argsort(-scores, kind="stable")
        return [int(position) for position in order if scores[position] > 0]


class DenseTurnRetriever(_TurnRanker):
    """Exact cosine search over turn embeddings in numpy, with the embedder memgraph uses.

    Each turn's embedding is blended with the turn before it in its session,
    as memgraph's turn embeddings are. On the five LoCoMo conversations of
    docs/benchmarks.md this raised the baseline's recall@10 by 0.02 to 0.03.
    """

    def __init__(
        self, documents: Sequence[TurnDocument], embedder: Embedder, *, dated: bool, name: str | None = None
    ) -> None:
        super().__init__(name or ("dense-turns+date" if dated else "dense-turns"), documents, dated=dated)
        self._embedder = embedder
        started = time.perf_counter()
        vectors = embedder.embed_documents(self._indexed_texts())
        if len(vectors):
            runs = _session_runs(self.documents)
            vectors = np.concatenate([with_context(vectors[start:end], TURN_CONTEXT) for start, end in runs])
        self._vectors = vectors
        self.index_seconds = time.perf_counter() - started

    def ranking(self, query: str) -> list[int]:
        similarities = self._vectors @ self._embedder.embed_query(query)
        return [int(position) for position in np.argsort(-similarities, kind="stable")]


def _session_runs(documents: Sequence[TurnDocument]) -> list[tuple[int, int]]:
    """Return the ``(start, end)`` slices of consecutive documents from one session."""
    runs: list[tuple[int, int]] = []
    start = 0
    for position in range(1, len(documents) + 1):
        if position == len(documents) or documents[position].session_id != documents[start].session_id:
            runs.append((start, position))
            start = position
    return runs


class FusionRetriever:
    """Reciprocal-rank fusion of two turn rankings over the same documents.

    A turn scores the sum of ``1 / (RRF_K + rank)`` over the lists that rank
    it, with ranks from 1. Both full rankings are fused, not only their tops.
    """

    def __init__(self, first: _TurnRanker, second: _TurnRanker, *, name: str) -> None:
        if first.documents != second.documents:
            raise ValueError("fused rankers must index the same documents")
        self.name = name
        self.first = first
        self.second = second
        self.index_seconds = first.index_seconds + second.index_seconds

    def search(self, query: str, depth: int) -> list[RankedHit]:
        """Return up to ``depth`` turns for ``query``, best fused score first."""
        scores: dict[int, float] = {}
        for ranking in (self.first.ranking(query), self.second.ranking(query)):
            for rank, position in enumerate(ranking, 1):
                scores[position] = scores.get(position, 0.0) + 1.0 / (RRF_K + rank)
        best = sorted(scores, key=lambda position: (-scores[position], position))[:depth]
        return [self.first._hit(position) for position in best]


class OneEduPerTurnExtractor(Extractor):
    """Ablation extractor: one EDU per turn, ``"<speaker>: <content>"``, with the speaker as its only argument.

    It isolates what the graph and its ranking add over plain turns, because
    the EDUs then carry exactly the baselines' documents.
    """

    name = "bench-turn"
    version = "1"

    def extract(self, session: Session, context: ExtractionContext) -> list[ExtractedEDU]:
        """Return one EDU per non-empty turn of ``session``."""
        return [
            ExtractedEDU(
                text=f"{turn.speaker}: {turn.content}",
                speakers=(turn.speaker,),
                arguments=(ExtractedArgument(name=turn.speaker, kind=ArgumentKind.PERSON, role="agent"),),
                source_turn_ids=(turn.id,),
            )
            for turn in session.turns
            if turn.content.strip()
        ]


def build_baselines(conversation: Conversation, embedder: Embedder) -> list[Retriever]:
    """Build every baseline for one conversation: BM25, dense and their fusion, each without and with dates."""
    documents = turn_documents(conversation)
    retrievers: list[Retriever] = []
    for dated in (False, True):
        suffix = "+date" if dated else ""
        bm25 = BM25TurnRetriever(documents, dated=dated)
        dense = DenseTurnRetriever(documents, embedder, dated=dated)
        retrievers += [bm25, dense, FusionRetriever(bm25, dense, name=f"rrf{suffix}")]
    return retrievers
