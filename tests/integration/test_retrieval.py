"""Both retrieval modes on the sample conversation."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from memgraph.errors import ConfigurationError
from tests.conftest import SAMPLE_CONVERSATION
from tests.fakes import SentenceExtractor, TurnExtractor

# Questions about the sample conversation and the turn that answers each.
QUESTIONS = [
    ("What is the name of the dog Ben adopted?", "S2:5"),
    ("Where did Ana go hiking with her colleagues?", "S3:1"),
    ("What did Ana give her mother for her birthday?", "S3:7"),
    ("Which ward does Ana work in at the hospital?", "S1:9"),
]


@pytest.fixture
def sample_memory(make_memory: Any) -> Any:
    memory = make_memory(extractor=TurnExtractor())
    memory.ingest(SAMPLE_CONVERSATION, progress=False)
    return memory


@pytest.mark.parametrize("mode", ["dense", "graph"])
@pytest.mark.parametrize(("question", "turn_id"), QUESTIONS)
def test_answer_turn_in_top_five(sample_memory: Any, mode: str, question: str, turn_id: str) -> None:
    hits = sample_memory.search(question, k=5, mode=mode)

    turns = [turn for hit in hits for turn in hit.source_turn_ids]
    assert turn_id in turns


@pytest.mark.parametrize("mode", ["dense", "graph"])
def test_hits_are_ranked_and_carry_provenance(sample_memory: Any, mode: str) -> None:
    hits = sample_memory.search("Ben's greyhound", k=8, mode=mode)

    assert len(hits) == 8
    assert [hit.score for hit in hits] == sorted((hit.score for hit in hits), reverse=True)
    for hit in hits:
        assert hit.session_date is not None
        assert hit.session_id.startswith("session_")
        assert hit.source_turn_ids
        assert hit.conversation_id == "ana-ben"
        assert -1.0 <= hit.dense_score <= 1.0


@pytest.mark.parametrize("mode", ["dense", "graph"])
def test_first_hits_do_not_depend_on_k(sample_memory: Any, mode: str) -> None:
    few = sample_memory.search("What did Ana make in her pottery class?", k=3, mode=mode)
    many = sample_memory.search("What did Ana make in her pottery class?", k=12, mode=mode)

    assert [hit.edu_id for hit in few] == [hit.edu_id for hit in many[:3]]


def test_question_edus_rank_below_statements(make_memory: Any) -> None:
    memory = make_memory()
    memory.ingest(SAMPLE_CONVERSATION, progress=False)

    hits = memory.search("How was the pottery class?", k=60, mode="graph")

    flags = [hit.question for hit in hits]
    assert any(flags)
    assert flags == sorted(flags)


def test_dense_search_finds_pronoun_edu(make_memory: Any, tmp_path: Path) -> None:
    # Alone, "It taught ..." is less like the question than the sentences about another book.
    # Blended with the sentence before it, it ranks next to that sentence.
    sessions = [
        ["Caroline loved Becoming Nicole by Amy Ellis Nutt. It taught Caroline self-acceptance."],
        ["Caroline read a book about gardening. Caroline found the book boring and put it down."],
        ["Melanie took a pottery class. It taught Melanie patience."],
    ]
    conversation = {
        "id": "books",
        "speakers": ["Caroline", "Melanie"],
        "sessions": [
            {
                "id": f"session_{number}",
                "date": f"2024-05-0{number}",
                "turns": [{"id": f"S{number}:1", "speaker": text.split()[0], "text": text} for text in texts],
            }
            for number, texts in enumerate(sessions, start=1)
        ],
    }
    path = tmp_path / "books.json"
    path.write_text(json.dumps(conversation), encoding="utf-8")
    memory = make_memory(extractor=SentenceExtractor())
    memory.ingest(path, progress=False)

    hits = memory.search("What did Caroline take away from the book Becoming Nicole?", k=2, mode="dense")

    assert {hit.text for hit in hits} == {
        "Caroline loved Becoming Nicole by Amy Ellis Nutt.",
        "It taught Caroline self-acceptance.",
    }


def test_graph_mode_reports_propagation(sample_memory: Any) -> None:
    hits = sample_memory.search("Ben's greyhound", k=5, mode="graph")

    assert max(hit.propagation_score for hit in hits) == pytest.approx(1.0)


def test_dense_mode_orders_by_similarity(sample_memory: Any) -> None:
    hits = sample_memory.search("Ben's greyhound", k=5, mode="dense")

    assert [hit.score for hit in hits] == [hit.dense_score for hit in hits]
    assert all(hit.propagation_score == 0.0 for hit in hits)


def test_empty_space_returns_no_hits(make_memory: Any) -> None:
    memory = make_memory(extractor=TurnExtractor())

    assert memory.search("anything at all", k=5, mode="graph") == []
    assert memory.search("anything at all", k=5, mode="dense") == []


def test_blank_query_is_rejected(sample_memory: Any) -> None:
    with pytest.raises(ConfigurationError, match="query is empty"):
        sample_memory.search("   ")


async def test_async_search_matches_sync(sample_memory: Any) -> None:
    sync_hits = sample_memory.search("pottery bowl", k=5)

    async_hits = await sample_memory.asearch("pottery bowl", k=5)

    assert [hit.edu_id for hit in async_hits] == [hit.edu_id for hit in sync_hits]


async def test_async_with_closes_store(make_memory: Any) -> None:
    memory = make_memory(extractor=TurnExtractor())

    async with memory as opened:
        await opened.aingest(SAMPLE_CONVERSATION, progress=False)
        hits = await opened.asearch("pottery bowl", k=3)
        store = opened.store

    assert opened is memory
    assert len(hits) == 3
    assert memory.store is not store  # closed on exit, so the next use connects again
