"""Reader for LoCoMo conversations, in the per-conversation and the ``locomo10.json`` layouts.

Only the dialogue is read: the benchmark's annotations (``qa``, summaries,
events, observations) are never memory input.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from pydantic import ValidationError

from ingest.readers.dates import parse_datetime
from memgraph.errors import InputFormatError
from memgraph.models import Conversation, Session, Turn

logger = logging.getLogger(__name__)

_SESSION_KEY = re.compile(r"^session_(\d+)$")


def is_locomo(record: Any) -> bool:
    """Tell whether a decoded JSON record is a LoCoMo conversation in either layout."""
    if not isinstance(record, dict):
        return False
    body = record.get("conversation", record)
    return isinstance(body, dict) and "speaker_a" in body and any(_SESSION_KEY.match(key) for key in body)


def parse_locomo(record: dict[str, Any], *, path: str, default_id: str) -> Conversation:
    """Build a conversation from one LoCoMo record.

    Raises:
        InputFormatError: a session or turn misses a field or has an invalid value.
    """
    body: dict[str, Any] = record.get("conversation", record)
    conversation_id = str(record.get("sample_id") or default_id)
    speakers = tuple(str(body[key]) for key in ("speaker_a", "speaker_b") if body.get(key))

    numbers = sorted(int(match.group(1)) for key in body if (match := _SESSION_KEY.match(key)))
    sessions: list[Session] = []
    for number in numbers:
        key = f"session_{number}"
        record_name = f"conversation {conversation_id!r} {key}"
        raw_turns = body[key]
        if not isinstance(raw_turns, list):
            raise InputFormatError("expected a list of turns", path=path, record=record_name, field=key)
        if not raw_turns:
            logger.info("%s: %s has no turns; skipped", path, key)
            continue
        date_text = body.get(f"{key}_date_time")
        if not isinstance(date_text, str):
            raise InputFormatError("missing session date", path=path, record=record_name, field=f"{key}_date_time")
        try:
            started_at = parse_datetime(date_text)
        except ValueError as e:
            raise InputFormatError(str(e), path=path, record=record_name, field=f"{key}_date_time") from e

        turns = [
            _parse_turn(raw, path=path, record=f"{record_name} turn {position}")
            for position, raw in enumerate(raw_turns, 1)
        ]
        sessions.append(Session(id=key, index=number, started_at=started_at, turns=tuple(turns)))

    try:
        return Conversation(id=conversation_id, speakers=speakers, sessions=tuple(sessions))
    except ValidationError as e:
        raise InputFormatError.from_validation(e, path=path, record=f"conversation {conversation_id!r}") from e


def _parse_turn(raw: Any, *, path: str, record: str) -> Turn:
    if not isinstance(raw, dict):
        raise InputFormatError("expected an object", path=path, record=record)
    for field in ("speaker", "dia_id", "text"):
        if not isinstance(raw.get(field), str) or (field != "text" and not raw[field].strip()):
            raise InputFormatError("missing or not a string", path=path, record=record, field=field)
    caption = raw.get("blip_caption")
    return Turn(
        id=raw["dia_id"],
        speaker=raw["speaker"].strip(),
        text=raw["text"],
        image_caption=caption if isinstance(caption, str) and caption.strip() else None,
    )
