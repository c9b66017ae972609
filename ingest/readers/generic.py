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

A ``.json`` file contains one such object or a list of them. A ``.jsonl``
file contains one object per line. Sessions are ordered by date; sessions with the same
date keep their order in the file. Sessions without turns are skipped.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from ingest.readers._fields import TurnIdRegistry, check_unicode, optional_id, string_field
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
    conversation_id = optional_id(record, "id", default="", path=path, record=record_name)
    if not conversation_id:
        raise InputFormatError("missing conversation id", path=path, record=record_name, field="id")
    record_name = f"conversation {conversation_id!r}"
    raw_sessions = record.get("sessions")
    if not isinstance(raw_sessions, list):
        raise InputFormatError("expected a list of sessions", path=path, record=record_name, field="sessions")

    sessions: list[Session] = []
    session_positions: dict[str, int] = {}
    turn_ids = TurnIdRegistry()
    for index, raw in enumerate(raw_sessions, 1):
        session_record = f"{record_name} session {index}"
        session = _parse_session(raw, index=index, path=path, record=session_record, turn_ids=turn_ids)
        if session is None:
            continue
        if session.id in session_positions:
            raise InputFormatError(
                f"duplicate session id {session.id!r}: session {session_positions[session.id]} has it too",
                path=path,
                record=session_record,
                field="id",
            )
        session_positions[session.id] = index
        sessions.append(session)

    speakers = record.get("speakers")
    if speakers is None:
        speakers = list(dict.fromkeys(turn.speaker for session in sessions for turn in session.turns))
    if not isinstance(speakers, list) or not all(isinstance(name, str) for name in speakers):
        raise InputFormatError("expected a list of names", path=path, record=record_name, field="speakers")
    for name in speakers:
        check_unicode(name, path=path, record=record_name, field="speakers")
    try:
        return Conversation(
            id=conversation_id, speakers=tuple(speakers), sessions=_in_date_order(sessions, path, record_name)
        )
    except ValidationError as e:
        raise InputFormatError.from_validation(e, path=path, record=record_name, field="sessions") from e


def _in_date_order(sessions: list[Session], path: str, record: str) -> tuple[Session, ...]:
    """Sort sessions by date, keeping file order for equal dates, and number them from 1 in that order."""
    ordered = sorted(sessions, key=lambda session: _comparable(session.started_at))
    if ordered != sessions:
        logger.info("%s: %s lists its sessions out of date order; they are ingested by date", path, record)
    return tuple(session.model_copy(update={"index": index}) for index, session in enumerate(ordered, 1))


def _comparable(moment: datetime) -> datetime:
    # A date with a UTC offset and one without cannot be compared; the one with an offset is taken in UTC.
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo is not None else moment


def _parse_session(raw: Any, *, index: int, path: str, record: str, turn_ids: TurnIdRegistry) -> Session | None:
    if not isinstance(raw, dict):
        raise InputFormatError("expected a session object", path=path, record=record)
    session_id = optional_id(raw, "id", default=f"session_{index}", path=path, record=record)
    date_text = raw.get("date")
    if date_text is None:
        raise InputFormatError("missing session date", path=path, record=record, field="date")
    if not isinstance(date_text, str):
        raise InputFormatError(
            f"expected a date string such as 2024-03-02T18:30:00, got {type(date_text).__name__} {date_text!r}",
            path=path,
            record=record,
            field="date",
        )
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
    turns = []
    for position, raw_turn in enumerate(raw_turns, 1):
        turn_record = f"{record} turn {position}"
        turn = _parse_turn(raw_turn, default_id=f"{session_id}:{position}", path=path, record=turn_record)
        place = f"session {session_id!r} turn {position}"
        turn_ids.add(turn.id, place=place, path=path, record=turn_record, field="id")
        turns.append(turn)
    return Session(id=session_id, index=index, started_at=started_at, turns=tuple(turns))


def _parse_turn(raw: Any, *, default_id: str, path: str, record: str) -> Turn:
    if not isinstance(raw, dict):
        raise InputFormatError("expected a turn object", path=path, record=record)
    speaker = string_field(raw, "speaker", path=path, record=record)
    text = string_field(raw, "text", path=path, record=record, allow_blank=True)
    timestamp = None
    if raw.get("timestamp") is not None:
        try:
            timestamp = parse_datetime(str(raw["timestamp"]))
        except ValueError as e:
            raise InputFormatError(str(e), path=path, record=record, field="timestamp") from e
    caption = raw.get("image_caption")
    if caption is not None and not isinstance(caption, str):
        raise InputFormatError(
            f"expected a string, got {type(caption).__name__}", path=path, record=record, field="image_caption"
        )
    if caption is not None:
        check_unicode(caption, path=path, record=record, field="image_caption")
    return Turn(
        id=optional_id(raw, "id", default=default_id, path=path, record=record),
        speaker=speaker.strip(),
        text=text,
        timestamp=timestamp,
        image_caption=caption if caption and caption.strip() else None,
    )
