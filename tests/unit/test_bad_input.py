"""Bad conversation files and sessions: each is read cleanly or rejected with the file, record and field."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from ingest.extractors.base import ExtractionContext
from ingest.pipeline import MAX_TEXT_CHARS, ingest_conversations
from ingest.readers import read_conversations
from memgraph import ids
from memgraph.embeddings import Embedder, Vectors
from memgraph.errors import ConfigurationError, IngestError, InputFormatError, Neo4jUnavailableError
from memgraph.memory import Memory
from memgraph.models import Conversation, ExtractedEDU, Session, Turn
from tests.fakes import TurnExtractor


def _write(tmp_path: Path, name: str, data: object) -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def _turn(text: object = "Hello there.", speaker: object = "Ann", **fields: object) -> dict[str, object]:
    return {"speaker": speaker, "text": text, **fields}


def _generic(*sessions: dict[str, object], conversation_id: str = "c") -> dict[str, object]:
    return {"id": conversation_id, "sessions": list(sessions)}


def _session(
    date: str = "2024-01-01", turns: list[dict[str, object]] | None = None, **fields: object
) -> dict[str, object]:
    return {"date": date, "turns": [_turn()] if turns is None else turns, **fields}


def _read_error(path: Path) -> InputFormatError:
    with pytest.raises(InputFormatError) as raised:
        read_conversations(path)
    return raised.value


# -- malformed files -------------------------------------------------------


def test_malformed_jsonl_names_line(tmp_path: Path) -> None:
    path = tmp_path / "many.jsonl"
    path.write_text(json.dumps(_generic(_session())) + "\n{broken\n", encoding="utf-8")

    error = _read_error(path)

    assert error.path == str(path)
    assert error.record == "line 2"
    assert "invalid JSON" in str(error)


def test_invalid_utf8_names_line(tmp_path: Path) -> None:
    path = tmp_path / "latin1.json"
    path.write_bytes(b'{"id": "c",\n "sessions": [{"date": "2024-01-01", "turns": [{"speaker": "Jos\xe9"}]}]}')

    error = _read_error(path)

    assert error.path == str(path)
    assert "not valid UTF-8" in str(error)
    assert "line 2" in str(error)


def test_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "bom.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(_generic(_session())).encode("utf-8"))

    [conversation] = read_conversations(path)

    assert conversation.id == "c"


def test_raw_control_character_is_invalid_json(tmp_path: Path) -> None:
    path = tmp_path / "raw.json"
    path.write_bytes(
        b'{"id": "c", "sessions": [{"date": "2024-01-01", "turns": [{"speaker": "A", "text": "a\x07b"}]}]}'
    )

    error = _read_error(path)

    assert "invalid JSON" in str(error)
    assert "line 1 column" in str(error)


# -- missing and invalid fields ---------------------------------------------


@pytest.mark.parametrize(
    ("session", "record", "field", "message"),
    [
        ({"turns": [_turn()]}, "conversation 'c' session 1", "date", "missing session date"),
        ({"date": 20240101, "turns": [_turn()]}, "conversation 'c' session 1", "date", "expected a date string"),
        (_session(turns=[{"text": "x"}]), "conversation 'c' session 1 turn 1", "speaker", "missing speaker"),
        (_session(turns=[{"speaker": "A"}]), "conversation 'c' session 1 turn 1", "text", "missing text"),
        (_session(turns=[_turn(speaker=" ")]), "conversation 'c' session 1 turn 1", "speaker", "blank"),
        (_session(turns=[_turn(speaker=7)]), "conversation 'c' session 1 turn 1", "speaker", "expected a string"),
        (_session(turns=[_turn(text=None)]), "conversation 'c' session 1 turn 1", "text", "missing text"),
        (_session(turns=[_turn(id=["x"])]), "conversation 'c' session 1 turn 1", "id", "expected a string or"),
        (_session(turns=[_turn(image_caption=3)]), "conversation 'c' session 1 turn 1", "image_caption", "string"),
        (_session(turns=[_turn(timestamp="soon")]), "conversation 'c' session 1 turn 1", "timestamp", "date"),
    ],
)
def test_generic_field_error_names_place(
    tmp_path: Path, session: dict[str, object], record: str, field: str, message: str
) -> None:
    path = _write(tmp_path, "bad.json", _generic(session))

    error = _read_error(path)

    assert error.path == str(path)
    assert error.record == record
    assert error.field == field
    assert message in str(error)


@pytest.mark.parametrize(
    ("turn", "field"),
    [
        ({"dia_id": "D1:1", "text": "x"}, "speaker"),
        ({"speaker": "Rita", "text": "x"}, "dia_id"),
        ({"speaker": "Rita", "dia_id": "D1:1"}, "text"),
    ],
)
def test_locomo_field_error_names_place(tmp_path: Path, turn: dict[str, str], field: str) -> None:
    body = {"speaker_a": "Rita", "speaker_b": "Omar", "session_1_date_time": "1:56 pm on 8 May, 2023"}
    path = _write(tmp_path, "5.json", {**body, "session_1": [turn]})

    error = _read_error(path)

    assert error.record == "conversation '5' session_1 turn 1"
    assert error.field == field


def test_locomo_missing_date_names_key(tmp_path: Path) -> None:
    body = {"speaker_a": "Rita", "speaker_b": "Omar", "session_1": [{"speaker": "Rita", "dia_id": "D1:1", "text": "x"}]}
    path = _write(tmp_path, "5.json", body)

    error = _read_error(path)

    assert error.record == "conversation '5' session_1"
    assert error.field == "session_1_date_time"


@pytest.mark.parametrize("date", ["someday", "2024-02-30", "32 March 2024", "yesterday", "next Tuesday", "2024", ""])
def test_unknown_date_format_is_rejected(tmp_path: Path, date: str) -> None:
    path = _write(tmp_path, "dates.json", _generic(_session(date=date)))

    error = _read_error(path)

    assert error.record == "conversation 'c' session 1"
    assert error.field == "date"


@pytest.mark.parametrize(
    ("date", "expected"),
    [
        ("2024-03-02T18:30:00", datetime(2024, 3, 2, 18, 30)),
        ("1:56 pm on 8 May, 2023", datetime(2023, 5, 8, 13, 56)),
        ("4 Mar 2024 10:00", datetime(2024, 3, 4, 10, 0)),
        ("May 8th 2023 at 1pm", datetime(2023, 5, 8, 13, 0)),
        ("03/04/2024", datetime(2024, 3, 4)),
    ],
)
def test_common_date_spellings_are_read(tmp_path: Path, date: str, expected: datetime) -> None:
    path = _write(tmp_path, "dates.json", _generic(_session(date=date)))

    [conversation] = read_conversations(path)

    assert conversation.sessions[0].started_at == expected


# -- empty sessions ---------------------------------------------------------


def test_empty_generic_session_is_skipped(tmp_path: Path) -> None:
    data = _generic(_session(date="2024-01-01"), _session(date="2024-01-02", turns=[]), _session(date="2024-01-03"))
    path = _write(tmp_path, "gaps.json", data)

    [conversation] = read_conversations(path)

    assert [session.id for session in conversation.sessions] == ["session_1", "session_3"]
    assert [session.index for session in conversation.sessions] == [1, 2]


def test_conversation_of_empty_sessions_has_none(tmp_path: Path) -> None:
    path = _write(tmp_path, "empty.json", _generic(_session(turns=[]), _session(date="2024-02-01", turns=[])))

    [conversation] = read_conversations(path)

    assert conversation.sessions == ()


def test_empty_text_turn_is_kept(tmp_path: Path) -> None:
    path = _write(tmp_path, "blank.json", _generic(_session(turns=[_turn(text=""), _turn(text="Hi.")])))

    [conversation] = read_conversations(path)

    assert [turn.text for turn in conversation.sessions[0].turns] == ["", "Hi."]


# -- unusual text -----------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "我昨天开始学陶艺。",
        "今日は雨でした🌧️, but we went hiking anyway 🥾🏔️",
        "שלום, אני מתחילה שיעור קרמיקה מחר",
        "مرحبا\u200f بالعالم",
        "nul\x00 bell\x07 escape\x1b[31m tab\t line\u2028separator",
        "\u202eright-to-left override",
    ],
)
def test_unusual_text_is_read_verbatim(tmp_path: Path, text: str) -> None:
    path = _write(tmp_path, "text.json", _generic(_session(turns=[_turn(text=text, speaker="Zoë 🎨")])))

    [conversation] = read_conversations(path)

    turn = conversation.sessions[0].turns[0]
    assert turn.text == text
    assert turn.speaker == "Zoë 🎨"


@pytest.mark.parametrize("field", ["text", "speaker", "id"])
def test_unpaired_surrogate_is_rejected(tmp_path: Path, field: str) -> None:
    turn = {**_turn(), field: "ok \ud800 not ok"}
    path = tmp_path / "surrogate.json"
    # json.dumps writes the surrogate as the escape \ud800, which is valid JSON but not valid Unicode.
    path.write_text(json.dumps(_generic(_session(turns=[turn]))), encoding="utf-8")

    error = _read_error(path)

    assert error.record == "conversation 'c' session 1 turn 1"
    assert error.field == field
    assert "U+D800" in str(error)


def test_unpaired_surrogate_in_query_is_rejected() -> None:
    memory = Memory(space="unit-test", embedder=_ZeroEmbedder(), extractor=TurnExtractor())

    with pytest.raises(ConfigurationError, match="U\\+DC00"):
        memory.search("where \udc00", k=1)


def test_unpaired_surrogate_in_space_is_rejected() -> None:
    with pytest.raises(ConfigurationError, match="space contains the unpaired surrogate"):
        Memory(space="tenant-\ud801", embedder=_ZeroEmbedder())


# -- duplicate ids ----------------------------------------------------------


def test_duplicate_turn_id_in_one_session_is_rejected(tmp_path: Path) -> None:
    path = _write(tmp_path, "dup.json", _generic(_session(turns=[_turn(id="t1"), _turn(id="t2"), _turn(id="t1")])))

    error = _read_error(path)

    assert error.record == "conversation 'c' session 1 turn 3"
    assert error.field == "id"
    assert "session 'session_1' turn 1 has it too" in str(error)


def test_duplicate_default_and_given_turn_id_is_rejected(tmp_path: Path) -> None:
    # The first turn gets the default id "s:1", which the second turn also names.
    path = _write(tmp_path, "dup.json", _generic(_session(id="s", turns=[_turn(), _turn(id="s:1")])))

    error = _read_error(path)

    assert error.record == "conversation 'c' session 1 turn 2"
    assert error.field == "id"


def test_duplicate_locomo_dia_id_is_rejected(tmp_path: Path) -> None:
    turn = {"speaker": "Rita", "dia_id": "D1:1", "text": "x"}
    body = {
        "speaker_a": "Rita",
        "speaker_b": "Omar",
        "session_1_date_time": "1:56 pm on 8 May, 2023",
        "session_1": [turn],
        "session_2_date_time": "1:56 pm on 9 May, 2023",
        "session_2": [turn],
    }
    path = _write(tmp_path, "5.json", body)

    error = _read_error(path)

    assert error.record == "conversation '5' session_2 turn 1"
    assert error.field == "dia_id"


def test_duplicate_session_id_is_rejected(tmp_path: Path) -> None:
    path = _write(tmp_path, "dup.json", _generic(_session(id="s1"), _session(id="s1", turns=[_turn(id="other")])))

    error = _read_error(path)

    assert error.record == "conversation 'c' session 2"
    assert error.field == "id"


def test_duplicate_conversation_id_in_file_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "two.jsonl"
    line = json.dumps(_generic(_session()))
    path.write_text(line + "\n" + line + "\n", encoding="utf-8")

    error = _read_error(path)

    assert error.record == "line 2"
    assert error.field == "id"
    assert "line 1 has it too" in str(error)


def test_keys_of_slashed_ids_stay_distinct() -> None:
    assert ids.session_key("a/b", "c") != ids.session_key("a", "b/c")
    assert ids.turn_key("a/b", "c") != ids.turn_key("a", "b/c")
    assert ids.session_key("a%2Fb", "c") != ids.session_key("a/b", "c")
    assert ids.session_key("ana-ben", "session_1") == "ana-ben/session_1"


# -- session order ----------------------------------------------------------


def test_generic_sessions_are_ordered_by_date(tmp_path: Path) -> None:
    data = _generic(
        _session(id="late", date="2024-03-09", turns=[_turn(id="l1")]),
        _session(id="early", date="2024-03-01", turns=[_turn(id="e1")]),
        _session(id="middle-a", date="2024-03-05", turns=[_turn(id="m1")]),
        _session(id="middle-b", date="2024-03-05", turns=[_turn(id="m2")]),
    )
    path = _write(tmp_path, "order.json", data)

    [conversation] = read_conversations(path)

    assert [session.id for session in conversation.sessions] == ["early", "middle-a", "middle-b", "late"]
    assert [session.index for session in conversation.sessions] == [1, 2, 3, 4]


def test_dates_with_and_without_offset_are_ordered(tmp_path: Path) -> None:
    data = _generic(
        _session(id="b", date="2024-03-02T10:00:00+02:00", turns=[_turn(id="b1")]),
        _session(id="a", date="2024-03-02T07:00:00", turns=[_turn(id="a1")]),
    )
    path = _write(tmp_path, "offsets.json", data)

    [conversation] = read_conversations(path)

    assert [session.id for session in conversation.sessions] == ["a", "b"]


def test_locomo_sessions_are_ordered_by_number(tmp_path: Path) -> None:
    body: dict[str, object] = {"speaker_a": "Rita", "speaker_b": "Omar"}
    # session_10 is dated before session_2; the number decides.
    for number, day in ((10, 1), (2, 20), (1, 10)):
        body[f"session_{number}_date_time"] = f"10:00 am on {day} June, 2023"
        body[f"session_{number}"] = [{"speaker": "Rita", "dia_id": f"D{number}:1", "text": "x"}]
    path = _write(tmp_path, "5.json", body)

    [conversation] = read_conversations(path)

    assert [session.id for session in conversation.sessions] == ["session_1", "session_2", "session_10"]
    assert [session.index for session in conversation.sessions] == [1, 2, 10]


def test_locomo_zero_padded_session_key_is_read(tmp_path: Path) -> None:
    body = {
        "speaker_a": "Rita",
        "speaker_b": "Omar",
        "session_01_date_time": "10:00 am on 1 June, 2023",
        "session_01": [{"speaker": "Rita", "dia_id": "D1:1", "text": "x"}],
    }
    path = _write(tmp_path, "5.json", body)

    [conversation] = read_conversations(path)

    assert [session.id for session in conversation.sessions] == ["session_01"]


def test_locomo_same_session_number_twice_is_rejected(tmp_path: Path) -> None:
    turns = [{"speaker": "Rita", "dia_id": "D1:1", "text": "x"}]
    body = {"speaker_a": "Rita", "speaker_b": "Omar", "session_1": turns, "session_01": turns}
    path = _write(tmp_path, "5.json", body)

    error = _read_error(path)

    assert error.field == "session_01"
    assert "same number" in str(error)


# -- the ingest job on bad sessions -----------------------------------------


class _ZeroEmbedder(Embedder):
    name = "zero"

    @property
    def dimensions(self) -> int:
        return 4

    def embed_documents(self, texts: Sequence[str]) -> Vectors:
        return np.ones((len(texts), 4), dtype=np.float32) / 2.0


class _MemoryWriter:
    """Keeps written sessions in a dict instead of Neo4j; fails with ``error`` on the sessions in ``failing``."""

    def __init__(self, failing: Iterable[str] = (), error: Exception | None = None) -> None:
        self.sessions: dict[str, list[str]] = {}
        self.failing = set(failing)
        self.error = error

    def ingested_sessions(self, conversation: Conversation, checkpoint: str) -> set[str]:
        return {key.split("/", 1)[1] for key in self.sessions if key.startswith(conversation.id + "/")}

    def new_argument_ids(self, argument_ids: Sequence[str]) -> list[str]:
        return list(argument_ids)

    def write(
        self, conversation: Conversation, session: Session, edus: Sequence[ExtractedEDU], *rest: Any, **options: Any
    ) -> None:
        if session.id in self.failing and self.error is not None:
            raise self.error
        self.sessions[f"{conversation.id}/{session.id}"] = [edu.text for edu in edus]


def _conversation(*texts: str, conversation_id: str = "c") -> Conversation:
    sessions = tuple(
        Session(
            id=f"s{number}",
            index=number,
            started_at=datetime(2024, 1, number),
            turns=(Turn(id=f"t{number}", speaker="Ann", text=text),),
        )
        for number, text in enumerate(texts, 1)
    )
    return Conversation(id=conversation_id, speakers=("Ann",), sessions=sessions)


def _run(conversations: list[Conversation], writer: _MemoryWriter, extractor: Any = None, **options: Any) -> Any:
    return ingest_conversations(
        conversations,
        writer=writer,  # type: ignore[arg-type]
        extractor=extractor or TurnExtractor(),
        embedder=_ZeroEmbedder(),
        progress=False,
        **options,
    )


def test_oversized_turn_fails_only_its_session() -> None:
    writer = _MemoryWriter()
    huge = "word " * (1_048_576 // 5)

    report = _run([_conversation("First.", huge, "Third.")], writer, source="big.json")

    assert sorted(writer.sessions) == ["c/s1", "c/s3"]
    assert report.sessions_failed == ["c/s2"]
    assert "file big.json, conversation 'c' session 's2' turn 't2', field 'text'" in report.errors[0]
    assert f"more than the {MAX_TEXT_CHARS:,}" in report.errors[0]


def test_extractor_limit_overrides_default() -> None:
    extractor = TurnExtractor()
    extractor.max_text_chars = 5  # type: ignore[attr-defined]
    writer = _MemoryWriter()

    report = _run([_conversation("Short", "Too long")], writer, extractor=extractor)

    assert sorted(writer.sessions) == ["c/s1"]
    assert report.sessions_failed == ["c/s2"]


class _BrokenStreamExtractor(TurnExtractor):
    """An extract_many stream that raises at its second session, as spaCy does on an over-long text."""

    def extract_many(self, items: Iterable[tuple[Session, ExtractionContext]]) -> Iterator[Future[list[ExtractedEDU]]]:
        for number, (session, context) in enumerate(items, 1):
            if number == 2:
                raise ValueError("[E088] Text of length 1048576 exceeds maximum of 1000000.")
            future: Future[list[ExtractedEDU]] = Future()
            future.set_result(self.extract(session, context))
            yield future

    def extract(self, session: Session, context: ExtractionContext) -> list[ExtractedEDU]:
        if "poison" in session.turns[0].text:
            raise ValueError("cannot parse this session")
        return super().extract(session, context)


def test_failed_extraction_stream_falls_back_per_session() -> None:
    writer = _MemoryWriter()

    report = _run([_conversation("One.", "poison", "Three.", "Four.")], writer, extractor=_BrokenStreamExtractor())

    assert sorted(writer.sessions) == ["c/s1", "c/s3", "c/s4"]
    assert report.sessions_failed == ["c/s2"]
    assert "cannot parse this session" in report.errors[0]


def test_duplicate_conversation_ids_fail_before_writing() -> None:
    writer = _MemoryWriter()

    with pytest.raises(IngestError, match="conversation id 'c' is given twice"):
        _run([_conversation("One."), _conversation("Other.")], writer)

    assert writer.sessions == {}


def test_lost_server_stops_job_with_resume_hint() -> None:
    writer = _MemoryWriter(
        failing={"s2"}, error=Neo4jUnavailableError("Neo4j at bolt://127.0.0.1:1 stopped answering.")
    )

    with pytest.raises(Neo4jUnavailableError) as raised:
        _run([_conversation("One.", "Two.", "Three.")], writer)

    assert sorted(writer.sessions) == ["c/s1"]
    assert "ingest stopped at c/s2" in str(raised.value)
    assert "Rerun the same ingest to resume" in str(raised.value)
