"""Connection settings: explicit arguments first, then environment, then the local server."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from platformdirs import user_data_dir
from pydantic import BaseModel, ConfigDict, Field, SecretStr

from memgraph.errors import ConfigurationError

logger = logging.getLogger(__name__)

DEFAULT_SPACE = "default"
_ENV_PREFIX = "NEO4J_"


def data_dir() -> Path:
    """Folder for memgraph's own files (local Neo4j, caches); ``MEMGRAPH_HOME`` overrides it."""
    override = os.environ.get("MEMGRAPH_HOME")
    return Path(override) if override else Path(user_data_dir("memgraph", appauthor=False))


_BOLT_SCHEMES = ("bolt", "bolt+s", "bolt+ssc", "neo4j", "neo4j+s", "neo4j+ssc")


def _check_uri(uri: str, origin: str) -> str:
    scheme = uri.partition("://")[0].lower()
    if "://" not in uri or scheme not in _BOLT_SCHEMES:
        raise ConfigurationError(
            f"invalid Neo4j URI {uri!r} ({origin}): memgraph speaks Bolt, so the URI must start with one of "
            f"{', '.join(s + '://' for s in _BOLT_SCHEMES)}, e.g. bolt://127.0.0.1:7687."
        )
    return uri


class Neo4jSettings(BaseModel):
    """Connection settings of a Neo4j server: URI, credentials and database."""

    model_config = ConfigDict(frozen=True)

    uri: str = Field(
        description="Bolt or neo4j URI, e.g. 'bolt://127.0.0.1:7687' or 'neo4j+s://xxxx.databases.neo4j.io'."
    )
    username: str = "neo4j"
    password: SecretStr = SecretStr("")
    database: str | None = Field(default=None, description="Database name; None uses the server's default.")
    source: str = Field(default="arguments", description="Where the settings came from, for messages.")

    @classmethod
    def resolve(
        cls,
        uri: str | None = None,
        username: str | None = None,
        password: str | None = None,
        database: str | None = None,
    ) -> Neo4jSettings:
        """Pick settings from the arguments, else ``NEO4J_*`` variables, else the running local server.

        Raises:
            ConfigurationError: no argument, no ``NEO4J_URI`` and no local server is running.
        """
        env = os.environ
        username = username or env.get(f"{_ENV_PREFIX}USERNAME") or "neo4j"
        password = password if password is not None else env.get(f"{_ENV_PREFIX}PASSWORD", "")
        database = database or env.get(f"{_ENV_PREFIX}DATABASE") or None
        if uri:
            return cls(
                uri=_check_uri(uri, "argument"), username=username, password=SecretStr(password), database=database
            )
        if env.get(f"{_ENV_PREFIX}URI"):
            return cls(
                uri=_check_uri(env[f"{_ENV_PREFIX}URI"], "NEO4J_URI"),
                username=username,
                password=SecretStr(password),
                database=database,
                source="environment",
            )

        from memgraph.local_neo4j import LocalNeo4j

        local = LocalNeo4j()
        status = local.status()
        if status.running and status.uri:
            logger.debug("using the local Neo4j server at %s", status.uri)
            return cls(uri=status.uri, database=database, source="local server")
        raise ConfigurationError(
            "No Neo4j server configured: set NEO4J_URI (and NEO4J_USERNAME, NEO4J_PASSWORD), "
            "or start the local server with `memgraph neo4j up`, or run `docker compose -f docker/compose.yaml up -d` "
            "and set NEO4J_URI=bolt://127.0.0.1:7687 NEO4J_PASSWORD=memgraph-local."
        )
