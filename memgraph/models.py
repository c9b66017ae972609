"""Domain models shared by readers, extractors, the graph store and retrieval.

The vocabulary is fixed. A *conversation* has dated *sessions*, and a session
has *turns* by named speakers. An extractor turns a session into *EDUs*
(short, self-contained event statements). The *arguments* of an EDU are the
participants, entities, places, times and concepts it mentions.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, field_validator


class ArgumentKind(StrEnum):
    """Kind of an EDU argument."""

    PERSON = "person"
    ORG = "org"
    PLACE = "place"
    TIME = "time"
    THING = "thing"
    CONCEPT = "concept"


class Turn(BaseModel):
    """One utterance of a session, kept verbatim."""

    model_config = ConfigDict(frozen=True)

    id: str = Field(min_length=1, description="Turn id as the input named it, e.g. 'D3:12'.")
    speaker: str = Field(min_length=1)
    text: str
    timestamp: datetime | None = None
    image_caption: str | None = Field(
        default=None, description="Caption of a picture shared in the turn; part of the turn's content."
    )

    @property
    def content(self) -> str:
        """Text of the turn with the image caption appended, as extractors see it."""
        if self.image_caption:
            return f"{self.text} [shares an image: {self.image_caption}]".strip()
        return self.text


class Session(BaseModel):
    """A dated sitting of a conversation."""

    model_config = ConfigDict(frozen=True)

    id: str = Field(min_length=1)
    index: int = Field(ge=0, description="Position of the session in its conversation, from 1 in LoCoMo.")
    started_at: datetime
    turns: tuple[Turn, ...]

    @property
    def speakers(self) -> list[str]:
        """Speakers in order of first appearance."""
        return list(dict.fromkeys(turn.speaker for turn in self.turns))


class Conversation(BaseModel):
    """A multi-session conversation between named speakers."""

    model_config = ConfigDict(frozen=True)

    id: str = Field(min_length=1)
    speakers: tuple[str, ...]
    sessions: tuple[Session, ...]

    @field_validator("sessions")
    @classmethod
    def _ids_unique(cls, sessions: tuple[Session, ...]) -> tuple[Session, ...]:
        session_ids: set[str] = set()
        turn_ids: dict[str, str] = {}
        for session in sessions:
            if session.id in session_ids:
                raise ValueError(f"duplicate session id {session.id!r}")
            session_ids.add(session.id)
            for turn in session.turns:
                if turn.id in turn_ids:
                    raise ValueError(
                        f"duplicate turn id {turn.id!r} in sessions {turn_ids[turn.id]!r} and {session.id!r}; "
                        "turn ids must be unique within a conversation"
                    )
                turn_ids[turn.id] = session.id
        return sessions


class ExtractedArgument(BaseModel):
    """An argument as an extractor found it, before it gets an id."""

    model_config = ConfigDict(frozen=True)

    name: str = Field(min_length=1, description="Surface form, e.g. 'the LGBTQ support group'.")
    kind: ArgumentKind
    role: str = Field(default="mention", description="How the EDU uses it: agent, patient, time, place, mention.")

    @property
    def normalized(self) -> str:
        """Lower-cased name without a leading article, the key that merges mentions."""
        return normalize_name(self.name)


class ExtractedEDU(BaseModel):
    """An EDU as an extractor produced it, before ids and embeddings."""

    model_config = ConfigDict(frozen=True)

    text: str = Field(min_length=1)
    speakers: tuple[str, ...] = Field(description="Speakers of the source turns.")
    arguments: tuple[ExtractedArgument, ...] = ()
    time_text: str | None = Field(
        default=None, description="Time expression as written in the turn, e.g. 'last Friday'."
    )
    occurred_at: date | None = Field(default=None, description="Date the time wording resolves to.")
    source_turn_ids: tuple[str, ...] = Field(min_length=1)
    question: bool = Field(default=False, description="True when the EDU reports a question someone asked.")

    @field_validator("text")
    @classmethod
    def _text_not_blank(cls, text: str) -> str:
        if not text.strip():
            raise ValueError("EDU text is blank")
        return text.strip()


class Hit(BaseModel):
    """One ranked EDU returned by a search."""

    edu_id: str
    text: str
    score: float = Field(description="Final score that produced the rank; higher is better.")
    dense_score: float = Field(
        description="Cosine similarity, from -1 to 1, of the query to the EDU's embedding, which takes in the EDUs before it."
    )
    propagation_score: float = Field(default=0.0, description="Personalized PageRank mass, normalised to [0, 1].")
    conversation_id: str
    session_id: str
    session_date: datetime | None
    speakers: list[str]
    source_turn_ids: list[str]
    time_text: str | None = None
    occurred_at: date | None = None
    question: bool = Field(default=False, description="True when the EDU reports a question someone asked.")


_ARTICLES = ("the ", "a ", "an ", "my ", "his ", "her ", "their ", "our ", "your ")


def normalize_name(name: str) -> str:
    """Lower-case ``name``, collapse spaces and drop one leading article or possessive."""
    key = " ".join(name.lower().split())
    for article in _ARTICLES:
        if key.startswith(article) and len(key) > len(article):
            return key[len(article) :]
    return key
