"""Retrieval: vector seeds, personalized PageRank propagation and ranking."""

from memgraph.retrieval.search import SearchMode, SearchSettings

__all__ = ["SearchMode", "SearchSettings"]
