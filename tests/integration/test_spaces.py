"""Space isolation: no read path of one space returns another space's data."""

from __future__ import annotations

from typing import Any

import pytest

from memgraph.models import Conversation, Session, Turn
from tests.conftest import SAMPLE_CONVERSATION
from tests.fakes import TurnExtractor


def _conversation(conversation_id: str, texts: list[str]) -> Conversation:
    from datetime import datetime

    turns = tuple(
        Turn(id=f"T{position}", speaker="Zoe" if position % 2 else "Yann", text=text)
        for position, text in enumerate(texts, 1)
    )
    session = Session(id="session_1", index=1, started_at=datetime(2024, 1, 5, 10, 0), turns=turns)
    return Conversation(id=conversation_id, speakers=("Zoe", "Yann"), sessions=(session,))


@pytest.mark.parametrize("mode", ["dense", "graph"])
def test_search_never_returns_other_space(make_memory: Any, mode: str) -> None:
    large = make_memory(extractor=TurnExtractor())
    small = make_memory(extractor=TurnExtractor())
    large.ingest(SAMPLE_CONVERSATION, progress=False)
    small.ingest(
        _conversation("zoe-yann", ["Zoe adopted a greyhound named Pepper from the shelter.", "Yann bought a bike."]),
        progress=False,
    )

    small_hits = small.search("Who adopted a greyhound called Pepper?", k=10, mode=mode)
    large_hits = large.search("Who adopted a greyhound called Pepper?", k=10, mode=mode)

    assert {hit.conversation_id for hit in small_hits} == {"zoe-yann"}
    assert len(small_hits) == 2
    assert {hit.conversation_id for hit in large_hits} == {"ana-ben"}


def test_same_ids_in_two_spaces_stay_separate(make_memory: Any) -> None:
    first = make_memory(extractor=TurnExtractor())
    second = make_memory(extractor=TurnExtractor())
    first.ingest(_conversation("same-id", ["Zoe plays the cello in an orchestra."]), progress=False)
    second.ingest(_conversation("same-id", ["Zoe grows tomatoes on her balcony."]), progress=False)

    first_texts = [hit.text for hit in first.search("What does Zoe do?", k=5)]
    second_texts = [hit.text for hit in second.search("What does Zoe do?", k=5)]

    assert first_texts == ["Zoe: Zoe plays the cello in an orchestra."]
    assert second_texts == ["Zoe: Zoe grows tomatoes on her balcony."]


def test_forget_space_leaves_other_space_intact(make_memory: Any) -> None:
    kept = make_memory(extractor=TurnExtractor())
    dropped = make_memory(extractor=TurnExtractor())
    kept.ingest(SAMPLE_CONVERSATION, progress=False)
    dropped.ingest(SAMPLE_CONVERSATION, progress=False)
    kept_before = kept.stats()

    dropped.forget()

    assert dropped.stats()["edus"] == 0
    assert dropped.stats()["relationships"] == 0
    assert kept.stats() == kept_before
    assert kept.search("pottery class", k=3)
