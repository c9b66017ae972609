"""The ingest job: extract, embed and write each session, skipping finished ones.

A session is the unit of work and of recovery: it is written in one
transaction and then marked with the extractor's checkpoint, so a rerun skips
finished sessions and a crash loses at most the session in flight.
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
from ingest.writer import SessionWriter
from memgraph import ids
from memgraph.embeddings import Embedder
from memgraph.errors import IngestError, MemgraphError
from memgraph.models import Conversation, ExtractedArgument, ExtractedEDU, Session

logger = logging.getLogger(__name__)


class IngestReport(BaseModel):
    """Counts and timings of one ingest job."""

    conversations: int = 0
    sessions: int = Field(default=0, description="Sessions written by this job.")
    sessions_skipped: int = Field(default=0, description="Sessions already ingested with the same extractor version.")
    sessions_failed: list[str] = Field(default_factory=list)
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
    llm_rejected_outputs: int = Field(default=0, description="Chat model answers rejected by validation.")
    llm_retries: int = Field(default=0, description="Calls retried after a rate limit or a timeout.")

    def summary(self) -> str:
        """One line for people: counts and time."""
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
) -> IngestReport:
    """Ingest conversations session by session and return the job's report.

    A session whose extraction or write fails is logged, listed in
    ``report.sessions_failed`` and left unwritten; the job goes on with the
    others. Sessions already ingested with ``extractor.checkpoint`` are skipped.
    """
    report = IngestReport(conversations=len(conversations))
    started = time.perf_counter()
    plan: list[tuple[Conversation, list[Session]]] = []
    for conversation in conversations:
        done = writer.ingested_sessions(conversation, extractor.checkpoint)
        pending = [session for session in conversation.sessions if session.id not in done]
        report.sessions_skipped += len(conversation.sessions) - len(pending)
        plan.append((conversation, pending))

    bar = _Progress(sum(len(session.turns) for _, sessions in plan for session in sessions), progress)
    usage_before = _llm_usage(extractor)
    extractions = _start_concurrent_extraction(plan, extractor)
    try:
        for conversation, sessions in plan:
            context = ExtractionContext(conversation_id=conversation.id, speakers=conversation.speakers)
            for session in sessions:
                label = f"{conversation.id}/{session.id}"
                # A lazy extract_many does its work here, so the time counts as extraction.
                with _timed(report, "extract_seconds"):
                    extraction = next(extractions) if extractions is not None else None
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
                    )
                except MemgraphError as e:
                    logger.error("session %s failed and was not written: %s", label, e)
                    report.sessions_failed.append(label)
                bar.advance(len(session.turns), label)
    finally:
        if extractions is not None:
            extractions.close()
        bar.close()
    for counter, value in _llm_usage(extractor).items():
        setattr(report, f"llm_{counter}", value - usage_before.get(counter, 0))
    report.seconds = time.perf_counter() - started
    logger.info("ingest finished: %s", report.summary())
    return report


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
) -> None:
    with _timed(report, "extract_seconds"):
        try:
            edus = extraction.result() if extraction is not None else extractor.extract(session, context)
        except MemgraphError:
            raise
        except Exception as e:  # an extractor bug must not end the whole job
            raise IngestError(
                f"extractor {extractor.checkpoint} failed on {conversation.id}/{session.id}: {e!r}"
            ) from e

    arguments: dict[str, ExtractedArgument] = {}
    for edu in edus:
        for argument in edu.arguments:
            arguments.setdefault(ids.argument_id(argument.name, argument.kind), argument)
    new_ids = writer.new_argument_ids(list(arguments))

    with _timed(report, "embed_seconds"):
        edu_vectors = embedder.embed_documents([edu.text for edu in edus])
        argument_vectors = embedder.embed_documents([arguments[key].name for key in new_ids])

    with _timed(report, "write_seconds"):
        try:
            writer.write(
                conversation,
                session,
                edus,
                edu_vectors,
                {key: (arguments[key], vector) for key, vector in zip(new_ids, argument_vectors, strict=True)},
                extractor.checkpoint,
            )
        except (Neo4jError, ValueError) as e:
            # Transient errors were already retried by the driver; this one rejects the session's data.
            raise IngestError(f"Neo4j rejected {conversation.id}/{session.id}: {e}") from e

    report.sessions += 1
    report.turns += len(session.turns)
    report.edus += len(edus)
    report.arguments += len(new_ids)
