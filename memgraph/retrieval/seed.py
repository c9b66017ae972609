"""Seed selection: the EDUs and arguments nearest to the query in one space."""

from __future__ import annotations

import logging
import re

from memgraph.embeddings import Vectors
from memgraph.store import OVERFETCH, GraphStore

logger = logging.getLogger(__name__)


def _nearest(store: GraphStore, kind: str, space: str, embedding: Vectors, k: int) -> dict[str, float]:
    """Return up to ``k`` node ids of ``kind`` ('edu', 'turn' or 'argument') with their cosine similarity.

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


def turn_seeds(store: GraphStore, space: str, embedding: Vectors, k: int) -> dict[str, float]:
    """Return the keys of the ``k`` turns of the space nearest to the query, with cosine similarity."""
    return _nearest(store, "turn", space, embedding, k)


def argument_seeds(store: GraphStore, space: str, embedding: Vectors, k: int) -> dict[str, float]:
    """Return the ``k`` arguments of the space nearest to the query, with cosine similarity."""
    return _nearest(store, "argument", space, embedding, k)


_LUCENE_SPECIAL = re.compile(r'[+\-&|!(){}\[\]^"~*?:\\/]')
#: Lucene rejects a query of more than 1024 clauses (IndexSearcher.maxClauseCount), and the
#: analyzer may split one word into a few terms, so a long query is cut well below that.
_MAX_TERMS = 256


def lucene_terms(query: str) -> str:
    """Turn free text into a Lucene query of plain terms, joined by OR.

    Operators and special characters are dropped rather than escaped, and the
    text is lower-cased so that AND, OR and NOT are read as words. A query of
    more than ``_MAX_TERMS`` words keeps its first ``_MAX_TERMS`` distinct ones.
    """
    words = _LUCENE_SPECIAL.sub(" ", query).lower().split()
    if len(words) > _MAX_TERMS:
        words = list(dict.fromkeys(words))[:_MAX_TERMS]
    return " ".join(words)


def text_seeds(store: GraphStore, space: str, query: str, k: int) -> tuple[dict[str, float], dict[str, float]]:
    """Return EDUs and turn keys of the space that match the query's words, with scores scaled to [0, 1].

    NOTE: the full-text index cannot filter by space. A space whose matches
    all rank below ``k * OVERFETCH`` other spaces' matches gets fewer text seeds, but the
    vector seeds, which fall back to an exact scan, still find it. Lucene's
    scores also use word statistics of all spaces, so another space's data
    shifts the weights of these seeds and, in graph mode, the ranks.
    """
    terms = lucene_terms(query)
    if not terms:
        return {}, {}
    records = store.read("retrieval.text_seeds", space=space, text=terms, k=k, fetch=k * OVERFETCH)
    top = max((float(record["score"]) for record in records), default=0.0) or 1.0
    edus = {record["id"]: float(record["score"]) / top for record in records if record["kind"] == "edu"}
    turns = {record["id"]: float(record["score"]) / top for record in records if record["kind"] == "turn"}
    return edus, turns
