"""The ingest job: extract, embed and write each session, skipping finished ones.

A session is the unit of work and of recovery: it is written in one
transaction and then marked with a checkpoint (the extractor's, and the way
texts are embedded), so a rerun skips finished sessions and a crash loses at
most the session in flight.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Generator, Iterator, Sequence
from concurrent.futures import Future
from contextlib import contextmanager

from neo4j.exceptions import Neo4jError
from pydantic import BaseModel, Field

from ingest.extractors.base import ExtractionContext, Extractor
from ingest.writer import EDU_CONTEXT, TURN_CONTEXT, SessionWriter, ingest_checkpoint, turn_embedding_text, with_context
from memgraph import ids
from memgraph.embeddings import Embedder
from memgraph.errors import IngestError, MemgraphError, Neo4jUnavailableError
from memgraph.models import Conversation, ExtractedArgument, ExtractedEDU, Session

logger = logging.getLogger(__name__)

#: Maximum length of a turn text or image caption handed to an extractor, in characters.
#: spaCy 3.8 estimates its parser's memory at about 1 GB per 100,000 characters
#: (its error E088), and a longer turn is a pasted document rather than a
#: message. An extractor may set its own ``max_text_chars``.
MAX_TEXT_CHARS = 100_000


class IngestReport(BaseModel):
    """Counts and timings of one ingest job."""

    conversations: int = 0
    sessions: int = Field(default=0, description="Sessions written by this job.")
    sessions_skipped: int = Field(default=0, description="Sessions already ingested with the same extractor version.")
    sessions_failed: list[str] = Field(default_factory=list, description="'<conversation>/<session>' of each failure.")
    errors: list[str] = Field(default_factory=list, description="Error message of each session in sessions_failed.")
    turns: int = 0
    edus: int = 0
    arguments: int = Field(default=0, description="Arguments new to the space.")
    seconds: float = 0.0
    extract_seconds: float = 0.0
    embed_seconds: float = 0.0
    write_seconds: float = 0.0
    llm_calls: int = Field(default=0, description="Chat model calls of an LLM extractor, retries included.")
    llm_cache_hits: int = Field(default=0, description="Sessions an LLM extractor took from its cache.")
    llm_input_tokens: int = Field(default=0, description="Input tokens the chat model reported.")
    llm_output_tokens: int = Field(default=0, description="Output tokens the chat model reported.")
    llm_rejected_outputs: int = Field(default=0, description="Chat model responses rejected by validation.")
    llm_retries: int = Field(default=0, description="Calls retried after a rate limit or a timeout.")

    def summary(self) -> str:
        """Format the report as one line of counts and times."""
        line = (
            f"{self.sessions} sessions ingested ({self.sessions_skipped} already done), {self.turns} turns, "
            f"{self.edus} EDUs, {self.arguments} new arguments in {self.seconds:.1f} s "
            f"(extract {self.extract_seconds:.1f} s, embed {self.embed_seconds:.1f} s, write {self.write_seconds:.1f} s)"
        )
        if self.sessions_failed:
            line += f"; FAILED: {', '.join(self.sessions_failed)}"
        return line


class _Progress:
    """A tqdm bar on a terminal, INFO log lines otherwise."""

    def __init__(self, total_turns: int, show_bar: bool | None) -> None:
        self.show_bar = sys.stderr.isatty() if show_bar is None else show_bar
        self.total = total_turns
        self.done = 0
        self._bar = None
        if self.show_bar:
            from tqdm import tqdm

            self._bar = tqdm(total=total_turns, unit="turn", desc="ingest", file=sys.stderr)

    def advance(self, turns: int, label: str) -> None:
        self.done += turns
        if self._bar is not None:
            self._bar.set_postfix_str(label, refresh=False)
            self._bar.update(turns)
        else:
            logger.info("ingest: %s done (%d/%d turns)", label, self.done, self.total)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


@contextmanager
def _timed(report: IngestReport, field: str) -> Iterator[None]:
    start = time.perf_counter()
    try:
        yield
    finally:
        setattr(report, field, getattr(report, field) + time.perf_counter() - start)


def ingest_conversations(
    conversations: Sequence[Conversation],
    *,
    writer: SessionWriter,
    extractor: Extractor,
    embedder: Embedder,
    progress: bool | None = None,
    source: str | None = None,
) -> IngestReport:
    """Ingest conversations session by session and return the job's report.

        A session fails when its extraction or write fails, or when a text is
        longer than the extractor's ``max_text_chars`` (default :data:`MAX_TEXT_CHARS`).
        A failed session is logged, listed in ``report.sessions_failed`` with its
        message in ``report.errors``, and left unwritten, and the job goes on with
        the others. Sessions already ingested with ``extractor.checkpoint`` and the
    current embedding layout are skipped.
        ``source`` names the input file in messages.

        Raises:
            IngestError: two conversations have the same id; nothing was written.
            Neo4jUnavailableError: Neo4j became unreachable. The sessions written
                before are kept, and a rerun resumes after them.
    """
    _reject_duplicate_ids(conversations, source)
    report = IngestReport(conversations=len(conversations))
    started = time.perf_counter()
    max_chars = int(getattr(extractor, "max_text_chars", MAX_TEXT_CHARS))
    plan: list[tuple[Conversation, list[Session]]] = []
    for conversation in conversations:
        done = writer.ingested_sessions(conversation, ingest_checkpoint(extractor.checkpoint))
        pending = []
        for session in conversation.sessions:
            if session.id in done:
                report.sessions_skipped += 1
                continue
            try:
                _check_text_lengths(conversation, session, max_chars, source)
            except IngestError as e:
                _record_failure(report, f"{conversation.id}/{session.id}", e)
                continue
            pending.append(session)
        plan.append((conversation, pending))

    bar = _Progress(sum(len(session.turns) for _, sessions in plan for session in sessions), progress)
    usage_before = _llm_usage(extractor)
    extractions = _start_concurrent_extraction(plan, extractor)
    try:
        for conversation, sessions in plan:
            context = ExtractionContext(conversation_id=conversation.id, speakers=conversation.speakers)
            for session in sessions:
                label = f"{conversation.id}/{session.id}"
                extraction = None
                if extractions is not None:
                    # A lazy extract_many does its work here, so the time counts as extraction.
                    with _timed(report, "extract_seconds"):
                        extraction = _next_extraction(extractions, label)
                    if extraction is None:
                        extractions.close()
                        extractions = None
                try:
                    _ingest_session(
                        conversation,
                        session,
                        context,
                        writer=writer,
                        extractor=extractor,
                        embedder=embedder,
                        report=report,
                        extraction=extraction,
                        source=source,
                    )
                except Neo4jUnavailableError as e:
                    raise Neo4jUnavailableError(
                        f"ingest stopped at {label}: {e} The {report.sessions} sessions this job wrote are kept. "
                        "Rerun the same ingest to resume after them."
                    ) from e
                except MemgraphError as e:
                    _record_failure(report, label, e)
                bar.advance(len(session.turns), label)
    finally:
        if extractions is not None:
            extractions.close()
        bar.close()
    for counter, value in _llm_usage(extractor).items():
        setattr(report, f"llm_{counter}", value - usage_before.get(counter, 0))
    report.seconds = time.perf_counter() - started
    logger.debug("ingest finished: %s", report.summary())
    return report


def _record_failure(report: IngestReport, label: str, error: MemgraphError) -> None:
    logger.error("session %s failed and was not written: %s", label, error)
    report.sessions_failed.append(label)
    report.errors.append(str(error))


def _place(source: str | None, conversation: Conversation, session: Session) -> str:
    """Name a session for messages, e.g. "file a.json, conversation 'c1' session 's2'"."""
    place = f"conversation {conversation.id!r} session {session.id!r}"
    return f"file {source}, {place}" if source else place


def _reject_duplicate_ids(conversations: Sequence[Conversation], source: str | None) -> None:
    """Raise IngestError if two conversations share an id, since the second would merge into the first."""
    seen: set[str] = set()
    for conversation in conversations:
        if conversation.id in seen:
            where = f" in {source}" if source else ""
            raise IngestError(
                f"conversation id {conversation.id!r} is given twice{where}; the sessions of the second would "
                "be taken for those of the first. Give each conversation its own id.",
                conversation_id=conversation.id,
                field="id",
            )
        seen.add(conversation.id)


def _check_text_lengths(conversation: Conversation, session: Session, max_chars: int, source: str | None) -> None:
    """Raise IngestError naming the first turn of ``session`` whose text or caption exceeds ``max_chars``."""
    for turn in session.turns:
        for field, value in (("text", turn.text), ("image_caption", turn.image_caption)):
            if value is not None and len(value) > max_chars:
                raise IngestError(
                    f"{_place(source, conversation, session)} turn {turn.id!r}, field {field!r}: "
                    f"{len(value):,} characters, more than the {max_chars:,} the extractor accepts. "
                    "Split the text into several turns; the session was not written.",
                    conversation_id=conversation.id,
                    session_id=session.id,
                    turn_id=turn.id,
                    field=field,
                )


def _next_extraction(
    extractions: Generator[Future[list[ExtractedEDU]], None, None], label: str
) -> Future[list[ExtractedEDU]] | None:
    """Return the next future of an ``extract_many`` stream, or None once the stream failed or ended early.

    After None the caller extracts each remaining session with ``extract``, so a
    session that breaks the stream fails alone.
    """
    try:
        return next(extractions)
    except StopIteration:
        logger.warning("extraction stream ended before %s; extracting the remaining sessions one by one", label)
    except Exception as e:  # whatever the extractor raises, the sessions still get their own attempt
        logger.warning("extraction stream failed at %s (%r); extracting the remaining sessions one by one", label, e)
    return None


def _start_concurrent_extraction(
    plan: list[tuple[Conversation, list[Session]]], extractor: Extractor
) -> Generator[Future[list[ExtractedEDU]], None, None] | None:
    """Start extracting every planned session when the extractor has ``extract_many``; None otherwise.

    ``extract_many`` takes (session, context) pairs and yields one future per
    session in the same order, so sessions are still written in plan order.
    """
    extract_many = getattr(extractor, "extract_many", None)
    if extract_many is None:
        return None
    return extract_many(
        (session, ExtractionContext(conversation_id=conversation.id, speakers=conversation.speakers))
        for conversation, sessions in plan
        for session in sessions
    )


def _llm_usage(extractor: Extractor) -> dict[str, int]:
    """Return the usage counters of an extractor that calls a chat model, e.g. ``{'calls': 3}``; {} otherwise."""
    usage = getattr(extractor, "usage", None)
    if usage is None:
        return {}
    return {key: value for key, value in usage.counts().items() if f"llm_{key}" in IngestReport.model_fields}


def _ingest_session(
    conversation: Conversation,
    session: Session,
    context: ExtractionContext,
    *,
    writer: SessionWriter,
    extractor: Extractor,
    embedder: Embedder,
    report: IngestReport,
    extraction: Future[list[ExtractedEDU]] | None = None,
    source: str | None = None,
) -> None:
    with _timed(report, "extract_seconds"):
        try:
            edus = extraction.result() if extraction is not None else extractor.extract(session, context)
        except MemgraphError:
            raise
        except Exception as e:  # an extractor bug must not end the whole job
            raise IngestError(
                f"extractor {extractor.checkpoint} failed on {_place(source, conversation, session)}: {e!r}",
                conversation_id=conversation.id,
                session_id=session.id,
            ) from e

    arguments: dict[str, ExtractedArgument] = {}
    for edu in edus:
        for argument in edu.arguments:
            arguments.setdefault(ids.argument_id(argument.name, argument.kind), argument)
    new_ids = writer.new_argument_ids(list(arguments))

    with _timed(report, "embed_seconds"):
        edu_vectors = with_context(embedder.embed_documents([edu.text for edu in edus]), EDU_CONTEXT)
        argument_vectors = embedder.embed_documents([arguments[key].name for key in new_ids])
        turn_vectors = with_context(
            embedder.embed_documents([turn_embedding_text(turn) for turn in session.turns]), TURN_CONTEXT
        )

    with _timed(report, "write_seconds"):
        try:
            writer.write(
                conversation,
                session,
                edus,
                edu_vectors,
                {key: (arguments[key], vector) for key, vector in zip(new_ids, argument_vectors, strict=True)},
                ingest_checkpoint(extractor.checkpoint),
                turn_vectors=turn_vectors,
            )
        except (Neo4jError, ValueError) as e:
            # Transient errors were already retried by the driver; this one rejects the session's data.
            raise IngestError(
                f"Neo4j rejected {_place(source, conversation, session)}: {e}",
                conversation_id=conversation.id,
                session_id=session.id,
            ) from e

    report.sessions += 1
    report.turns += len(session.turns)
    report.edus += len(edus)
    report.arguments += len(new_ids)
