"""memgraph: event-centric long-term conversational memory for LLM agents, kept in Neo4j."""

from memgraph.errors import (
    ConfigurationError,
    InputFormatError,
    LocalNeo4jError,
    MemgraphError,
    Neo4jUnavailableError,
    SchemaMismatchError,
)
from memgraph.memory import Memory
from memgraph.models import Conversation, Hit, Session, Turn
from memgraph.retrieval import SearchMode, SearchSettings

__version__ = "0.1.0"

__all__ = [
    "ConfigurationError",
    "Conversation",
    "Hit",
    "InputFormatError",
    "LocalNeo4jError",
    "MemgraphError",
    "Memory",
    "Neo4jUnavailableError",
    "SchemaMismatchError",
    "SearchMode",
    "SearchSettings",
    "Session",
    "Turn",
    "__version__",
]
