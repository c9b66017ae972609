"""The LLM extractor and the LLM seed filter against a real Neo4j, with fake chat models.

The fake models replay recorded responses for the sample conversation. Sessions
1, 2 and 4 end with valid responses, and session 3 always cites a turn of session 2.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Collection, Mapping
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from ingest.extractors.llm_extractor import LLMExtractor
from ingest.writer import ingest_checkpoint
from memgraph.cli import main
from memgraph.config import Neo4jSettings
from tests.conftest import SAMPLE_CONVERSATION
from tests.llm_fakes import RECORDINGS, ReplayChatModel, ToolReplayChatModel

pytestmark = pytest.mark.integration

PROMPT_V1 = Path(__file__).parents[2] / "ingest" / "prompts" / "edu_extraction_v1.md"
VALID_SESSIONS = ("session_1", "session_2", "session_4")


def _recorded_edus(session_id: str) -> list[dict[str, Any]]:
    return json.loads((RECORDINGS / f"{session_id}_edus.json").read_text(encoding="utf-8"))["edus"]


def _fake_model() -> ToolReplayChatModel:
    return ToolReplayChatModel.from_recording("sample_conversation")


def _extractor(model: Any, cache: Path, **options: Any) -> LLMExtractor:
    return LLMExtractor(model, cache=cache, sleep=lambda seconds: None, **options)


def _stored_edus(memory: Any) -> dict[tuple[str, str], dict[str, Any]]:
    """Return the space's EDUs by (session, text), read through the retrieval statements."""
    store = memory.store
    ids = [record["id"] for record in store.read("retrieval.space_edus", space=memory.space)]
    embedding = np.zeros(memory.embedder.dimensions, dtype=np.float32)
    embedding[0] = 1.0
    records = store.read("retrieval.edu_details", space=memory.space, ids=ids, embedding=embedding.tolist())
    return {(record["session_id"], record["text"]): record for record in records}


@pytest.fixture
def cache_path(tmp_path: Path) -> Path:
    return tmp_path / "llm-cache.sqlite"


def test_only_valid_edus_reach_neo4j(make_memory: Any, cache_path: Path) -> None:
    memory = make_memory(extractor=_extractor(_fake_model(), cache_path))

    report = memory.ingest(SAMPLE_CONVERSATION, progress=False)

    assert report.sessions_failed == ["ana-ben/session_3"]
    stored = _stored_edus(memory)
    expected = {(session_id, edu["text"]) for session_id in VALID_SESSIONS for edu in _recorded_edus(session_id)}
    assert set(stored) == expected
    assert all(session_id != "session_3" for session_id, _ in stored)
    lesson = stored[("session_1", "Ana's first pottery lesson is next Tuesday.")]
    assert list(lesson["source_turn_ids"]) == ["S1:2", "S1:3"]
    assert list(lesson["speakers"]) == ["Ben", "Ana"]
    assert lesson["occurred_at"].to_native() == date(2024, 3, 5)


def test_failed_session_left_unwritten(make_memory: Any, cache_path: Path) -> None:
    extractor = _extractor(_fake_model(), cache_path)
    memory = make_memory(extractor=extractor)

    memory.ingest(SAMPLE_CONVERSATION, progress=False)

    stats = memory.stats()
    done = memory.store.read(
        "ingest.ingested_sessions",
        space=memory.space,
        conversation_id="ana-ben",
        checkpoint=ingest_checkpoint(extractor.checkpoint),
    )
    assert {record["name"] for record in done} == set(VALID_SESSIONS)
    assert stats["sessions"] == 3
    assert stats["turns"] == 10 + 10 + 8  # session_3's 9 turns are not written either
    assert stats["edus"] == 6 + 4 + 3


def test_rerun_skips_checkpointed_sessions(make_memory: Any, cache_path: Path) -> None:
    memory = make_memory(extractor=_extractor(_fake_model(), cache_path))
    memory.ingest(SAMPLE_CONVERSATION, progress=False)

    model = _fake_model()
    rerun = make_memory(space=memory.space, extractor=_extractor(model, cache_path))
    report = rerun.ingest(SAMPLE_CONVERSATION, progress=False)

    assert report.sessions_skipped == 3
    assert report.sessions == 0
    assert report.sessions_failed == ["ana-ben/session_3"]
    assert model.calls == 3  # session_3 only, which never validated


def test_new_space_reuses_cache_without_calls(make_memory: Any, cache_path: Path) -> None:
    make_memory(extractor=_extractor(_fake_model(), cache_path)).ingest(SAMPLE_CONVERSATION, progress=False)

    model = _fake_model()
    fresh = make_memory(extractor=_extractor(model, cache_path))
    report = fresh.ingest(SAMPLE_CONVERSATION, progress=False)

    assert report.sessions == 3
    assert report.llm_cache_hits == 3
    assert report.llm_calls == 3  # session_3 again
    assert all("[S3:1]" in str(request[1].content) for request in model.requests)
    assert fresh.stats()["edus"] == 13


