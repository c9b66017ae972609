"""A fast deterministic embedder for tests about storage, isolation and faults rather than ranking quality."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence

import numpy as np

from memgraph.embeddings import Embedder, Vectors

_WORD = re.compile(r"\w+")


class HashingEmbedder(Embedder):
    """Bag of lower-cased words hashed into ``dimensions`` buckets, scaled to unit length.

    Texts that share words get a high cosine similarity; texts without
    common words are nearly orthogonal. The default 384 dimensions match the
    all-MiniLM-L6-v2 indexes of a database the real embedder created.
    """

    name = "hashing-test"

    def __init__(self, dimensions: int = 384) -> None:
        self._dimensions = dimensions

    @property
    def dimensions(self) -> int:
        return self._dimensions

    def embed_documents(self, texts: Sequence[str]) -> Vectors:
        vectors = np.zeros((len(texts), self._dimensions), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in _WORD.findall(text.lower()) or [text]:
                vectors[row, self._bucket(word)] += 1.0
            # A fixed bucket keeps texts without common words from being all-zero vectors.
            vectors[row, 0] += 0.1
            # A small weight, different per text, keeps texts with the same words in another order or
            # with one word swapped from tying exactly with a query.
            vectors[row, self._bucket(text)] += 0.05 + 0.1 * (self._bucket("weight:" + text) / self._dimensions)
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)

    def _bucket(self, text: str) -> int:
        digest = hashlib.blake2b(text.encode("utf-8"), digest_size=4).digest()
        return int.from_bytes(digest, "big") % self._dimensions
