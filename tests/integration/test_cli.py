"""The ``memgraph`` command as a user runs it, with the default spaCy extractor."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import SAMPLE_CONVERSATION

HIT_KEYS = {"text", "score", "session_id", "session_date", "source_turn_ids"}


def _input_turn_ids() -> set[str]:
    data = json.loads(SAMPLE_CONVERSATION.read_text(encoding="utf-8"))
    return {turn["id"] for session in data["sessions"] for turn in session["turns"]}


@pytest.fixture
def cli(neo4j_settings: Any) -> Iterator[Any]:
    space = f"test-cli-{uuid.uuid4().hex[:10]}"
    env = {
        **os.environ,
        "NEO4J_URI": neo4j_settings.uri,
        "NEO4J_USERNAME": neo4j_settings.username,
        "NEO4J_PASSWORD": neo4j_settings.password.get_secret_value(),
    }

    def run(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        completed = subprocess.run(
            [sys.executable, "-m", "memgraph.cli", *args, "--space", space],
            capture_output=True,
            text=True,
            env=env,
            timeout=600,
        )
        if check and completed.returncode != 0:
            raise AssertionError(f"memgraph {' '.join(args)} exited {completed.returncode}:\n{completed.stderr}")
        return completed

    yield run
    run("forget", check=False)


def test_ingest_twice_keeps_counts(cli: Any) -> None:
    first = cli("ingest", str(SAMPLE_CONVERSATION), "--no-progress")
    counts_after_first = json.loads(cli("stats", "--json").stdout)

    second = cli("ingest", str(SAMPLE_CONVERSATION), "--no-progress")
    counts_after_second = json.loads(cli("stats", "--json").stdout)

    assert "4 sessions ingested" in first.stdout
    assert "0 sessions ingested (4 already done)" in second.stdout
    assert counts_after_second == counts_after_first
    assert counts_after_first["turns"] == 37
    assert counts_after_first["edus"] >= 37


def test_query_json_has_hits_with_input_turn_ids(cli: Any) -> None:
    cli("ingest", str(SAMPLE_CONVERSATION), "--no-progress")

    completed = cli("query", "What is the name of Ben's dog?", "--json", "-k", "5")

    hits = json.loads(completed.stdout)
    assert isinstance(hits, list)
    assert len(hits) == 5
    for hit in hits:
        assert set(hit) >= HIT_KEYS
        assert set(hit["source_turn_ids"]) <= _input_turn_ids()
    assert "S2:5" in {turn for hit in hits for turn in hit["source_turn_ids"]}


def test_query_questions_file_prints_one_line_each(cli: Any, tmp_path: Path) -> None:
    cli("ingest", str(SAMPLE_CONVERSATION), "--no-progress")
    questions = tmp_path / "questions.txt"
    questions.write_text("Where did Ana go hiking?\n\nWhat did Ben fix?\n", encoding="utf-8")

    completed = cli("query", "--questions", str(questions), "-k", "3", "--mode", "dense")

    lines = completed.stdout.splitlines()
    assert len(lines) == 2
    for line, question in zip(lines, ["Where did Ana go hiking?", "What did Ben fix?"], strict=True):
        record = json.loads(line)
        assert record["query"] == question
        assert len(record["hits"]) == 3
        assert set(record["hits"][0]) >= HIT_KEYS


def test_query_table_shows_dates_and_turns(cli: Any) -> None:
    cli("ingest", str(SAMPLE_CONVERSATION), "--no-progress")

    completed = cli("query", "When does the pottery class start?", "-k", "3")

    assert "session date" in completed.stdout
    assert "2024-03-02" in completed.stdout
    assert "S1:" in completed.stdout


def test_bad_file_fails_with_file_and_field(cli: Any, tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text(
        json.dumps({"id": "x", "sessions": [{"date": "2024-01-01", "turns": [{"text": "hi"}]}]}), encoding="utf-8"
    )

    completed = cli("ingest", str(broken), check=False)

    assert completed.returncode == 2
    assert str(broken) in completed.stderr
    assert "'speaker'" in completed.stderr
