"""Reader for memgraph's generic conversation format (JSON or JSON Lines).

A conversation is an object::

    {
      "id": "trip-planning",                  # required
      "speakers": ["Ana", "Ben"],             # optional; taken from the turns when absent
      "sessions": [
        {
          "id": "s1",                         # optional; default "session_<n>"
          "date": "2024-03-02T10:00:00",      # required; ISO 8601 or e.g. "2 March 2024"
          "turns": [
            {"speaker": "Ana", "text": "...",
             "id": "s1:1",                    # optional; default "<session id>:<n>"
             "timestamp": "2024-03-02T10:01:00",  # optional
             "image_caption": "..."}          # optional
          ]
        }
      ]
    }

A ``.json`` file holds one such object or a list of them; a ``.jsonl`` file
holds one object per line.
"""

from __future__ import annotations

import logging
from typing import Any

from pydantic import ValidationError

from ingest.readers.dates import parse_datetime
from memgraph.errors import InputFormatError
from memgraph.models import Conversation, Session, Turn

logger = logging.getLogger(__name__)


def parse_generic(record: Any, *, path: str, record_name: str) -> Conversation:
    """Build a conversation from one generic-format object.

    Raises:
        InputFormatError: a required field is missing or a value is invalid.
    """
    if not isinstance(record, dict):
        raise InputFormatError("expected a conversation object", path=path, record=record_name)
    conversation_id = record.get("id")
    if not isinstance(conversation_id, str | int) or not str(conversation_id).strip():
        raise InputFormatError("missing conversation id", path=path, record=record_name, field="id")
    conversation_id = str(conversation_id)
    record_name = f"conversation {conversation_id!r}"
    raw_sessions = record.get("sessions")
    if not isinstance(raw_sessions, list):
        raise InputFormatError("expected a list of sessions", path=path, record=record_name, field="sessions")

    sessions: list[Session] = []
    for index, raw in enumerate(raw_sessions, 1):
        session = _parse_session(raw, index=index, path=path, record=f"{record_name} session {index}")
        if session is not None:
            sessions.append(session)

    speakers = record.get("speakers")
    if speakers is None:
        speakers = list(dict.fromkeys(turn.speaker for session in sessions for turn in session.turns))
    if not isinstance(speakers, list) or not all(isinstance(name, str) for name in speakers):
        raise InputFormatError("expected a list of names", path=path, record=record_name, field="speakers")
    try:
        return Conversation(id=conversation_id, speakers=tuple(speakers), sessions=tuple(sessions))
    except ValidationError as e:
        raise InputFormatError.from_validation(e, path=path, record=record_name, field="sessions") from e


def _parse_session(raw: Any, *, index: int, path: str, record: str) -> Session | None:
    if not isinstance(raw, dict):
        raise InputFormatError("expected a session object", path=path, record=record)
    session_id = str(raw.get("id") or f"session_{index}")
    date_text = raw.get("date")
    if not isinstance(date_text, str):
        raise InputFormatError("missing session date", path=path, record=record, field="date")
    try:
        started_at = parse_datetime(date_text)
    except ValueError as e:
        raise InputFormatError(str(e), path=path, record=record, field="date") from e

    raw_turns = raw.get("turns")
    if not isinstance(raw_turns, list):
        raise InputFormatError("expected a list of turns", path=path, record=record, field="turns")
    if not raw_turns:
        logger.info("%s: %s has no turns; skipped", path, record)
        return None
    turns = [
        _parse_turn(turn, default_id=f"{session_id}:{position}", path=path, record=f"{record} turn {position}")
        for position, turn in enumerate(raw_turns, 1)
    ]
    return Session(id=session_id, index=index, started_at=started_at, turns=tuple(turns))


def _parse_turn(raw: Any, *, default_id: str, path: str, record: str) -> Turn:
    if not isinstance(raw, dict):
        raise InputFormatError("expected a turn object", path=path, record=record)
    speaker, text = raw.get("speaker"), raw.get("text")
    if not isinstance(speaker, str) or not speaker.strip():
        raise InputFormatError("missing speaker", path=path, record=record, field="speaker")
    if not isinstance(text, str):
        raise InputFormatError("missing text", path=path, record=record, field="text")
    timestamp = None
    if raw.get("timestamp") is not None:
        try:
            timestamp = parse_datetime(str(raw["timestamp"]))
        except ValueError as e:
            raise InputFormatError(str(e), path=path, record=record, field="timestamp") from e
    caption = raw.get("image_caption")
    return Turn(
        id=str(raw.get("id") or default_id),
        speaker=speaker.strip(),
        text=text,
        timestamp=timestamp,
        image_caption=caption if isinstance(caption, str) and caption.strip() else None,
    )
