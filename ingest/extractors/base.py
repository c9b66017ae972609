"""Interface shared by every EDU extractor."""

from __future__ import annotations

from abc import ABC, abstractmethod

from pydantic import BaseModel, ConfigDict

from memgraph.models import ExtractedEDU, Session


class ExtractionContext(BaseModel):
    """Conversation facts an extractor receives with each session: its id and speakers."""

    model_config = ConfigDict(frozen=True)

    conversation_id: str
    speakers: tuple[str, ...]


class Extractor(ABC):
    """Turns a session into EDUs.

    Implementations must be deterministic for a given ``name`` and ``version``:
    the pair is stored as the session's ingest checkpoint, so a rerun with the
    same pair skips the session and a different pair re-extracts it.
    """

    name: str
    version: str

    @property
    def checkpoint(self) -> str:
        """Identifier stored on each ingested session, e.g. ``'spacy:1'``."""
        return f"{self.name}:{self.version}"

    @abstractmethod
    def extract(self, session: Session, context: ExtractionContext) -> list[ExtractedEDU]:
        """Return the EDUs of ``session``, each naming the turns it came from."""
