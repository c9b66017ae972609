"""Exceptions raised by memgraph; catch ``MemgraphError`` to handle them all."""

from __future__ import annotations

from pydantic import ValidationError


class MemgraphError(Exception):
    """Root of every error memgraph raises on purpose."""


class ConfigurationError(MemgraphError):
    """A setting is missing or invalid; the message names it and the fix."""


class Neo4jUnavailableError(MemgraphError):
    """No Neo4j server responded at the configured address."""


class LocalNeo4jError(MemgraphError):
    """The local Neo4j server could not be installed, started or stopped."""


class SchemaMismatchError(MemgraphError):
    """The database's indexes do not fit the configured embedder."""


class InputFormatError(MemgraphError):
    """A conversation file is invalid; the message names the file, record and field."""

    def __init__(self, message: str, *, path: str | None = None, record: str | None = None, field: str | None = None):
        location = ", ".join(
            part
            for part in (
                f"file {path}" if path else "",
                f"record {record}" if record else "",
                f"field {field!r}" if field else "",
            )
            if part
        )
        super().__init__(f"{location}: {message}" if location else message)
        self.path = path
        self.record = record
        self.field = field

    @classmethod
    def from_validation(
        cls, error: ValidationError, *, path: str, record: str, field: str | None = None
    ) -> InputFormatError:
        """Re-raise the first problem pydantic found as an input error."""
        first = error.errors()[0]
        message = str(first["msg"]).removeprefix("Value error, ")
        return cls(
            message, path=path, record=record, field=field or ".".join(str(part) for part in first["loc"]) or None
        )


class IngestError(MemgraphError):
    """A session could not be ingested; sessions stored before it are kept.

    ``conversation_id``, ``session_id``, ``turn_id`` and ``field`` name the failing
    place when it is known, and ``None`` otherwise.
    """

    def __init__(
        self,
        message: str,
        *,
        conversation_id: str | None = None,
        session_id: str | None = None,
        turn_id: str | None = None,
        field: str | None = None,
    ) -> None:
        super().__init__(message)
        self.conversation_id = conversation_id
        self.session_id = session_id
        self.turn_id = turn_id
        self.field = field
