"""Small deterministic stand-ins used by tests that do not exercise spaCy."""

from __future__ import annotations

import re

from ingest.extractors.base import ExtractionContext, Extractor
from memgraph.models import ArgumentKind, ExtractedArgument, ExtractedEDU, Session

_CAPITALISED = re.compile(r"\b[A-Z][a-z]{2,}\b")


class TurnExtractor(Extractor):
    """One EDU per turn: ``"<speaker>: <text>"``, with the speaker and capitalised words as arguments."""

    name = "turn-test"

    def __init__(self, version: str = "1") -> None:
        self.version = version

    def extract(self, session: Session, context: ExtractionContext) -> list[ExtractedEDU]:
        edus = []
        for turn in session.turns:
            if not turn.content.strip():
                continue
            arguments = [ExtractedArgument(name=turn.speaker, kind=ArgumentKind.PERSON, role="agent")]
            arguments += [
                ExtractedArgument(name=word, kind=ArgumentKind.THING)
                for word in dict.fromkeys(_CAPITALISED.findall(turn.content))
                if word != turn.speaker
            ]
            edus.append(
                ExtractedEDU(
                    text=f"{turn.speaker}: {turn.content}",
                    speakers=(turn.speaker,),
                    arguments=tuple(arguments),
                    source_turn_ids=(turn.id,),
                )
            )
        return edus


class SentenceExtractor(Extractor):
    """One EDU per sentence of each turn, as written, with the speaker as the only argument."""

    name = "sentence-test"
    version = "1"

    def extract(self, session: Session, context: ExtractionContext) -> list[ExtractedEDU]:
        return [
            ExtractedEDU(
                text=sentence,
                speakers=(turn.speaker,),
                arguments=(ExtractedArgument(name=turn.speaker, kind=ArgumentKind.PERSON, role="agent"),),
                source_turn_ids=(turn.id,),
            )
            for turn in session.turns
            for sentence in re.split(r"(?<=[.!?])\s+", turn.content.strip())
            if sentence
        ]
