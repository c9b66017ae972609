"""Embedder adapters."""

from __future__ import annotations

import numpy as np
import pytest
from langchain_core.embeddings import DeterministicFakeEmbedding

from memgraph.embeddings import LangChainEmbedder, SentenceTransformerEmbedder, as_embedder


def test_langchain_embeddings_are_normalised() -> None:
    embedder = as_embedder(DeterministicFakeEmbedding(size=12))

    vectors = embedder.embed_documents(["alpha", "beta"])
    query = embedder.embed_query("alpha")

    assert isinstance(embedder, LangChainEmbedder)
    assert embedder.dimensions == 12
    assert vectors.shape == (2, 12)
    assert np.linalg.norm(vectors, axis=1) == pytest.approx([1.0, 1.0], abs=1e-5)
    assert query == pytest.approx(vectors[0], abs=1e-5)


def test_empty_input_gives_empty_matrix() -> None:
    embedder = as_embedder(DeterministicFakeEmbedding(size=5))

    assert embedder.embed_documents([]).shape == (0, 5)


@pytest.mark.slow
def test_default_model_loads_offline_with_384_dimensions() -> None:
    embedder = SentenceTransformerEmbedder()

    vectors = embedder.embed_documents(["Ana adopted a dog.", "Ana adopted a puppy.", "The stock market fell."])

    assert embedder.dimensions == 384
    assert float(vectors[0] @ vectors[1]) > float(vectors[0] @ vectors[2])
