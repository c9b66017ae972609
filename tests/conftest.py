"""Shared fixtures.

Integration tests need a real Neo4j server, found in this order: the server
named by ``NEO4J_URI``; a Testcontainers Neo4j where a Docker engine responds;
the local server of ``memgraph neo4j up`` (started here if it is not running,
and stopped again at the end). Tests isolate themselves by a fresh space each
and delete only that space.
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from memgraph.config import Neo4jSettings

logger = logging.getLogger(__name__)

DATA = Path(__file__).parent / "data"
SAMPLE_CONVERSATION = Path(__file__).parent.parent / "examples" / "sample_conversation.json"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/integration" in str(item.path).replace(os.sep, "/"):
            item.add_marker(pytest.mark.integration)


def _docker_answers() -> bool:
    try:
        import docker

        docker.from_env(timeout=3).ping()
    except Exception:  # any failure means no usable engine
        return False
    return True


@pytest.fixture(scope="session")
def neo4j_settings() -> Iterator[Neo4jSettings]:
    """Connection settings of a real Neo4j server for the whole test run."""
    if os.environ.get("NEO4J_URI"):
        yield Neo4jSettings.resolve()
        return

    if _docker_answers():
        from testcontainers.neo4j import Neo4jContainer

        with Neo4jContainer("neo4j:5.26-community") as container:
            yield Neo4jSettings(
                uri=container.get_connection_url(),
                username="neo4j",
                password=container.password,
                source="testcontainers",
            )
        return

    from memgraph.local_neo4j import LocalNeo4j

    server = LocalNeo4j()
    started_here = not server.status().running
    status = server.up()
    assert status.uri is not None
    try:
        yield Neo4jSettings(uri=status.uri, source="local server")
    finally:
        if started_here:
            server.down()


@pytest.fixture(scope="session")
def embedder() -> Any:
    """The default embedder, loaded once per run."""
    from memgraph.embeddings import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder()


@pytest.fixture(scope="session")
def neo4j_driver(neo4j_settings: Neo4jSettings) -> Iterator[Any]:
    from memgraph.store import GraphStore

    store = GraphStore(neo4j_settings)
    store.verify()
    yield store.driver
    store.close()


@pytest.fixture
def make_memory(neo4j_settings: Neo4jSettings, neo4j_driver: Any, embedder: Any) -> Iterator[Callable[..., Any]]:
    """Factory of Memory objects on a fresh space each; the spaces are deleted afterwards."""
    from memgraph.memory import Memory

    created: list[Any] = []

    def factory(space: str | None = None, **options: Any) -> Any:
        options.setdefault("embedder", embedder)
        memory = Memory(
            space=space or f"test-{uuid.uuid4().hex[:12]}",
            uri=neo4j_settings.uri,
            username=neo4j_settings.username,
            password=neo4j_settings.password.get_secret_value(),
            driver=neo4j_driver,
            **options,
        )
        created.append(memory)
        return memory

    yield factory
    for memory in created:
        memory.forget()
        memory.close()
