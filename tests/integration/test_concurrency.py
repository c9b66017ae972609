"""Ingests and queries at the same time: no errors, and the same graphs as one after the other."""

from __future__ import annotations

import asyncio
import threading
from datetime import datetime, timedelta
from typing import Any

from ingest.extractors.base import ExtractionContext
from memgraph.models import Conversation, ExtractedEDU, Session, Turn
from tests.fakes import TurnExtractor
from tests.graph_snapshot import differences, take_snapshot
from tests.hashing_embedder import HashingEmbedder

WAIT_SECONDS = 120
QUESTIONS = ["Who sails to Corsica?", "What did Ines cook?", "Where is the Observatory?"]


def _conversation(conversation_id: str, speaker: str, topics: list[str]) -> Conversation:
    sessions = []
    for number, topic in enumerate(topics, 1):
        turns = (
            Turn(id=f"{number}:1", speaker=speaker, text=f"{speaker} talked with Ines about {topic} in Marseille."),
            Turn(id=f"{number}:2", speaker="Ines", text=f"Ines said the Observatory has a club for {topic}."),
            Turn(id=f"{number}:3", speaker=speaker, text=f"{speaker} plans to sail to Corsica after the {topic} trip."),
        )
        sessions.append(
            Session(
                id=f"session_{number}",
                index=number,
                started_at=datetime(2024, 6, 1, 9) + timedelta(days=number),
                turns=turns,
            )
        )
    return Conversation(id=conversation_id, speakers=(speaker, "Ines"), sessions=tuple(sessions))


FIRST = _conversation("first", "Milo", ["astronomy", "cooking", "sailing", "chess", "pottery", "rowing"])
SECOND = _conversation("second", "Sana", ["opera", "cycling", "baking", "judo", "poetry", "fencing"])


class _BarrierExtractor(TurnExtractor):
    """Waits at ``barrier`` before extracting session_3, so two ingests are surely inside their jobs together."""

    def __init__(self, barrier: threading.Barrier) -> None:
        super().__init__()
        self._barrier = barrier

    def extract(self, session: Session, context: ExtractionContext) -> list[ExtractedEDU]:
        if session.id == "session_3":
            self._barrier.wait(timeout=WAIT_SECONDS)
        return super().extract(session, context)


class _SteppedExtractor(TurnExtractor):
    """Extracts one session per release of ``steps``, so a test can query between two sessions."""

    def __init__(self, steps: threading.Semaphore) -> None:
        super().__init__()
        self._steps = steps

    def extract(self, session: Session, context: ExtractionContext) -> list[ExtractedEDU]:
        if not self._steps.acquire(timeout=WAIT_SECONDS):
            raise TimeoutError(f"no step released for {session.id}")
        return super().extract(session, context)


async def test_parallel_ingests_equal_sequential(make_memory: Any) -> None:
    barrier = threading.Barrier(2)
    first = make_memory(extractor=_BarrierExtractor(barrier), embedder=HashingEmbedder())
    second = make_memory(extractor=_BarrierExtractor(barrier), embedder=HashingEmbedder())
    first_alone = make_memory(extractor=TurnExtractor(), embedder=HashingEmbedder())
    second_alone = make_memory(extractor=TurnExtractor(), embedder=HashingEmbedder())

    reports = await asyncio.gather(
        first.aingest(FIRST, progress=False),
        second.aingest(SECOND, progress=False),
    )
    first_alone.ingest(FIRST, progress=False)
    second_alone.ingest(SECOND, progress=False)

    assert [report.sessions for report in reports] == [6, 6]
    assert [report.sessions_failed for report in reports] == [[], []]
    assert (
        differences(take_snapshot(first_alone.store, first_alone.space), take_snapshot(first.store, first.space)) == []
    )
    assert (
        differences(take_snapshot(second_alone.store, second_alone.space), take_snapshot(second.store, second.space))
        == []
    )


def _dense_answers(memory: Any) -> dict[str, list[tuple[str, float]]]:
    # Dense mode only: graph mode also weighs full-text seeds, whose Lucene scores use the word
    # statistics of every space, so another space's ingest may shift its ranks (see text_seeds).
    return {
        question: [(hit.edu_id, round(hit.score, 6)) for hit in memory.search(question, k=5, mode="dense")]
        for question in QUESTIONS
    }


def test_queries_during_ingest_stay_correct(make_memory: Any) -> None:
    stable = make_memory(extractor=TurnExtractor(), embedder=HashingEmbedder())
    stable.ingest(FIRST, progress=False)
    stable_answers = _dense_answers(stable)
    steps = threading.Semaphore(0)
    busy = make_memory(extractor=_SteppedExtractor(steps), embedder=HashingEmbedder())
    busy_alone = make_memory(extractor=TurnExtractor(), embedder=HashingEmbedder())
    failures: list[BaseException] = []
    job = threading.Thread(target=lambda: _run_collecting(busy.ingest, SECOND, failures))

    job.start()
    answers_during: list[dict[str, list[tuple[str, float]]]] = []
    stable_conversations_during: set[str] = set()
    busy_texts_during: set[str] = set()
    busy_conversations_during: set[str] = set()
    for _ in SECOND.sessions:
        answers_during.append(_dense_answers(stable))
        for question in QUESTIONS:
            stable_conversations_during |= {hit.conversation_id for hit in stable.search(question, k=5)}
            hits = busy.search(question, k=5)
            busy_texts_during |= {hit.text for hit in hits}
            busy_conversations_during |= {hit.conversation_id for hit in hits}
        steps.release()
    job.join(timeout=WAIT_SECONDS)
    busy_alone.ingest(SECOND, progress=False)
    final = take_snapshot(busy.store, busy.space)

    assert failures == []
    assert not job.is_alive()
    assert all(answers == stable_answers for answers in answers_during)
    assert stable_conversations_during == {"first"}
    assert busy_texts_during
    assert busy_conversations_during == {"second"}
    assert busy_texts_during <= set(final.edu_texts().values())
    assert differences(take_snapshot(busy_alone.store, busy_alone.space), final) == []


def _run_collecting(ingest: Any, conversation: Conversation, failures: list[BaseException]) -> None:
    try:
        ingest(conversation, progress=False)
    except BaseException as error:  # the test thread reports it
        failures.append(error)