def test_prompt_version_bump_reextracts(make_memory: Any, cache_path: Path, tmp_path: Path) -> None:
    memory = make_memory(extractor=_extractor(_fake_model(), cache_path))
    memory.ingest(SAMPLE_CONVERSATION, progress=False)
    before = {record["id"] for record in memory.store.read("retrieval.space_edus", space=memory.space)}
    bumped = tmp_path / "edu_extraction_v2.md"
    bumped.write_text(PROMPT_V1.read_text(encoding="utf-8"), encoding="utf-8")

    model = _fake_model()
    rerun = make_memory(space=memory.space, extractor=_extractor(model, cache_path, prompt=bumped))
    report = rerun.ingest(SAMPLE_CONVERSATION, progress=False)

    after = {record["id"] for record in rerun.store.read("retrieval.space_edus", space=rerun.space)}
    assert report.sessions_skipped == 0
    assert report.sessions == 3
    assert model.calls == 1 + 2 + 3 + 1
    assert len(after) == 13
    assert before.isdisjoint(after)  # EDU ids contain the checkpoint


class _KeepFirstFilter:
    """Keeps the first seed and records what it was given."""

    def __init__(self) -> None:
        self.seen: list[dict[str, str]] = []

    def select(self, query: str, seeds: Mapping[str, str]) -> Collection[str]:
        self.seen.append(dict(seeds))
        return list(seeds)[:1]


def test_seed_filter_sees_seed_texts(make_memory: Any, cache_path: Path) -> None:
    seed_filter = _KeepFirstFilter()
    memory = make_memory(extractor=_extractor(_fake_model(), cache_path), seed_filter=seed_filter)
    memory.ingest(SAMPLE_CONVERSATION, progress=False)

    hits = memory.search("What is the name of the dog Ben adopted?", k=3)
    memory.search("What is the name of the dog Ben adopted?", k=3, mode="dense")

    assert len(seed_filter.seen) == 1  # graph mode only
    texts = set(seed_filter.seen[0].values())
    assert any("Pepper" in text for text in texts)
    assert texts <= {edu["text"] for session_id in VALID_SESSIONS for edu in _recorded_edus(session_id)}
    assert hits


def test_failing_llm_filter_keeps_results(make_memory: Any, cache_path: Path) -> None:
    plain = make_memory(extractor=_extractor(_fake_model(), cache_path))
    plain.ingest(SAMPLE_CONVERSATION, progress=False)
    failing_model = ReplayChatModel(responses={"*": [{"error": "AuthenticationError", "message": "401 invalid key"}]})
    filtered = make_memory(space=plain.space, seed_filter=failing_model)
    question = "Where did Ana go hiking with her colleagues?"

    expected = [hit.edu_id for hit in plain.search(question, k=5)]
    actual = [hit.edu_id for hit in filtered.search(question, k=5)]

    assert actual == expected
    assert failing_model.calls == 1


def test_llm_filter_drops_seeds(make_memory: Any, cache_path: Path) -> None:
    model = ToolReplayChatModel(responses={"*": [{"tool_call": {"relevant": [1]}}]}, tool_name="SeedSelection")
    memory = make_memory(extractor=_extractor(_fake_model(), cache_path), seed_filter=model)
    memory.ingest(SAMPLE_CONVERSATION, progress=False)

    hits = memory.search("What is the name of the dog Ben adopted?", k=3)

    assert model.calls == 1
    assert "Question: What is the name of the dog Ben adopted?" in str(model.requests[0][1].content)
    assert hits


def test_cli_ingest_prints_token_line(
    make_memory: Any,
    neo4j_settings: Neo4jSettings,
    cache_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    space = f"test-{uuid.uuid4().hex[:12]}"
    make_memory(space=space)  # deletes the space afterwards
    created: list[str] = []

    def fake_create_chat_model(spec: str, **kwargs: Any) -> ToolReplayChatModel:
        created.append(spec)
        return _fake_model()

    monkeypatch.setattr("memgraph.llm.chat_models.create_chat_model", fake_create_chat_model)
    monkeypatch.setenv("NEO4J_USERNAME", neo4j_settings.username)
    monkeypatch.setenv("NEO4J_PASSWORD", neo4j_settings.password.get_secret_value())

    code = main(
        [
            "ingest",
            str(SAMPLE_CONVERSATION),
            "--extractor",
            "llm",
            "--llm",
            "openai:gpt-4o-mini",
            "--llm-cache",
            str(cache_path),
            "--uri",
            neo4j_settings.uri,
            "--space",
            space,
            "--no-progress",
        ]
    )

    lines = capsys.readouterr().out.splitlines()
    assert code == 1  # session_3 failed
    assert created == ["openai:gpt-4o-mini"]
    assert lines[0].startswith("3 sessions ingested")
    assert "FAILED: ana-ben/session_3" in lines[0]
    assert lines[1] == (
        "LLM openai:gpt-4o-mini: 7 calls (4 responses rejected, 0 retries after rate limits or timeouts), "
        "0 sessions from the cache, 7910 input and 1619 output tokens"
    )
