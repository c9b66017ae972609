"""Spaces share one database and its indexes; no read or delete of one space may reach another."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest

from ingest.extractors.base import ExtractionContext
from memgraph.config import Neo4jSettings
from memgraph.memory import Memory
from memgraph.models import ArgumentKind, Conversation, ExtractedArgument, ExtractedEDU, Session, Turn
from memgraph.retrieval.propagation import load_space_graph
from memgraph.retrieval.seed import text_seeds
from memgraph.store import OVERFETCH
from tests.fakes import TurnExtractor
from tests.graph_snapshot import Snapshot, differences, take_snapshot
from tests.hashing_embedder import HashingEmbedder

#: More EDUs than graph mode over-fetches from the shared vector index (20 seeds x OVERFETCH).
LARGE_TURNS = 20 * OVERFETCH + 10
QUESTION = "Who adopted a greyhound called Pepper?"
SMALL_TEXTS = ["Yann bought a bike.", "Yann likes green tea.", "Yann reads poetry at dawn."]


def _conversation(conversation_id: str, speaker: str, sessions: list[list[str]], prefix: str = "T") -> Conversation:
    built = []
    for number, texts in enumerate(sessions, 1):
        turns = tuple(
            Turn(id=f"{prefix}{number}:{position}", speaker=speaker, text=text)
            for position, text in enumerate(texts, 1)
        )
        built.append(
            Session(id=f"session_{number}", index=number, started_at=datetime(2024, 2, number, 12), turns=turns)
        )
    return Conversation(id=conversation_id, speakers=(speaker,), sessions=tuple(built))


def _memory(settings: Neo4jSettings, driver: Any) -> Memory:
    return Memory(
        space=f"tenancy-{uuid.uuid4().hex[:12]}",
        uri=settings.uri,
        username=settings.username,
        password=settings.password.get_secret_value(),
        driver=driver,
        embedder=HashingEmbedder(),
        extractor=TurnExtractor(),
    )


@pytest.fixture(scope="module")
def spaces(neo4j_settings: Neo4jSettings, neo4j_driver: Any) -> Iterator[tuple[Memory, Memory]]:
    """A large space whose EDUs all answer QUESTION, and a small one whose EDUs do not."""
    large = _memory(neo4j_settings, neo4j_driver)
    small = _memory(neo4j_settings, neo4j_driver)
    large_texts = [
        f"Zoe adopted a greyhound named Pepper, dog number {number}, and rode a bike." for number in range(LARGE_TURNS)
    ]
    large.ingest(_conversation("zoe-dogs", "Zoe", [large_texts], prefix="Z"), progress=False)
    small.ingest(_conversation("yann-notes", "Yann", [SMALL_TEXTS], prefix="Y"), progress=False)
    try:
        yield large, small
    finally:
        for memory in (large, small):
            memory.forget()
            memory.close()


def _ids(snapshot: Snapshot, label: str) -> set[str]:
    return {node_id for kind, node_id in snapshot.nodes if kind == label}


def test_crowded_index_holds_no_small_space_seeds(spaces: tuple[Memory, Memory]) -> None:
    # The precondition of the next test: the shared index alone would give the small space nothing.
    _, small = spaces
    embedding = small.embedder.embed_query(QUESTION).tolist()

    records = small.store.read("retrieval.edu_seeds", space=small.space, embedding=embedding, k=5, fetch=5 * OVERFETCH)

    assert records == []


@pytest.mark.parametrize("mode", ["dense", "graph"])
def test_small_space_is_not_starved(spaces: tuple[Memory, Memory], mode: str) -> None:
    _, small = spaces

    hits = small.search(QUESTION, k=5, mode=mode)

    assert sorted(hit.text for hit in hits) == sorted(f"Yann: {text}" for text in SMALL_TEXTS)
    assert {hit.conversation_id for hit in hits} == {"yann-notes"}


@pytest.mark.parametrize("mode", ["dense", "graph"])
def test_large_space_sees_only_itself(spaces: tuple[Memory, Memory], mode: str) -> None:
    large, _ = spaces

    hits = large.search("Who reads poetry and drinks green tea?", k=10, mode=mode)

    assert len(hits) == 10
    assert {hit.conversation_id for hit in hits} == {"zoe-dogs"}


def test_text_seeds_stay_in_space(spaces: tuple[Memory, Memory]) -> None:
    _, small = spaces
    small_snapshot = take_snapshot(small.store, small.space)
    small_keys = _ids(small_snapshot, "EDU") | _ids(small_snapshot, "Turn")

    # "bike" matches every EDU and turn of the large space, which may crowd the small one out:
    # guaranteed is only that nothing of the large space comes back.
    shared_edus, shared_turns = text_seeds(small.store, small.space, "bike", 20)
    own_edus, own_turns = text_seeds(small.store, small.space, "poetry dawn", 20)

    assert set(shared_edus) | set(shared_turns) <= small_keys
    assert set(own_edus) | set(own_turns) <= small_keys
    assert own_edus
    assert own_turns


def test_propagation_graph_holds_only_own_nodes(spaces: tuple[Memory, Memory]) -> None:
    _, small = spaces
    snapshot = take_snapshot(small.store, small.space)
    allowed = (
        _ids(snapshot, "EDU")
        | {f"argument:{key}" for key in _ids(snapshot, "Argument")}
        | {f"session:{key}" for key in _ids(snapshot, "Session")}
        | {f"turn:{key}" for key in _ids(snapshot, "Turn")}
    )

    graph = load_space_graph(small.store, small.space, revision=None)

    assert set(graph.edu_ids) == _ids(snapshot, "EDU")
    assert set(graph.node_index) <= allowed


def test_stats_count_only_own_space(spaces: tuple[Memory, Memory]) -> None:
    _, small = spaces
    snapshot = take_snapshot(small.store, small.space)

    stats = small.stats()

    assert stats["conversations"] == 1
    assert stats["sessions"] == 1
    assert stats["turns"] == len(SMALL_TEXTS)
    assert stats["edus"] == len(SMALL_TEXTS)
    assert stats["arguments"] == len(_ids(snapshot, "Argument"))
    assert stats["relationships"] == snapshot.relationship_count


def test_space_links_never_leave_space(spaces: tuple[Memory, Memory]) -> None:
    for memory in spaces:
        assert take_snapshot(memory.store, memory.space).foreign_ends == []


def test_forget_space_keeps_other_spaces(spaces: tuple[Memory, Memory], make_memory: Any) -> None:
    large, small = spaces
    # The same conversation and turn ids as the small space, so every key of one also exists in the other.
    doomed = make_memory(extractor=TurnExtractor(), embedder=HashingEmbedder())
    doomed.ingest(
        _conversation("yann-notes", "Yann", [SMALL_TEXTS, ["Yann moved to Lyon."]], prefix="Y"), progress=False
    )
    small_before = take_snapshot(small.store, small.space)
    large_before = take_snapshot(large.store, large.space)

    deleted = doomed.forget()

    assert deleted > 0
    assert take_snapshot(doomed.store, doomed.space).node_count == 0
    assert doomed.space not in doomed.store.spaces()
    assert differences(small_before, take_snapshot(small.store, small.space)) == []
    assert differences(large_before, take_snapshot(large.store, large.space)) == []


def _session_part(snapshot: Snapshot, session_key: str) -> set[tuple[str, str]]:
    """Return the nodes that forgetting ``session_key`` must delete: it, its turns and EDUs, and orphaned arguments."""
    own = {("Session", session_key)}
    own |= {
        key for key, props in snapshot.nodes.items() if key[0] in ("Turn", "EDU") and props["session_id"] == session_key
    }
    users: dict[tuple[str, str], set[tuple[str, str]]] = {}
    for start, kind, end in snapshot.relationships:
        if kind == "HAS_ARGUMENT":
            users.setdefault(end, set()).add(start)
    own |= {argument for argument, edus in users.items() if edus <= own}
    return own


def test_forget_session_removes_exactly_it(make_memory: Any) -> None:
    sessions = [
        ["Yann met Ines at the Museum.", "Yann bought a Kayak."],
        ["Yann took the Kayak to Annecy.", "Yann saw Ines at the Lake."],
        ["Yann sold the Kayak.", "Yann visited the Museum again."],
    ]
    memory = make_memory(extractor=TurnExtractor(), embedder=HashingEmbedder())
    twin = make_memory(extractor=TurnExtractor(), embedder=HashingEmbedder())
    for target in (memory, twin):
        target.ingest(_conversation("yann-trips", "Yann", sessions), progress=False)
    before = take_snapshot(memory.store, memory.space)
    twin_before = take_snapshot(twin.store, twin.space)
    removed = _session_part(before, "yann-trips/session_2")

    found = memory.forget(conversation_id="yann-trips", session_id="session_2")

    after = take_snapshot(memory.store, memory.space)
    assert found == 1
    assert ("Argument", "thing:annecy") in removed
    assert ("Argument", "thing:kayak") not in removed
    assert set(after.nodes) == set(before.nodes) - removed
    assert all(after.nodes[key] == before.nodes[key] for key in after.nodes)
    assert {link for link in before.relationships if link[0] not in removed and link[2] not in removed} == set(
        after.relationships
    )
    assert differences(twin_before, take_snapshot(twin.store, twin.space)) == []


def test_forget_last_session_removes_conversation(make_memory: Any) -> None:
    memory = make_memory(extractor=TurnExtractor(), embedder=HashingEmbedder())
    memory.ingest(_conversation("one-off", "Yann", [["Yann tried archery."]]), progress=False)

    memory.forget(conversation_id="one-off", session_id="session_1")

    after = take_snapshot(memory.store, memory.space)
    assert memory.stats()["conversations"] == 0
    assert {label for label, _ in after.nodes} <= {"Space"}


class _PlaceExtractor(TurnExtractor):
    """Adds to each turn's EDU the place that ``places`` names for the turn id."""

    def __init__(self, places: dict[str, str]) -> None:
        super().__init__()
        self._places = places

    def extract(self, session: Session, context: ExtractionContext) -> list[ExtractedEDU]:
        edus = super().extract(session, context)
        return [
            edu.model_copy(
                update={
                    "arguments": (
                        *edu.arguments,
                        ExtractedArgument(name=self._places[edu.source_turn_ids[0]], kind=ArgumentKind.PLACE),
                    )
                }
            )
            for edu in edus
        ]


