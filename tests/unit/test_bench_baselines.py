"""The dense turn baseline takes in the turn before each turn, within its session only."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pytest

from memgraph.bench.baselines import DenseTurnRetriever, turn_documents
from memgraph.models import Conversation, Session, Turn
from tests.hashing_embedder import HashingEmbedder


def _conversation() -> Conversation:
    def session(number: int, texts: list[str]) -> Session:
        turns = [
            Turn(id=f"D{number}:{position}", speaker="Ana", text=text) for position, text in enumerate(texts, start=1)
        ]
        return Session(id=f"session_{number}", index=number, started_at=datetime(2024, 5, number), turns=turns)

    return Conversation(
        id="c",
        speakers=("Ana", "Ben"),
        sessions=(session(1, ["kiln pottery", "vase glaze"]), session(2, ["violin lesson", "concert hall"])),
    )


def test_dense_turns_blend_within_session() -> None:
    embedder = HashingEmbedder()
    documents = turn_documents(_conversation())
    plain = embedder.embed_documents([document.text for document in documents])

    retriever = DenseTurnRetriever(documents, embedder, dated=False)

    vectors = retriever._vectors
    assert vectors[0] == pytest.approx(plain[0])
    # The first turn of a session takes in nothing from the session before.
    assert vectors[2] == pytest.approx(plain[2])
    expected = plain[1] + 0.5 * plain[0]
    assert vectors[1] == pytest.approx(expected / np.linalg.norm(expected))
    assert retriever.search("vase glaze", 4)[0].turn_ids == ("D1:2",)
