"""Persistent cache of accepted LLM outputs, so that a rerun of an ingest job makes no model calls.

Entries live in one SQLite file, by default ``llm-cache.sqlite`` in
:func:`memgraph.config.data_dir`. A key is the SHA-256 of everything that
decides the output: the model identifier, the prompt version and text, and
the rendered messages with the session's content. Only outputs that passed
validation are stored.
"""

from __future__ import annotations

import hashlib
import json
import logging
import sqlite3
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from memgraph.config import data_dir
from memgraph.errors import ConfigurationError

logger = logging.getLogger(__name__)

DEFAULT_FILE_NAME = "llm-cache.sqlite"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS llm_outputs (
    key TEXT PRIMARY KEY,
    model TEXT NOT NULL,
    prompt_version TEXT NOT NULL,
    output TEXT NOT NULL,
    created_at TEXT NOT NULL
)
"""


def default_cache_path() -> Path:
    """Return the default cache file, ``<data dir>/llm-cache.sqlite``."""
    return data_dir() / DEFAULT_FILE_NAME


class LLMCache:
    """LLM outputs stored as JSON in SQLite, safe to use from several threads.

    The file is opened on first use, and a file that cannot be opened raises
    :class:`ConfigurationError`. Read and write failures after that are
    logged and treated as misses, so they cost model calls but fail no session.

    Args:
        path: SQLite file; ``None`` uses :func:`default_cache_path`.
    """

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path) if path is not None else default_cache_path()
        self._connection: sqlite3.Connection | None = None
        self._lock = threading.Lock()

    @staticmethod
    def make_key(*parts: str) -> str:
        """Return the SHA-256 hex digest of ``parts``, separated so that no two part lists collide."""
        digest = hashlib.sha256()
        for part in parts:
            encoded = part.encode("utf-8")
            digest.update(len(encoded).to_bytes(8, "big"))
            digest.update(encoded)
        return digest.hexdigest()

    def _connect(self) -> sqlite3.Connection:
        if self._connection is None:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                connection = sqlite3.connect(self.path, check_same_thread=False, timeout=30.0)
                connection.execute("PRAGMA journal_mode=WAL")
                connection.execute(_SCHEMA)
                connection.commit()
            except (OSError, sqlite3.Error) as e:
                raise ConfigurationError(
                    f"cannot open the LLM cache at {self.path}: {e}; "
                    "pass another path (--llm-cache) or fix its permissions"
                ) from e
            self._connection = connection
        return self._connection

    def get(self, key: str) -> Any | None:
        """Return the output stored under ``key``, or None on a miss.

        Raises:
            ConfigurationError: the cache file cannot be opened.
        """
        with self._lock:
            connection = self._connect()
            try:
                row = connection.execute("SELECT output FROM llm_outputs WHERE key = ?", (key,)).fetchone()
            except sqlite3.Error as e:
                logger.warning("LLM cache %s: read failed, treating it as a miss: %s", self.path, e)
                return None
        if row is None:
            return None
        try:
            return json.loads(row[0])
        except json.JSONDecodeError as e:
            logger.warning(
                "LLM cache %s: entry %s is not valid JSON, treating it as a miss: %s", self.path, key[:12], e
            )
            return None

    def put(self, key: str, output: Any, *, model: str, prompt_version: str) -> None:
        """Store ``output`` (JSON-serialisable) under ``key``, replacing an older entry.

        Raises:
            ConfigurationError: the cache file cannot be opened.
        """
        row = (key, model, prompt_version, json.dumps(output, ensure_ascii=False), datetime.now(UTC).isoformat())
        with self._lock:
            connection = self._connect()
            try:
                connection.execute(
                    "INSERT OR REPLACE INTO llm_outputs (key, model, prompt_version, output, created_at) "
                    "VALUES (?, ?, ?, ?, ?)",
                    row,
                )
                connection.commit()
            except sqlite3.Error as e:
                logger.warning("LLM cache %s: write failed, the output is not cached: %s", self.path, e)

    def __len__(self) -> int:
        with self._lock:
            return int(self._connect().execute("SELECT count(*) FROM llm_outputs").fetchone()[0])

    def close(self) -> None:
        """Close the SQLite connection; the next call opens it again."""
        with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None