def test_similar_links_ignore_crowding_spaces(make_memory: Any) -> None:
    hall = "Grand Porto Harbour Fish Market Hall"
    # Sixty places of another space that are nearer to the hall than this space's market is.
    crowd_places = {f"C1:{number}": f"{hall} {number}" for number in range(1, 61)}
    crowd = make_memory(extractor=_PlaceExtractor(crowd_places), embedder=HashingEmbedder())
    crowd.ingest(
        _conversation("crowd", "Zoe", [[f"Zoe walked by stall {n}." for n in range(1, 61)]], prefix="C"), progress=False
    )
    places = {"H1:1": "Grand Porto Harbour Fish Market", "H2:1": hall}
    memory = make_memory(extractor=_PlaceExtractor(places), embedder=HashingEmbedder())

    memory.ingest(
        _conversation("harbour", "Yann", [["Yann sold fish."], ["Yann sold more fish."]], prefix="H"), progress=False
    )

    hall_embedding = memory.embedder.embed_query(hall).tolist()
    nearest = memory.store.read(
        "retrieval.argument_seeds", space=memory.space, embedding=hall_embedding, k=50, fetch=5 * OVERFETCH
    )
    links = take_snapshot(memory.store, memory.space).relationships
    assert [record["id"] for record in nearest] == [f"place:{hall.lower()}"]
    assert (
        ("Argument", f"place:{hall.lower()}"),
        "SIMILAR_TO",
        ("Argument", "place:grand porto harbour fish market"),
    ) in links
