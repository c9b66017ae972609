"""Readers of LoCoMo and the generic format, on small hand-written files."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

from ingest.readers import read_conversations
from memgraph.errors import InputFormatError

LOCOMO_BODY = {
    "speaker_a": "Rita",
    "speaker_b": "Omar",
    "session_1_date_time": "1:56 pm on 8 May, 2023",
    "session_1": [
        {"speaker": "Rita", "dia_id": "D1:1", "text": "I joined a choir."},
        {
            "speaker": "Omar",
            "dia_id": "D1:2",
            "text": "Look at this!",
            "img_url": ["http://example.invalid/x.jpg"],
            "blip_caption": "a photo of a red kite",
            "query": "kite",
        },
    ],
    "session_2_date_time": "10:00 am on 9 June, 2023",
    "session_2": [],
    "session_3_date_time": "7:15 pm on 1 July, 2023",
    "session_3": [{"speaker": "Rita", "dia_id": "D3:1", "text": "The concert went well."}],
    "session_1_summary": "Rita joined a choir.",
    "events_session_1": {"Rita": ["joins choir"]},
    "session_1_observation": {"Rita": [["Rita sings", "D1:1"]]},
}
QA = [{"question": "What did Rita join?", "answer": "a choir", "evidence": ["D1:1"], "category": 4}]


def _write(tmp_path: Path, name: str, data: object) -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_locomo_single_layout_reads_dialogue_only(tmp_path: Path) -> None:
    path = _write(tmp_path, "77.json", {**LOCOMO_BODY, "qa": QA})

    [conversation] = read_conversations(path)

    assert conversation.id == "77"
    assert conversation.speakers == ("Rita", "Omar")
    assert [session.id for session in conversation.sessions] == ["session_1", "session_3"]
    assert conversation.sessions[0].started_at == datetime(2023, 5, 8, 13, 56)
    assert [turn.id for turn in conversation.sessions[0].turns] == ["D1:1", "D1:2"]
    text = json.dumps(conversation.model_dump(mode="json"))
    assert "What did Rita join" not in text
    assert "joins choir" not in text
    assert "Rita sings" not in text


def test_locomo_list_layout_uses_sample_id(tmp_path: Path) -> None:
    record = {
        "sample_id": "conv-9",
        "conversation": LOCOMO_BODY,
        "qa": QA,
        "event_summary": {},
        "observation": {},
        "session_summary": {},
    }
    path = _write(tmp_path, "locomo10.json", [record, {**record, "sample_id": "conv-10"}])

    conversations = read_conversations(path)

    assert [conversation.id for conversation in conversations] == ["conv-9", "conv-10"]
    assert len(conversations[0].sessions) == 2


def test_image_caption_is_kept_with_its_turn(tmp_path: Path) -> None:
    path = _write(tmp_path, "77.json", LOCOMO_BODY)

    [conversation] = read_conversations(path)

    turn = conversation.sessions[0].turns[1]
    assert turn.image_caption == "a photo of a red kite"
    assert "a photo of a red kite" in turn.content
    assert turn.content.startswith("Look at this!")


def test_generic_format_defaults_ids(tmp_path: Path) -> None:
    data = {
        "id": "c1",
        "sessions": [
            {
                "date": "2024-02-01T09:30:00",
                "turns": [{"speaker": "Ann", "text": "Hello"}, {"speaker": "Bo", "text": "Hi"}],
            }
        ],
    }
    path = _write(tmp_path, "c1.json", data)

    [conversation] = read_conversations(path)

    assert conversation.speakers == ("Ann", "Bo")
    assert conversation.sessions[0].id == "session_1"
    assert [turn.id for turn in conversation.sessions[0].turns] == ["session_1:1", "session_1:2"]


def test_generic_jsonl_reads_one_conversation_per_line(tmp_path: Path) -> None:
    line = {"id": "a", "sessions": [{"date": "3 March 2024", "turns": [{"speaker": "Ann", "text": "x", "id": "t1"}]}]}
    path = tmp_path / "many.jsonl"
    path.write_text(json.dumps(line) + "\n\n" + json.dumps({**line, "id": "b"}) + "\n", encoding="utf-8")

    conversations = read_conversations(path)

    assert [conversation.id for conversation in conversations] == ["a", "b"]
    assert conversations[0].sessions[0].started_at == datetime(2024, 3, 3)


@pytest.mark.parametrize(
    ("data", "record", "field"),
    [
        ({"sessions": []}, "item 1", "id"),
        ({"id": "c", "sessions": [{"turns": []}]}, "conversation 'c' session 1", "date"),
        ({"id": "c", "sessions": [{"date": "someday", "turns": []}]}, "conversation 'c' session 1", "date"),
        (
            {"id": "c", "sessions": [{"date": "2024-01-01", "turns": [{"text": "x"}]}]},
            "conversation 'c' session 1 turn 1",
            "speaker",
        ),
        (
            {"id": "c", "sessions": [{"date": "2024-01-01", "turns": [{"speaker": "A"}]}]},
            "conversation 'c' session 1 turn 1",
            "text",
        ),
    ],
)
def test_invalid_record_names_file_record_and_field(tmp_path: Path, data: object, record: str, field: str) -> None:
    path = _write(tmp_path, "bad.json", data)

    with pytest.raises(InputFormatError) as raised:
        read_conversations(path)

    assert raised.value.path == str(path)
    assert raised.value.record == record
    assert raised.value.field == field
    assert str(path) in str(raised.value)


def test_malformed_json_names_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{"id": "c",\n "sessions": [}', encoding="utf-8")

    with pytest.raises(InputFormatError, match=r"invalid JSON: .* line 2 column"):
        read_conversations(path)


def test_invalid_utf8_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "latin1.json"
    path.write_bytes(b'{"id": "caf\xe9"}')

    with pytest.raises(InputFormatError, match="not valid UTF-8 at byte 11"):
        read_conversations(path)


def test_missing_file_is_reported(tmp_path: Path) -> None:
    with pytest.raises(InputFormatError, match="file not found"):
        read_conversations(tmp_path / "absent.json")


def test_duplicate_turn_ids_are_rejected(tmp_path: Path) -> None:
    turn = {"id": "t1", "speaker": "Ann", "text": "x"}
    data = {"id": "c", "sessions": [{"date": "2024-01-01", "turns": [turn]}, {"date": "2024-01-02", "turns": [turn]}]}
    path = _write(tmp_path, "dup.json", data)

    with pytest.raises(
        InputFormatError, match="duplicate turn id 't1': session 'session_1' turn 1 has it too"
    ) as raised:
        read_conversations(path)

    assert raised.value.record == "conversation 'c' session 2 turn 1"
    assert raised.value.field == "id"
