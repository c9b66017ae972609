"""The Neo4j graph store: schema, session writes, space reads and deletion.

Every statement comes from ``cypher/`` and every read or write is scoped to
one memory space.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any, LiteralString, TypeVar

import neo4j
from neo4j import Driver, GraphDatabase, ManagedTransaction, NotificationMinimumSeverity
from neo4j.exceptions import AuthError, ServiceUnavailable, SessionExpired

from memgraph import cypher
from memgraph.config import Neo4jSettings
from memgraph.errors import Neo4jUnavailableError, SchemaMismatchError

logger = logging.getLogger(__name__)

T = TypeVar("T")

#: Vector-index candidates fetched per requested hit, before the space filter.
OVERFETCH = 10
_DELETE_BATCH = 5000


class GraphStore:
    """Neo4j access for one database.

    Args:
        settings: Where to connect; see :meth:`Neo4jSettings.resolve`.
        driver: An existing driver to use instead of opening one; the store
            then does not close it.
    """

    def __init__(self, settings: Neo4jSettings, driver: Driver | None = None) -> None:
        self.settings = settings
        self._owns_driver = driver is None
        self.driver = driver or GraphDatabase.driver(
            settings.uri,
            auth=(settings.username, settings.password.get_secret_value()),
            # Hints such as "property key does not exist" are normal on an empty space.
            notifications_min_severity=NotificationMinimumSeverity.OFF,
        )
        self.database = settings.database

    def close(self) -> None:
        """Close the driver if the store opened it."""
        if self._owns_driver:
            self.driver.close()

    def verify(self) -> None:
        """Check that the server responds.

        Raises:
            Neo4jUnavailableError: nothing responds at the URI, or the credentials are rejected.
        """
        try:
            self.driver.verify_connectivity()
        except AuthError as e:
            raise Neo4jUnavailableError(
                f"Neo4j at {self.settings.uri} rejected the credentials of user {self.settings.username!r}; "
                "check NEO4J_USERNAME and NEO4J_PASSWORD."
            ) from e
        except (ServiceUnavailable, OSError, ValueError) as e:
            raise Neo4jUnavailableError(
                f"no Neo4j server responds at {self.settings.uri} ({self.settings.source}): {e}. "
                + _connection_advice(self.settings.source)
            ) from e

    # -- low-level helpers -------------------------------------------------

    @contextmanager
    def _connection_errors(self) -> Iterator[None]:
        """Turn a lost connection, left after the driver's retries, into :class:`Neo4jUnavailableError`."""
        try:
            yield
        except (ServiceUnavailable, SessionExpired) as e:
            raise Neo4jUnavailableError(
                f"Neo4j at {self.settings.uri} became unreachable, and the driver's retries ran out: {e}. "
                "Check that the server runs (`memgraph neo4j status` for the local one), then repeat the call."
            ) from e

    def read(self, name: str, **parameters: Any) -> list[dict[str, Any]]:
        """Run the read statement ``name`` (``"<file>.<statement>"``) and return its records as dicts.

        Raises:
            Neo4jUnavailableError: the server became unreachable.
        """
        statement = cypher.query(name)
        logger.debug("read %s %s", name, _abbreviate(parameters))
        with self._connection_errors():
            records, _, _ = self.driver.execute_query(
                statement, parameters, database_=self.database, routing_=neo4j.RoutingControl.READ
            )
        return [record.data() for record in records]

    def write(self, name: str, **parameters: Any) -> list[dict[str, Any]]:
        """Run the write statement ``name`` in its own managed transaction, retried on transient errors.

        Raises:
            Neo4jUnavailableError: the server became unreachable.
        """
        statement = cypher.query(name)
        logger.debug("write %s %s", name, _abbreviate(parameters))
        with self._connection_errors():
            records, _, _ = self.driver.execute_query(statement, parameters, database_=self.database)
        return [record.data() for record in records]

    def transaction(self, work: Callable[[ManagedTransaction], T]) -> T:
        """Run ``work`` in one managed write transaction.

        The driver retries ``work`` on transient failures, so it must be
        idempotent and must not keep state between attempts.

        Raises:
            Neo4jUnavailableError: the server became unreachable. The transaction
                may or may not have been committed.
        """
        with self._connection_errors(), self.driver.session(database=self.database) as db_session:
            return db_session.execute_write(work)

    # -- schema ------------------------------------------------------------

    def apply_schema(self, dimensions: int) -> None:
        """Check the vector dimensions, then create constraints and indexes if missing.

        Raises:
            SchemaMismatchError: the existing vector indexes have another
                dimension; nothing was created or changed.
            Neo4jUnavailableError: the server became unreachable.
        """
        self.check_dimensions(dimensions)
        with self._connection_errors():
            for statement in cypher.statements_of("schema"):
                self.driver.execute_query(statement, {"dimensions": dimensions}, database_=self.database)
        # Another client may have created the indexes between the first check and ours.
        self.check_dimensions(dimensions)
        with self._connection_errors():
            self.driver.execute_query(
                cypher.query("schema_check.await_indexes"), {"timeout_seconds": 300}, database_=self.database
            )

    def check_dimensions(self, dimensions: int) -> None:
        """Raise :class:`SchemaMismatchError` if a vector index was made for another dimension."""
        for record in self.read("schema_check.vector_dimensions"):
            if record["dimensions"] is not None and int(record["dimensions"]) != dimensions:
                raise SchemaMismatchError(
                    f"vector index {record['name']!r} contains {record['dimensions']}-dimensional embeddings, "
                    f"but the configured embedder makes {dimensions}-dimensional ones. Use the embedder the "
                    "database was built with, or a fresh database (NEO4J_DATABASE), or drop the memgraph "
                    "indexes and re-ingest."
                )

    # -- spaces ------------------------------------------------------------

    def stats(self, space: str) -> dict[str, int]:
        """Count the nodes and links of a space."""
        records = self.read("space.stats", space=space)
        return {key: int(value) for key, value in records[0].items()}

    def spaces(self) -> list[str]:
        """List the spaces that hold data."""
        return [record["space"] for record in self.read("space.list_spaces")]

    def revision(self, space: str) -> int | None:
        """Return the space's change counter, or None for an empty space."""
        records = self.read("retrieval.space_revision", space=space)
        return int(records[0]["revision"]) if records else None

    def delete_space(self, space: str) -> int:
        """Delete every node of a space in batches; return how many were deleted."""
        total = 0
        while True:
            deleted = int(self.write("space.delete_space_batch", space=space, batch_size=_DELETE_BATCH)[0]["deleted"])
            total += deleted
            if deleted == 0:
                break
        logger.info("space %r: deleted %d nodes", space, total)
        return total

    def delete_session(self, space: str, conversation_id: str, session_name: str) -> bool:
        """Delete one session with its turns, EDUs and orphaned arguments; return False if absent."""

        def work(tx: ManagedTransaction) -> bool:
            result = tx.run(
                cypher.query("space.delete_session"),
                space=space,
                conversation_id=conversation_id,
                session_name=session_name,
            )
            summary = result.consume()
            tx.run(cypher.query("space.bump_revision"), space=space).consume()
            return summary.counters.nodes_deleted > 0

        return self.transaction(work)


def _connection_advice(source: str) -> str:
    if source == "local server":
        return "Restart it with `memgraph neo4j up`; its log is printed by `memgraph neo4j status`."
    if source == "environment":
        return "Check that the server at NEO4J_URI runs, or unset NEO4J_URI to use the local server of `memgraph neo4j up`."
    return (
        "Check the URI and that the server runs; start the local server with `memgraph neo4j up`, "
        "or Neo4j in Docker with `docker compose -f docker/compose.yaml up -d`, and pass its URI or set NEO4J_URI."
    )


def _abbreviate(parameters: dict[str, Any], limit: int = 200) -> str:
    text = repr({key: _shorten(value) for key, value in parameters.items()})
    return text if len(text) <= limit else text[:limit] + "..."


def _shorten(value: Any) -> Any:
    if isinstance(value, list | tuple) and len(value) > 3:
        return f"<{len(value)} items>"
    return value


def run_all(
    tx: ManagedTransaction, steps: Iterable[tuple[LiteralString, dict[str, Any]]]
) -> list[list[dict[str, Any]]]:
    """Run statements in order inside one transaction and return each one's records."""
    return [[record.data() for record in tx.run(statement, parameters)] for statement, parameters in steps]
