"""Reader for LoCoMo conversations, in the per-conversation and the ``locomo10.json`` layouts.

Only the dialogue is read: the benchmark's annotations (``qa``, summaries,
events, observations) are never memory input. Sessions are ordered by the
number in their key (``session_3`` before ``session_10``), whatever their dates.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from pydantic import ValidationError

from ingest.readers._fields import TurnIdRegistry, check_unicode, string_field
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
    conversation_id = check_unicode(
        str(record.get("sample_id") or default_id), path=path, record="conversation", field="sample_id"
    )
    record_name = f"conversation {conversation_id!r}"
    speakers = tuple(
        check_unicode(str(body[key]), path=path, record=record_name, field=key)
        for key in ("speaker_a", "speaker_b")
        if body.get(key)
    )

    keys: dict[int, str] = {}
    for key in body:
        match = _SESSION_KEY.match(key)
        if match is None:
            continue
        number = int(match.group(1))
        if number in keys:
            raise InputFormatError(
                f"sessions {keys[number]!r} and {key!r} have the same number", path=path, record=record_name, field=key
            )
        keys[number] = key

    sessions: list[Session] = []
    turn_ids = TurnIdRegistry()
    for number in sorted(keys):
        key = keys[number]
        session_record = f"{record_name} {key}"
        raw_turns = body[key]
        if not isinstance(raw_turns, list):
            raise InputFormatError("expected a list of turns", path=path, record=session_record, field=key)
        if not raw_turns:
            logger.info("%s: %s has no turns; skipped", path, key)
            continue
        date_text = body.get(f"{key}_date_time")
        if not isinstance(date_text, str):
            raise InputFormatError("missing session date", path=path, record=session_record, field=f"{key}_date_time")
        try:
            started_at = parse_datetime(date_text)
        except ValueError as e:
            raise InputFormatError(str(e), path=path, record=session_record, field=f"{key}_date_time") from e

        turns = []
        for position, raw in enumerate(raw_turns, 1):
            turn_record = f"{session_record} turn {position}"
            turn = _parse_turn(raw, path=path, record=turn_record)
            turn_ids.add(turn.id, place=f"{key} turn {position}", path=path, record=turn_record, field="dia_id")
            turns.append(turn)
        sessions.append(Session(id=key, index=number, started_at=started_at, turns=tuple(turns)))

    try:
        return Conversation(id=conversation_id, speakers=speakers, sessions=tuple(sessions))
    except ValidationError as e:
        raise InputFormatError.from_validation(e, path=path, record=record_name) from e


def _parse_turn(raw: Any, *, path: str, record: str) -> Turn:
    if not isinstance(raw, dict):
        raise InputFormatError("expected an object", path=path, record=record)
    speaker = string_field(raw, "speaker", path=path, record=record)
    turn_id = string_field(raw, "dia_id", path=path, record=record)
    text = string_field(raw, "text", path=path, record=record, allow_blank=True)
    caption = raw.get("blip_caption")
    if isinstance(caption, str):
        check_unicode(caption, path=path, record=record, field="blip_caption")
    return Turn(
        id=turn_id,
        speaker=speaker.strip(),
        text=text,
        image_caption=caption if isinstance(caption, str) and caption.strip() else None,
    )
