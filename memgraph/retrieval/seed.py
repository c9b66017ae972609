"""Seed selection: the EDUs and arguments nearest to the query in one space."""

from __future__ import annotations

import logging

from memgraph.embeddings import Vectors
from memgraph.store import OVERFETCH, GraphStore

logger = logging.getLogger(__name__)


def _nearest(store: GraphStore, kind: str, space: str, embedding: Vectors, k: int) -> dict[str, float]:
    """Return up to ``k`` node ids of ``kind`` ('edu' or 'argument') with their cosine similarity.

    The vector index is shared by all spaces. It is over-fetched and filtered
    to the space; when a large space crowds a small one out of the candidates,
    the exact scan over the space's own nodes takes over.
    """
    vector = embedding.tolist()
    records = store.read(f"retrieval.{kind}_seeds", space=space, embedding=vector, k=k, fetch=k * OVERFETCH)
    if len(records) < k:
        logger.debug("space %r: %d of %d %s seeds from the index; exact scan", space, len(records), k, kind)
        records = store.read(f"retrieval.{kind}_seeds_exact", space=space, embedding=vector, k=k)
    # Neo4j scores cosine similarity as (1 + cos) / 2.
    return {record["id"]: 2.0 * float(record["score"]) - 1.0 for record in records}


def edu_seeds(store: GraphStore, space: str, embedding: Vectors, k: int) -> dict[str, float]:
    """Return the ``k`` EDUs of the space nearest to the query, with cosine similarity."""
    return _nearest(store, "edu", space, embedding, k)


def argument_seeds(store: GraphStore, space: str, embedding: Vectors, k: int) -> dict[str, float]:
    """Return the ``k`` arguments of the space nearest to the query, with cosine similarity."""
    return _nearest(store, "argument", space, embedding, k)
