"""Ranking of a space's EDUs for a query, in ``dense`` or ``graph`` mode."""

from __future__ import annotations

import logging
from enum import StrEnum
from typing import TYPE_CHECKING, Any

import numpy as np
from pydantic import BaseModel, Field

from memgraph.embeddings import Embedder
from memgraph.models import Hit
from memgraph.retrieval.propagation import GraphCache, personalized_pagerank
from memgraph.retrieval.seed import argument_seeds, edu_seeds, text_seeds, turn_seeds
from memgraph.store import GraphStore

if TYPE_CHECKING:
    from memgraph.retrieval.seed_filter import SeedFilter

logger = logging.getLogger(__name__)


class SearchMode(StrEnum):
    """Ranking method of a search."""

    DENSE = "dense"  # vector similarity of EDUs to the query
    GRAPH = "graph"  # vector seeds, then personalized PageRank, fused with vector similarity


class SearchSettings(BaseModel):
    """Parameters of graph-mode ranking."""

    seed_edus: int = Field(default=100, ge=1, description="EDU seeds taken from the vector index.")
    seed_arguments: int = Field(default=10, ge=0, description="Argument seeds taken from the vector index.")
    damping: float = Field(default=0.5, gt=0.0, lt=1.0, description="Probability that the walk follows an edge.")
    propagation_weight: float = Field(
        default=0.5, ge=0.0, le=1.0, description="Share of the normalised PPR mass in the final score."
    )
    candidates: int = Field(
        default=400, ge=1, description="EDUs with the most PPR mass that are scored; at least k are."
    )
    demote_questions: bool = Field(
        default=True, description="Rank EDUs that report a question below statements, which hold the facts."
    )
    seed_turns: int = Field(default=10, ge=0, description="Turn seeds taken from the vector index.")
    turn_similarity_weight: float = Field(
        default=0.3, ge=0.0, le=1.0, description="Share of the source turn's similarity in an EDU's similarity."
    )
    seed_texts: int = Field(default=20, ge=0, description="EDU and turn seeds taken from the full-text index.")
    text_seed_weight: float = Field(
        default=0.5, ge=0.0, description="Restart weight of full-text seeds relative to vector seeds."
    )


def search(
    store: GraphStore,
    embedder: Embedder,
    cache: GraphCache,
    *,
    space: str,
    query: str,
    k: int,
    mode: SearchMode,
    settings: SearchSettings,
    seed_filter: SeedFilter | None = None,
) -> list[Hit]:
    """Return the ``k`` best EDUs of ``space`` for ``query``, best first.

    In graph mode, ``seed_filter`` drops seed EDUs that are not relevant to
    the query before propagation; dense mode does not use it.
    """
    embedding = embedder.embed_query(query)
    if mode is SearchMode.DENSE:
        seeds = edu_seeds(store, space, embedding, k)
        return _rank(_details(store, space, list(seeds), embedding), {}, k, weight=0.0)

    # Seeds and candidates do not depend on k, so the first hits are the same whatever k a caller asks for.
    seeds = edu_seeds(store, space, embedding, settings.seed_edus)
    if not seeds:
        return []
    if seed_filter is not None:
        from memgraph.retrieval.seed_filter import filter_seeds

        seeds = filter_seeds(seed_filter, store, space=space, query=query, embedding=embedding, seeds=seeds)
    restart = _restart_weights(store, space, query, embedding, seeds, settings)

    graph = cache.get(store, space)
    mass = personalized_pagerank(graph, restart, damping=settings.damping)[: len(graph.edu_ids)]
    ranked = np.argsort(-mass, kind="stable")[: max(k, settings.candidates)]
    candidates = {graph.edu_ids[position]: float(mass[position]) for position in ranked if mass[position] > 0}
    for edu_id in seeds:
        position = graph.node_index.get(edu_id)
        candidates.setdefault(edu_id, float(mass[position]) if position is not None and position < len(mass) else 0.0)

    top_mass = max(candidates.values(), default=0.0) or 1.0
    propagation = {edu_id: value / top_mass for edu_id, value in candidates.items()}
    return _rank(
        _details(store, space, list(candidates), embedding),
        propagation,
        k,
        weight=settings.propagation_weight,
        turn_weight=settings.turn_similarity_weight,
        demote_questions=settings.demote_questions,
    )


def _restart_weights(
    store: GraphStore,
    space: str,
    query: str,
    embedding: np.ndarray,
    edu_seeds: dict[str, float],
    settings: SearchSettings,
) -> dict[str, float]:
    """Collect the restart weights of the walk, keyed by graph node (EDU id, ``argument:<id>``, ``turn:<key>``).

    Vector seeds weigh their cosine similarity; full-text seeds weigh their
    score scaled to the best match, times ``settings.text_seed_weight``.
    """
    restart: dict[str, float] = {}

    def add(key: str, weight: float) -> None:
        restart[key] = restart.get(key, 0.0) + max(weight, 0.0)

    for edu_id, score in edu_seeds.items():
        add(edu_id, score)
    if settings.seed_arguments:
        for argument_id, score in argument_seeds(store, space, embedding, settings.seed_arguments).items():
            add("argument:" + argument_id, score)
    if settings.seed_turns:
        for turn_key, score in turn_seeds(store, space, embedding, settings.seed_turns).items():
            add("turn:" + turn_key, score)
    if settings.seed_texts:
        text_edus, text_turns = text_seeds(store, space, query, settings.seed_texts)
        for edu_id, score in text_edus.items():
            add(edu_id, settings.text_seed_weight * score)
        for turn_key, score in text_turns.items():
            add("turn:" + turn_key, settings.text_seed_weight * score)
    return restart


def _details(store: GraphStore, space: str, edu_ids: list[str], embedding: np.ndarray) -> list[dict[str, Any]]:
    return store.read("retrieval.edu_details", space=space, ids=edu_ids, embedding=embedding.tolist())


def _rank(
    records: list[dict[str, Any]],
    propagation: dict[str, float],
    k: int,
    *,
    weight: float,
    turn_weight: float = 0.0,
    demote_questions: bool = False,
) -> list[Hit]:
    """Score records by ``weight`` × propagation + (1 − ``weight``) × similarity, best first.

    Similarity is the EDU's cosine similarity to the query, blended with its
    source turn's by ``turn_weight``: the turn keeps the context a short EDU loses.
    With ``demote_questions``, EDUs that report a question come after all statements.
    """
    hits = []
    for record in records:
        dense = 2.0 * float(record["dense_score"]) - 1.0
        similarity = dense
        if record["turn_score"] is not None and turn_weight:
            similarity = (1.0 - turn_weight) * dense + turn_weight * (2.0 * float(record["turn_score"]) - 1.0)
        spread = propagation.get(record["id"], 0.0)
        hits.append(
            Hit(
                edu_id=record["id"],
                text=record["text"],
                score=weight * spread + (1.0 - weight) * similarity,
                dense_score=dense,
                propagation_score=spread,
                conversation_id=record["conversation_id"],
                session_id=record["session_id"],
                session_date=_native(record["session_date"]),
                speakers=list(record["speakers"] or []),
                source_turn_ids=list(record["source_turn_ids"] or []),
                time_text=record["time_text"],
                occurred_at=_native(record["occurred_at"]),
                question=bool(record["question"]),
            )
        )
    hits.sort(key=lambda hit: (demote_questions and hit.question, -hit.score, hit.edu_id))
    return hits[:k]


def _native(value: Any) -> Any:
    """Convert neo4j.time values to the standard library's."""
    return value.to_native() if hasattr(value, "to_native") else value
