"""The LLM extractor with fake chat models replaying recorded responses from ``tests/data/llm/``."""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from ingest.extractors.base import ExtractionContext
from ingest.extractors.llm_extractor import LLMExtractor
from ingest.llm_cache import LLMCache
from ingest.pipeline import ingest_conversations
from ingest.readers import read_conversations
from ingest.writer import SessionWriter
from memgraph.embeddings import Embedder
from memgraph.errors import ConfigurationError, IngestError
from memgraph.llm.calls import RetryPolicy, is_transient_error, parse_json_text
from memgraph.llm.chat_models import create_chat_model, model_identifier, parse_model_spec
from memgraph.llm.prompts import PromptTemplate
from memgraph.models import ArgumentKind, Conversation, ExtractedEDU, Session
from tests.conftest import SAMPLE_CONVERSATION
from tests.llm_fakes import APITimeoutError, RateLimitError, ReplayChatModel, ToolReplayChatModel, load_responses

PROMPT_DIR = Path(__file__).parents[2] / "ingest" / "prompts"


@pytest.fixture(scope="module")
def conversation() -> Conversation:
    return read_conversations(SAMPLE_CONVERSATION)[0]


@pytest.fixture
def session(conversation: Conversation) -> Session:
    return conversation.sessions[0]


@pytest.fixture
def context(conversation: Conversation) -> ExtractionContext:
    return ExtractionContext(conversation_id=conversation.id, speakers=conversation.speakers)


