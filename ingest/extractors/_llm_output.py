"""The JSON output the LLM extractor requests, and its validation into :class:`ExtractedEDU` objects."""

from __future__ import annotations

import logging
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from memgraph.models import ArgumentKind, ExtractedArgument, ExtractedEDU, Session

logger = logging.getLogger(__name__)


class InvalidExtractionError(ValueError):
    """A model's output breaks a rule that the schema cannot express, e.g. a turn id not in the session."""


class ArgumentOutput(BaseModel):
    """A participant or thing an EDU mentions."""

    name: str = Field(description="Wording of the EDU, e.g. 'the pottery class'.")
    kind: ArgumentKind = Field(description="One of person, org, place, time, thing, concept.")
    role: str | None = Field(default="mention", description="agent, patient, place, time or mention.")

    @field_validator("kind", mode="before")
    @classmethod
    def _lower_kind(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value


class EDUOutput(BaseModel):
    """One EDU: a self-contained statement of one event or fact."""

    model_config = ConfigDict(coerce_numbers_to_str=True)

    text: str = Field(description="One sentence in the third person, with names in place of pronouns.")
    source_turn_ids: list[str] = Field(description="Ids of the turns the EDU comes from, as given in the session.")
    arguments: list[ArgumentOutput] | None = Field(default=None, description="Participants and things mentioned.")
    time_text: str | None = Field(
        default=None, description="Time expression as written in the turn, e.g. 'last Friday'."
    )
    occurred_at: str | None = Field(default=None, description="Date the time wording refers to, YYYY-MM-DD.")


class EDUExtraction(BaseModel):
    """The EDUs of one conversation session."""

    edus: list[EDUOutput] = Field(description="EDUs in the order of the conversation.")

    @model_validator(mode="before")
    @classmethod
    def _accept_bare_list(cls, value: Any) -> Any:
        # Models in JSON mode sometimes return the list without the wrapping object.
        return {"edus": value} if isinstance(value, list) else value


def to_extracted_edus(extraction: EDUExtraction, session: Session) -> list[ExtractedEDU]:
    """Check a model's output against ``session`` and convert it into EDUs.

    Speakers are taken from the source turns, not from the model. A missing or
    malformed ``occurred_at`` is resolved from ``time_text`` against the session
    date with the rule-based resolver of the spaCy extractor.

    Raises:
        InvalidExtractionError: an EDU has empty text, names no source turn or a
            turn id not in the session, or has an argument with an empty name.
    """
    positions = {turn.id: position for position, turn in enumerate(session.turns)}
    edus = []
    for number, edu in enumerate(extraction.edus, 1):
        text = " ".join(edu.text.split())
        if not text:
            raise InvalidExtractionError(f"EDU {number} has empty text")
        turn_ids = sorted({turn_id.strip() for turn_id in edu.source_turn_ids}, key=lambda key: positions.get(key, -1))
        if not turn_ids:
            raise InvalidExtractionError(f"EDU {number} ({_quote(text)}) lists no source turn id")
        unknown = [turn_id for turn_id in turn_ids if turn_id not in positions]
        if unknown:
            raise InvalidExtractionError(
                f"EDU {number} ({_quote(text)}) cites turn id(s) {', '.join(map(repr, unknown))} that are not in "
                f"session {session.id!r}, whose turn ids run from {session.turns[0].id!r} to {session.turns[-1].id!r}"
            )
        arguments = []
        for argument in edu.arguments or []:
            name = " ".join(argument.name.split())
            if not name:
                raise InvalidExtractionError(f"EDU {number} ({_quote(text)}) has an argument with an empty name")
            role = (argument.role or "").strip().lower() or "mention"
            arguments.append(ExtractedArgument(name=name, kind=argument.kind, role=role))
        time_text = " ".join((edu.time_text or "").split()) or None
        speakers = dict.fromkeys(session.turns[positions[turn_id]].speaker for turn_id in turn_ids)
        edus.append(
            ExtractedEDU(
                text=text,
                speakers=tuple(speakers),
                arguments=tuple(arguments),
                time_text=time_text,
                occurred_at=_occurred_at(edu.occurred_at, time_text, session),
                source_turn_ids=tuple(turn_ids),
            )
        )
    return edus


def _occurred_at(value: str | None, time_text: str | None, session: Session) -> date | None:
    if value and value.strip():
        parsed = _parse_date(value.strip())
        if parsed is not None:
            return parsed
        logger.debug("session %s: occurred_at %r is not a date; resolving %r instead", session.id, value, time_text)
    if not time_text:
        return None
    from ingest.extractors.time_expressions import resolve_time_phrase

    resolved = resolve_time_phrase(time_text, session.started_at.date())
    return resolved.occurred_at if resolved is not None else None


def _parse_date(value: str) -> date | None:
    try:
        return date.fromisoformat(value)
    except ValueError:
        pass
    try:
        return datetime.fromisoformat(value).date()
    except ValueError:
        return None


def _quote(text: str, limit: int = 60) -> str:
    return repr(text if len(text) <= limit else text[: limit - 3] + "...")
