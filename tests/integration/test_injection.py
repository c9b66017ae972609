"""Space names, ids, texts and queries that look like Cypher or Lucene are data, never part of a statement."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from memgraph.models import Conversation, Session, Turn
from memgraph.retrieval.seed import text_seeds
from tests.fakes import TurnExtractor
from tests.graph_snapshot import differences, take_snapshot
from tests.hashing_embedder import HashingEmbedder

HOSTILE = [
    "x'}) DETACH DELETE n //",
    'x"}) MATCH (n) DETACH DELETE n //',
    "`a`",
    "{}",
    "$space",
    "n {space: 'victim'}",
    "back\\slash",
    "' OR 1=1 --",
]


def _conversation(conversation_id: str, sessions: dict[str, list[tuple[str, str]]]) -> Conversation:
    """Build a conversation from session id → [(turn id, text)], all turns by Noor."""
    return Conversation(
        id=conversation_id,
        speakers=("Noor",),
        sessions=tuple(
            Session(
                id=session_id,
                index=number,
                started_at=datetime(2024, 5, number, 9),
                turns=tuple(Turn(id=turn_id, speaker="Noor", text=text) for turn_id, text in turns),
            )
            for number, (session_id, turns) in enumerate(sessions.items(), 1)
        ),
    )


@pytest.fixture
def victim(make_memory: Any) -> Any:
    """A space with ordinary data that no other space's input may touch."""
    memory = make_memory(extractor=TurnExtractor(), embedder=HashingEmbedder())
    memory.ingest(
        _conversation("victim-talk", {"session_1": [("V1", "Noor keeps bees on the roof.")]}),
        progress=False,
    )
    return memory


@pytest.mark.parametrize("space", HOSTILE)
def test_hostile_space_name_is_plain_data(make_memory: Any, victim: Any, space: str) -> None:
    victim_before = take_snapshot(victim.store, victim.space)
    memory = make_memory(space=space, extractor=TurnExtractor(), embedder=HashingEmbedder())

    memory.ingest(_conversation("talk", {"session_1": [("T1", "Noor paints murals at night.")]}), progress=False)
    hits = memory.search("Who paints murals?", k=5)
    stats = memory.stats()
    spaces_before_forget = memory.store.spaces()
    memory.forget()

    assert [hit.text for hit in hits] == ["Noor: Noor paints murals at night."]
    assert stats["edus"] == 1
    assert stats["sessions"] == 1
    assert space in spaces_before_forget
    assert space not in memory.store.spaces()
    assert memory.stats()["edus"] == 0
    assert differences(victim_before, take_snapshot(victim.store, victim.space)) == []


def test_hostile_ids_and_texts_round_trip(make_memory: Any, victim: Any) -> None:
    victim_before = take_snapshot(victim.store, victim.space)
    texts = [
        "She said 'MATCH (n) DETACH DELETE n' out loud.",
        'A "quoted" {map: $param} with `ticks`',
        "CALL db.clearQueryCaches() // and a \\backslash",
        "}) RETURN 1 UNION MATCH (m) RETURN m //",
    ]
    conversation = _conversation(
        HOSTILE[0],
        {"`s1`": [("$space", texts[0]), ("{}", texts[2])], "{s2}": [("`t`", texts[1]), ("x'})//", texts[3])]},
    )
    memory = make_memory(extractor=TurnExtractor(), embedder=HashingEmbedder())

    memory.ingest(conversation, progress=False)
    hits = memory.search("MATCH DELETE quoted ticks backslash UNION", k=10, mode="dense")

    by_text = {hit.text.removeprefix("Noor: "): hit for hit in hits}
    assert set(by_text) == set(texts)
    assert {hit.conversation_id for hit in hits} == {HOSTILE[0]}
    assert by_text[texts[0]].session_id == "`s1`"
    assert by_text[texts[0]].source_turn_ids == ["$space"]
    assert by_text[texts[1]].session_id == "{s2}"
    assert by_text[texts[1]].source_turn_ids == ["`t`"]
    assert by_text[texts[3]].source_turn_ids == ["x'})//"]
    assert differences(victim_before, take_snapshot(victim.store, victim.space)) == []


def test_hostile_session_id_forgets_only_that_session(make_memory: Any, victim: Any) -> None:
    victim_before = take_snapshot(victim.store, victim.space)
    memory = make_memory(extractor=TurnExtractor(), embedder=HashingEmbedder())
    memory.ingest(
        _conversation("c'}) //", {"{}": [("a", "Noor rows a boat.")], "$session_id": [("b", "Noor bakes rye bread.")]}),
        progress=False,
    )

    found = memory.forget(conversation_id="c'}) //", session_id="{}")

    hits = memory.search("What does Noor do?", k=5)
    assert found == 1
    assert memory.stats()["sessions"] == 1
    assert [hit.session_id for hit in hits] == ["$session_id"]
    assert differences(victim_before, take_snapshot(victim.store, victim.space)) == []


def test_slashed_ids_keep_sessions_apart(make_memory: Any) -> None:
    memory = make_memory(extractor=TurnExtractor(), embedder=HashingEmbedder())
    # Before ids were escaped in keys, both sessions had the key "a/b/c" and the second overwrote the first.
    first = _conversation("a/b", {"c": [("x", "Noor plants tulips.")]})
    second = _conversation("a", {"b/c": [("b/x", "Noor repairs clocks.")]})

    memory.ingest([first, second], progress=False)

    hits = {hit.conversation_id: hit for hit in memory.search("What does Noor do?", k=5)}
    assert memory.stats()["sessions"] == 2
    assert memory.stats()["turns"] == 2
    assert hits["a/b"].text == "Noor: Noor plants tulips."
    assert hits["a/b"].session_id == "c"
    assert hits["a"].text == "Noor: Noor repairs clocks."
    assert hits["a"].session_id == "b/c"


@pytest.mark.parametrize(
    "query",
    [
        "title:bees AND (roof OR honey)~2",
        '"unclosed phrase about bees',
        "*:*",
        "\\",
        "bees^10 OR NOT roof",
        "[a TO z] {a TO z}",
        "bees && roof || !honey",
        "/b.*s/",
        "x'}) DETACH DELETE n //",
        "$space {}",
        "the of and",
        "蜜蜂 🐝 נחלים",
    ],
)
def test_lucene_specials_in_query_are_words(make_memory: Any, victim: Any, query: str) -> None:
    other = make_memory(extractor=TurnExtractor(), embedder=HashingEmbedder())
    other.ingest(_conversation("other-talk", {"session_1": [("O1", "Noor keeps bees too.")]}), progress=False)

    hits = victim.search(query, k=5)

    assert [hit.conversation_id for hit in hits] == ["victim-talk"]


def test_match_all_query_finds_no_text_seeds(victim: Any) -> None:
    assert text_seeds(victim.store, victim.space, "*:*", 20) == ({}, {})


def test_query_of_thousands_of_words_is_answered(victim: Any) -> None:
    query = " ".join(f"bees{number}" for number in range(3000)) + " bees roof"

    hits = victim.search(query, k=3)

    assert [hit.conversation_id for hit in hits] == ["victim-talk"]
