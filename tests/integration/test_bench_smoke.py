"""Smoke run of ``memgraph bench locomo`` on a three-session fixture: output shape and metric ranges only."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from memgraph.cli import main
from memgraph.config import Neo4jSettings
from memgraph.store import GraphStore

MINI = Path(__file__).parent.parent / "data" / "locomo_mini.json"
METHODS = {
    "bm25",
    "bm25+date",
    "dense-turns",
    "dense-turns+date",
    "rrf",
    "rrf+date",
    "memgraph-dense",
    "memgraph-graph",
}
COUNTS = {"questions", "distinct_turns"}


def _check_metrics(metrics: dict[str, dict[str, float]], where: str) -> None:
    assert "overall" in metrics, where
    for category, values in metrics.items():
        for key in (
            "recall@5",
            "recall@10",
            "recall@20",
            "hit@10",
            "ndcg@10",
            "budget_recall@500",
            "budget_recall@1000",
        ):
            assert key in values, f"{where} {category} lacks {key}"
        for key, value in values.items():
            if key not in COUNTS:
                assert 0.0 <= value <= 1.0, f"{where} {category} {key} = {value}"


@pytest.mark.integration
def test_bench_locomo_smoke(
    neo4j_settings: Neo4jSettings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("NEO4J_URI", neo4j_settings.uri)
    monkeypatch.setenv("NEO4J_USERNAME", neo4j_settings.username)
    monkeypatch.setenv("NEO4J_PASSWORD", neo4j_settings.password.get_secret_value())
    prefix = f"smoke-{uuid.uuid4().hex[:8]}"
    out = tmp_path / "result.json"

    code = main(["bench", "locomo", "--data", str(MINI), "--out", str(out), "--space-prefix", prefix])

    assert code == 0
    table = capsys.readouterr().out
    assert "Recall@10 by category" in table
    for name in METHODS:
        assert name in table

    result: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    assert {"config", "machine", "tokenizer", "aggregate", "conversations", "peak_rss_mb"} <= set(result)
    assert result["machine"]["cpu_count"] >= 1
    assert result["config"]["ingest_checkpoint"] == "spacy:3+context-1"
    assert result["aggregate"]["questions"] == {
        "annotated": 9,
        "without_evidence": 1,
        "without_reachable_evidence": 1,
        "scored": 7,
    }
    assert result["aggregate"]["evidence"] == {"ids_rewritten": 3, "ids_unreachable": 2}

    methods = result["aggregate"]["methods"]
    assert set(methods) == METHODS
    for name, method in methods.items():
        _check_metrics(method["metrics"], name)
        assert method["latency"]["queries"] == 7
        assert 0.0 < method["latency"]["p50_ms"] <= method["latency"]["p95_ms"]

    (conversation,) = result["conversations"]
    assert conversation["conversation_id"] == "locomo_mini"
    assert conversation["ingest"]["turns"] == 17
    assert conversation["ingest"]["sessions_failed"] == []
    assert conversation["ingest"]["turns_per_second"] > 0
    assert len(conversation["per_question"]) == 7
    for name, method in conversation["methods"].items():
        _check_metrics(method["metrics"], f"locomo_mini {name}")

    store = GraphStore(neo4j_settings)
    try:
        assert not [space for space in store.spaces() if space.startswith(prefix)]
    finally:
        store.close()