class Sleeps:
    """Records the waits of the backoff instead of sleeping."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


def _extractor(model: Any, **options: Any) -> LLMExtractor:
    options.setdefault("cache", False)
    options.setdefault("sleep", Sleeps())
    return LLMExtractor(model, **options)


# -- valid responses -----------------------------------------------------------


def test_tool_call_becomes_validated_edus(session: Session, context: ExtractionContext) -> None:
    model = ToolReplayChatModel.from_recording("session_1_tool_call")
    extractor = _extractor(model)

    edus = extractor.extract(session, context)

    assert model.calls == 1
    assert len(edus) == 6
    first = edus[0]
    assert first.text == "Ana signed up for the pottery class at the community center."
    assert first.source_turn_ids == ("S1:1",)
    assert first.speakers == ("Ana",)
    assert first.time_text == "yesterday"
    assert first.occurred_at == date(2024, 3, 1)
    assert [(a.name, a.kind, a.role) for a in first.arguments] == [
        ("Ana", ArgumentKind.PERSON, "agent"),
        ("the pottery class", ArgumentKind.THING, "patient"),
        ("the community center", ArgumentKind.PLACE, "place"),
        ("yesterday", ArgumentKind.TIME, "time"),
    ]


def test_turn_ids_sorted_and_speakers_from_turns(session: Session, context: ExtractionContext) -> None:
    edus = _extractor(ToolReplayChatModel.from_recording("session_1_tool_call")).extract(session, context)

    lesson = edus[1]
    assert lesson.source_turn_ids == ("S1:2", "S1:3")
    assert lesson.speakers == ("Ben", "Ana")
    assert lesson.arguments[0].kind is ArgumentKind.PERSON  # recorded as "Person"
    assert edus[2].arguments[2].role == "mention"  # recorded without a role
    assert edus[4].time_text is None
    assert edus[4].occurred_at is None


def test_json_text_fallback_parses_code_fence(session: Session, context: ExtractionContext) -> None:
    model = ReplayChatModel.from_recording("session_1_json_text")
    extractor = _extractor(model)

    edus = extractor.extract(session, context)

    assert extractor._caller.mode == "json"
    assert len(edus) == 6
    assert edus[0].source_turn_ids == ("S1:1",)


def test_malformed_date_resolved_from_time_text(session: Session, context: ExtractionContext) -> None:
    edus = _extractor(ReplayChatModel.from_recording("session_1_json_text")).extract(session, context)

    # The recording's occurred_at is "Tuesday the 5th"; "next Tuesday" from Saturday 2 March 2024 is 5 March.
    assert edus[1].time_text == "next Tuesday"
    assert edus[1].occurred_at == date(2024, 3, 5)


def test_structured_mode_required_but_missing() -> None:
    model = ReplayChatModel(responses={})

    with pytest.raises(ConfigurationError, match="structured output"):
        LLMExtractor(model, cache=False, output_mode="structured")


def test_prompt_contains_session_turns(session: Session, context: ExtractionContext) -> None:
    model = ToolReplayChatModel.from_recording("session_1_tool_call")

    _extractor(model).extract(session, context)

    system, user = model.requests[0]
    assert "one JSON object" in str(system.content)
    assert "Session date: Saturday, 2 March 2024" in str(user.content)
    assert "[S1:3] Ana: The first lesson is next Tuesday." in str(user.content)


# -- validation and retries --------------------------------------------------


def test_malformed_output_is_retried(
    session: Session, context: ExtractionContext, caplog: pytest.LogCaptureFixture
) -> None:
    model = ToolReplayChatModel.from_recording("session_1_malformed_then_valid")
    extractor = _extractor(model)

    with caplog.at_level(logging.WARNING, logger="ingest.extractors.llm_extractor"):
        edus = extractor.extract(session, context)

    assert len(edus) == 6
    assert model.calls == 2
    assert extractor.usage.counts()["rejected_outputs"] == 1
    assert "response 1 of 3" in caplog.text
    assert "output is not JSON" in caplog.text


def test_retry_request_names_rejection(session: Session, context: ExtractionContext) -> None:
    model = ToolReplayChatModel.from_recording("session_1_empty_edu_then_valid")

    _extractor(model).extract(session, context)

    first, second = model.requests
    assert len(second) == len(first) + 1
    assert "EDU 1 has empty text" in str(second[-1].content)


def test_wrong_turn_ids_fail_session(session: Session, context: ExtractionContext, tmp_path: Path) -> None:
    model = ToolReplayChatModel.from_recording("session_1_wrong_turn_ids")
    cache = LLMCache(tmp_path / "cache.sqlite")
    extractor = _extractor(model, cache=cache)

    with pytest.raises(IngestError, match=r"'S1:11'.*not in session 'session_1'"):
        extractor.extract(session, context)

    assert model.calls == 3
    assert extractor.usage.counts()["rejected_outputs"] == 3
    assert len(cache) == 0


def test_max_attempts_bounds_calls(session: Session, context: ExtractionContext) -> None:
    model = ToolReplayChatModel.from_recording("session_1_wrong_turn_ids")

    with pytest.raises(IngestError, match="in 2 attempts"):
        _extractor(model, max_attempts=2).extract(session, context)

    assert model.calls == 2


def test_rate_limit_and_timeout_back_off(session: Session, context: ExtractionContext) -> None:
    model = ToolReplayChatModel.from_recording("session_1_rate_limited")
    sleeps = Sleeps()
    extractor = _extractor(model, sleep=sleeps, retry=RetryPolicy(max_retries=3, initial_delay=1.0, max_delay=10.0))

    edus = extractor.extract(session, context)

    assert len(edus) == 6
    assert model.calls == 3
    assert len(sleeps.delays) == 2
    assert 0.5 <= sleeps.delays[0] <= 1.0
    assert 1.0 <= sleeps.delays[1] <= 2.0
    assert extractor.usage.counts()["retries"] == 2
    assert extractor.usage.counts()["rejected_outputs"] == 0


def test_rate_limit_retries_run_out(session: Session, context: ExtractionContext) -> None:
    model = ToolReplayChatModel.from_recording("session_1_rate_limited")
    extractor = _extractor(model, retry=RetryPolicy(max_retries=1, initial_delay=0.0))

    with pytest.raises(IngestError, match="APITimeoutError"):
        extractor.extract(session, context)

    assert model.calls == 2


def test_non_transient_error_fails_at_once(session: Session, context: ExtractionContext) -> None:
    model = ToolReplayChatModel.from_recording("session_1_auth_error")
    sleeps = Sleeps()

    with pytest.raises(IngestError, match="invalid API key"):
        _extractor(model, sleep=sleeps).extract(session, context)

    assert model.calls == 1
    assert sleeps.delays == []


# -- token accounting, cache and checkpoints ---------------------------------


def test_tokens_counted_from_usage_metadata(session: Session, context: ExtractionContext) -> None:
    extractor = _extractor(ToolReplayChatModel.from_recording("session_1_malformed_then_valid"))

    extractor.extract(session, context)

    counts = extractor.usage.counts()
    assert counts["calls"] == 2
    assert counts["input_tokens"] == 1180 + 1235
    assert counts["output_tokens"] == 30 + 540


def test_cache_rerun_makes_no_calls(session: Session, context: ExtractionContext, tmp_path: Path) -> None:
    path = tmp_path / "llm-cache.sqlite"
    first_model = ToolReplayChatModel.from_recording("session_1_tool_call")
    first = _extractor(first_model, cache=path).extract(session, context)

    rerun_model = ToolReplayChatModel.from_recording("session_1_tool_call")
    rerun = _extractor(rerun_model, cache=path)
    again = rerun.extract(session, context)

    assert again == first
    assert rerun_model.calls == 0
    assert rerun.usage.counts()["cache_hits"] == 1
    assert rerun.usage.counts()["input_tokens"] == 0


def test_prompt_version_bump_misses_cache(session: Session, context: ExtractionContext, tmp_path: Path) -> None:
    path = tmp_path / "llm-cache.sqlite"
    v1 = _extractor(ToolReplayChatModel.from_recording("session_1_tool_call"), cache=path)
    v1.extract(session, context)
    bumped_file = tmp_path / "edu_extraction_v2.md"
    bumped_file.write_text((PROMPT_DIR / "edu_extraction_v1.md").read_text(encoding="utf-8"), encoding="utf-8")

    model = ToolReplayChatModel.from_recording("session_1_tool_call")
    v2 = _extractor(model, cache=path, prompt=bumped_file)
    v2.extract(session, context)

    assert v1.checkpoint == "llm:edu_extraction_v1@toolreplaychatmodel:replay-1"
    assert v2.checkpoint == "llm:edu_extraction_v2@toolreplaychatmodel:replay-1"
    assert model.calls == 1


def test_checkpoint_stable_and_names_model() -> None:
    first = _extractor(ToolReplayChatModel(responses={}, model="small-2"))
    second = _extractor(ToolReplayChatModel(responses={}, model="small-2"))
    other_model = _extractor(ToolReplayChatModel(responses={}, model="large-1"))
    explicit = _extractor(ToolReplayChatModel(responses={}), model_id="openai:gpt-4o-mini")

    assert first.checkpoint == second.checkpoint
    assert first.checkpoint != other_model.checkpoint
    assert explicit.checkpoint == "llm:edu_extraction_v1@openai:gpt-4o-mini"


def test_model_identifier_excludes_secrets() -> None:
    class SecretModel(ToolReplayChatModel):
        api_key: str = "sk-not-a-real-key"

    identifier = model_identifier(SecretModel(responses={}, model="mini"))

    assert identifier == "secretmodel:mini"
    assert "sk-" not in identifier


# -- concurrency and the ingest job ------------------------------------------


def test_extract_many_bounds_concurrency(conversation: Conversation, context: ExtractionContext) -> None:
    recorded = load_responses("sample_conversation")
    model = ToolReplayChatModel(responses={"S1:1": recorded["S1:1"] * 3, "S4:1": recorded["S4:1"] * 3}, delay=0.05)
    sessions = [conversation.sessions[0], conversation.sessions[3]] * 3
    extractor = _extractor(model, concurrency=2)

    results = [future.result() for future in extractor.extract_many((s, context) for s in sessions)]

    assert model.calls == 6
    assert model.max_running == 2
    assert [edus[0].source_turn_ids[0] for edus in results] == ["S1:1", "S4:1"] * 3


class _HashEmbedder(Embedder):
    """Unit vectors derived from a hash of the text; enough for a writer that ignores them."""

    name = "hash-test"

    @property
    def dimensions(self) -> int:
        return 8

    def embed_documents(self, texts: Any) -> Any:
        return np.array([[(hash(text) >> shift) % 7 + 1.0 for shift in range(8)] for text in texts], dtype=np.float32)

    def embed_query(self, text: str) -> Any:
        return self.embed_documents([text])[0]


class _RecordingWriter(SessionWriter):
    """Stands in for SessionWriter and records what would be written."""

    def __init__(self) -> None:  # no store: nothing is written
        self.written: list[tuple[str, list[str]]] = []
        self._lock = threading.Lock()

    def ingested_sessions(self, conversation: Conversation, checkpoint: str) -> set[str]:
        return set()

    def new_argument_ids(self, argument_ids: Sequence[str]) -> list[str]:
        return list(argument_ids)

    def write(
        self, conversation: Conversation, session: Session, edus: Sequence[ExtractedEDU], *rest: Any, **options: Any
    ) -> None:
        with self._lock:
            self.written.append((session.id, [edu.text for edu in edus]))


def test_pipeline_writes_only_valid_sessions(conversation: Conversation) -> None:
    model = ToolReplayChatModel.from_recording("sample_conversation", delay=0.01)
    extractor = _extractor(model, concurrency=3)
    writer = _RecordingWriter()

    report = ingest_conversations(
        [conversation], writer=writer, extractor=extractor, embedder=_HashEmbedder(), progress=False
    )

    assert [session_id for session_id, _ in writer.written] == ["session_1", "session_2", "session_4"]
    assert report.sessions_failed == ["ana-ben/session_3"]
    assert report.sessions == 3
    assert report.edus == 6 + 4 + 3
    assert report.llm_calls == 1 + 2 + 3 + 1
    assert report.llm_rejected_outputs == 1 + 3
    assert report.llm_input_tokens == 1180 + 1150 + 1190 + 3 * 1100 + 1090
    assert report.llm_output_tokens == 540 + 9 + 410 + 3 * 120 + 300


def test_pipeline_rerun_counts_cache_hits(conversation: Conversation, tmp_path: Path) -> None:
    cache = tmp_path / "llm-cache.sqlite"
    first = _extractor(ToolReplayChatModel.from_recording("sample_conversation"), cache=cache)
    ingest_conversations(
        [conversation], writer=_RecordingWriter(), extractor=first, embedder=_HashEmbedder(), progress=False
    )

    model = ToolReplayChatModel.from_recording("sample_conversation")
    rerun = _extractor(model, cache=cache)
    report = ingest_conversations(
        [conversation], writer=_RecordingWriter(), extractor=rerun, embedder=_HashEmbedder(), progress=False
    )

    # session_3 never validated, so it is not cached and costs calls again.
    assert report.llm_cache_hits == 3
    assert report.llm_calls == 3
    assert model.calls == 3


# -- helpers -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"edus": []}', {"edus": []}),
        ('```json\n{"edus": [1]}\n```', {"edus": [1]}),
        ('Here you go:\n```\n{"a": 2}\n```\nAnything else?', {"a": 2}),
        ('Sure! {"a": {"b": 3}} Hope that helps.', {"a": {"b": 3}}),
        ("[1, 2]", [1, 2]),
    ],
)
def test_parse_json_text_cases(text: str, expected: Any) -> None:
    assert parse_json_text(text) == expected


@pytest.mark.parametrize("text", ["", "no json here", '{"edus": [{"text": "cut'])
def test_parse_json_text_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="no complete JSON"):
        parse_json_text(text)


class _Response:
    def __init__(self, status_code: int, headers: dict[str, str] | None = None) -> None:
        self.status_code = status_code
        self.headers = headers or {}


class _HTTPError(Exception):
    def __init__(self, status_code: int, headers: dict[str, str] | None = None) -> None:
        super().__init__(f"HTTP {status_code}")
        self.response = _Response(status_code, headers)


def test_transient_errors_by_name_and_status() -> None:
    wrapped = ValueError("wrapped")
    wrapped.__cause__ = RateLimitError("429")

    assert is_transient_error(RateLimitError("slow down"))
    assert is_transient_error(APITimeoutError("timed out"))
    assert is_transient_error(TimeoutError())
    assert is_transient_error(_HTTPError(503))
    assert is_transient_error(wrapped)
    assert not is_transient_error(_HTTPError(400))
    assert not is_transient_error(ValueError("bad request"))


def test_backoff_honours_retry_after() -> None:
    policy = RetryPolicy(initial_delay=1.0, max_delay=30.0)

    assert policy.delay(0, _HTTPError(429, {"retry-after": "12"})) == 12.0
    assert policy.delay(0, _HTTPError(429, {"retry-after": "600"})) == 30.0
    assert 4.0 <= policy.delay(3) <= 8.0


def test_prompt_file_needs_both_sections(tmp_path: Path) -> None:
    path = tmp_path / "broken_v1.md"
    path.write_text("## System\n\nYou extract.\n", encoding="utf-8")

    with pytest.raises(ConfigurationError, match="## User"):
        PromptTemplate.from_file(path)


def test_packaged_prompt_renders() -> None:
    prompt = PromptTemplate.from_package("ingest", "edu_extraction_v1")

    system, user = prompt.render(
        session_date="Monday, 1 May 2023", session_date_iso="2023-05-01", speakers="A, B", turns="[1] A: hi"
    )

    assert prompt.version == "edu_extraction_v1"
    assert "2023-05-01" in str(system.content)
    assert "$" not in str(user.content)


def test_model_spec_parsing() -> None:
    assert parse_model_spec("openai:gpt-4o-mini") == ("openai", "gpt-4o-mini")
    assert parse_model_spec("ollama:llama3.1:8b") == ("ollama", "llama3.1:8b")
    assert parse_model_spec("google-genai:gemini-2.0-flash") == ("google_genai", "gemini-2.0-flash")
    with pytest.raises(ConfigurationError, match="PROVIDER:MODEL"):
        parse_model_spec("gpt-4o-mini")


def test_missing_provider_package_named() -> None:
    pytest.importorskip("langchain", reason="init_chat_model comes from the langchain package")
    try:
        import langchain_openai  # noqa: F401
    except ImportError:
        pass
    else:
        pytest.skip("langchain-openai is installed, so nothing is missing")

    with pytest.raises(ConfigurationError, match="langchain-openai"):
        create_chat_model("openai:gpt-4o-mini")


def test_cache_survives_reopening(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "cache.sqlite"
    key = LLMCache.make_key("model", "v1", "session")
    cache = LLMCache(path)
    cache.put(key, {"edus": []}, model="model", prompt_version="v1")
    cache.close()

    reopened = LLMCache(path)

    assert reopened.get(key) == {"edus": []}
    assert reopened.get(LLMCache.make_key("model", "v2", "session")) is None
    assert LLMCache.make_key("ab", "c") != LLMCache.make_key("a", "bc")
