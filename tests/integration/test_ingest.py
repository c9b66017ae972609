"""Ingest into a real Neo4j: schema, counts, reruns, re-extraction and session deletion."""

from __future__ import annotations

from typing import Any

import pytest

from ingest import writer
from memgraph import cypher
from memgraph.errors import SchemaMismatchError
from memgraph.store import GraphStore
from tests.conftest import SAMPLE_CONVERSATION
from tests.fakes import TurnExtractor


def _graph_size(memory: Any) -> tuple[int, int]:
    stats = memory.stats()
    nodes = (
        sum(stats[key] for key in ("conversations", "sessions", "turns", "edus", "arguments")) + 1
    )  # + the Space node
    return nodes, stats["relationships"]


def test_schema_apply_is_idempotent(make_memory: Any) -> None:
    memory = make_memory(extractor=TurnExtractor())
    store: GraphStore = memory.store

    store.apply_schema(memory.embedder.dimensions)
    store.apply_schema(memory.embedder.dimensions)

    names = {record["name"] for record in store.read("schema_check.vector_dimensions")}
    assert names == {"edu_embedding", "argument_embedding", "turn_embedding"}
    statements = cypher.statements_of("schema")
    assert len(statements) >= 10


def test_embedder_of_other_dimension_is_rejected(make_memory: Any) -> None:
    memory = make_memory(extractor=TurnExtractor())
    memory.store.apply_schema(memory.embedder.dimensions)

    with pytest.raises(SchemaMismatchError, match="384-dimensional"):
        memory.store.check_dimensions(memory.embedder.dimensions + 1)


def test_ingest_writes_every_session_turn_and_edu(make_memory: Any) -> None:
    memory = make_memory(extractor=TurnExtractor())

    report = memory.ingest(SAMPLE_CONVERSATION, progress=False)

    stats = memory.stats()
    assert report.sessions == 4
    assert report.sessions_failed == []
    assert stats["conversations"] == 1
    assert stats["sessions"] == 4
    assert stats["turns"] == 37
    assert stats["edus"] == 37
    assert stats["arguments"] == report.arguments


def test_rerun_of_same_file_changes_no_counts(make_memory: Any) -> None:
    memory = make_memory(extractor=TurnExtractor())
    memory.ingest(SAMPLE_CONVERSATION, progress=False)
    before = _graph_size(memory)

    report = memory.ingest(SAMPLE_CONVERSATION, progress=False)

    assert report.sessions == 0
    assert report.sessions_skipped == 4
    assert _graph_size(memory) == before


def test_new_extractor_version_replaces_edus(make_memory: Any, neo4j_settings: Any, embedder: Any) -> None:
    first = make_memory(extractor=TurnExtractor(version="1"))
    first.ingest(SAMPLE_CONVERSATION, progress=False)
    size_v1 = _graph_size(first)
    second = make_memory(space=first.space, extractor=TurnExtractor(version="2"))

    report = second.ingest(SAMPLE_CONVERSATION, progress=False)

    assert report.sessions == 4
    assert _graph_size(second) == size_v1
    assert second.stats()["edus"] == 37


def test_new_layout_re_embeds_sessions(make_memory: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    memory = make_memory(extractor=TurnExtractor())
    memory.ingest(SAMPLE_CONVERSATION, progress=False)
    size = _graph_size(memory)
    monkeypatch.setattr(writer, "EMBEDDING_LAYOUT", "layout-of-a-later-release")

    report = memory.ingest(SAMPLE_CONVERSATION, progress=False)

    assert report.sessions == 4
    assert report.sessions_skipped == 0
    assert _graph_size(memory) == size


def test_forget_session_removes_it_and_orphans(make_memory: Any) -> None:
    memory = make_memory(extractor=TurnExtractor())
    memory.ingest(SAMPLE_CONVERSATION, progress=False)

    found = memory.forget(conversation_id="ana-ben", session_id="session_4")

    stats = memory.stats()
    assert found == 1
    assert stats["sessions"] == 3
    assert stats["turns"] == 29
    assert stats["edus"] == 29
    hits = memory.search("charity walk ribbon for the best retired racer", k=10)
    assert all(hit.session_id != "session_4" for hit in hits)


def test_forget_unknown_session_reports_not_found(make_memory: Any) -> None:
    memory = make_memory(extractor=TurnExtractor())
    memory.ingest(SAMPLE_CONVERSATION, progress=False)

    assert memory.forget(conversation_id="ana-ben", session_id="session_99") == 0
    assert memory.stats()["sessions"] == 4
