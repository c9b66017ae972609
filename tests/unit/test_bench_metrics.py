"""Benchmark metrics and evidence reading, checked against values computed by hand."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from memgraph.bench.metrics import (
    RankedHit,
    aggregate_by_category,
    budget_recall,
    hit_at_k,
    latency_summary,
    ndcg_at_k,
    ranked_turns,
    recall_at_k,
    score_question,
    walk_budget,
)
from memgraph.bench.questions import canonical_turn_id, normalise_evidence, read_question_sets

MINI = Path(__file__).parent.parent / "data" / "locomo_mini.json"


def _words(text: str) -> int:
    return len(text.split())


# -- ranked turns ------------------------------------------------------------


def test_ranked_turns_keep_first_rank() -> None:
    hits = [RankedHit("a", ("D1:2", "D1:3")), RankedHit("b", ("D1:3",)), RankedHit("c", ("D2:1", "D1:2"))]

    assert ranked_turns(hits) == ["D1:2", "D1:3", "D2:1"]


# -- recall@k and hit@k ------------------------------------------------------

RANKED = ["D1:1", "D1:2", "D1:3", "D1:4", "D1:5", "D1:6"]


@pytest.mark.parametrize(
    ("relevant", "k", "expected"),
    [
        (["D1:2", "D1:5"], 1, 0.0),
        (["D1:2", "D1:5"], 2, 0.5),
        (["D1:2", "D1:5"], 5, 1.0),
        (["D1:2", "D9:9", "D9:8"], 3, 1 / 3),
        (["D1:6"], 100, 1.0),  # k beyond the list counts the whole list
    ],
)
def test_recall_at_k(relevant: list[str], k: int, expected: float) -> None:
    assert recall_at_k(RANKED, relevant, k) == pytest.approx(expected)


@pytest.mark.parametrize(("k", "expected"), [(1, 0.0), (2, 0.0), (3, 1.0), (6, 1.0)])
def test_hit_at_k(k: int, expected: float) -> None:
    assert hit_at_k(RANKED, ["D1:3", "D1:6"], k) == expected


def test_duplicate_evidence_counts_once() -> None:
    assert recall_at_k(RANKED, ["D1:1", "D1:1", "D9:9"], 1) == pytest.approx(0.5)


def test_empty_evidence_is_rejected() -> None:
    with pytest.raises(ValueError, match="at least one relevant turn"):
        recall_at_k(RANKED, [], 5)


def test_cutoff_below_one_is_rejected() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        hit_at_k(RANKED, ["D1:1"], 0)


# -- NDCG --------------------------------------------------------------------


def test_ndcg_of_ideal_ranking_is_one() -> None:
    assert ndcg_at_k(RANKED, ["D1:1", "D1:2"], 10) == pytest.approx(1.0)


def test_ndcg_by_hand() -> None:
    # Relevant at ranks 2 and 4: DCG = 1/log2(3) + 1/log2(5); the ideal has them at ranks 1 and 2.
    expected = (1 / math.log2(3) + 1 / math.log2(5)) / (1 + 1 / math.log2(3))

    assert ndcg_at_k(RANKED, ["D1:2", "D1:4"], 10) == pytest.approx(expected)


def test_ndcg_ideal_is_capped_at_k() -> None:
    # Three relevant turns but k = 2: the ideal DCG counts two, so a perfect top 2 scores 1.
    assert ndcg_at_k(RANKED, ["D1:1", "D1:2", "D1:6"], 2) == pytest.approx(1.0)


def test_ndcg_ignores_hits_below_k() -> None:
    assert ndcg_at_k(RANKED, ["D1:6"], 5) == 0.0


# -- token budget --------------------------------------------------------------

BUDGET_HITS = [
    RankedHit("one two three", ("D1:1",)),  # 3 tokens
    RankedHit("four five", ("D1:2", "D1:3")),  # 2 tokens, total 5
    RankedHit("six seven eight nine", ("D1:4",)),  # 4 tokens, total 9
    RankedHit("ten", ("D1:5",)),  # 1 token, total 10
]


def test_budget_takes_hits_that_fit() -> None:
    walk = walk_budget(BUDGET_HITS, 5, _words)

    assert walk.turn_ids == {"D1:1", "D1:2", "D1:3"}
    assert walk.tokens == 5
    assert walk.hits == 2
    assert walk.filled


def test_budget_stops_at_first_overflow() -> None:
    # 8 tokens: the 4-token third hit does not fit, and the 1-token fourth is not taken either.
    walk = walk_budget(BUDGET_HITS, 8, _words)

    assert walk.turn_ids == {"D1:1", "D1:2", "D1:3"}
    assert walk.hits == 2


def test_budget_larger_than_hits_is_not_filled() -> None:
    walk = walk_budget(BUDGET_HITS, 100, _words)

    assert walk.hits == 4
    assert walk.tokens == 10
    assert not walk.filled


def test_budget_smaller_than_first_hit_is_empty() -> None:
    assert walk_budget(BUDGET_HITS, 2, _words).turn_ids == frozenset()


@pytest.mark.parametrize(("budget", "expected"), [(2, 0.0), (3, 0.5), (5, 0.5), (9, 1.0)])
def test_budget_recall(budget: int, expected: float) -> None:
    assert budget_recall(BUDGET_HITS, ["D1:1", "D1:4"], budget, _words) == pytest.approx(expected)


def test_budget_below_one_is_rejected() -> None:
    with pytest.raises(ValueError, match="token budget"):
        walk_budget(BUDGET_HITS, 0, _words)


# -- one question, aggregation, latency ----------------------------------------


def test_score_question_keys_and_values() -> None:
    scores = score_question(BUDGET_HITS, ["D1:3", "D1:5"], cutoffs=(1, 3), budgets=(5,), count_tokens=_words)

    assert scores["recall@1"] == 0.0
    assert scores["recall@3"] == pytest.approx(0.5)  # ranked turns: D1:1, D1:2, D1:3, D1:4, D1:5
    assert scores["hit@1"] == 0.0
    assert scores["hit@3"] == 1.0
    assert scores["ndcg@10"] == pytest.approx((1 / math.log2(4) + 1 / math.log2(6)) / (1 + 1 / math.log2(3)))
    assert scores["budget_recall@5"] == pytest.approx(0.5)
    assert scores["budget_filled@5"] == 1.0
    assert scores["distinct_turns"] == 5.0
    assert scores["turns_reached@3"] == 1.0


def test_aggregate_leaves_adversarial_out_of_overall() -> None:
    rows = [(1, {"recall@10": 1.0}), (1, {"recall@10": 0.0}), (2, {"recall@10": 1.0}), (5, {"recall@10": 0.0})]

    result = aggregate_by_category(rows)

    assert list(result) == ["multi-hop", "temporal", "adversarial", "overall"]
    assert result["multi-hop"] == {"questions": 2, "recall@10": 0.5}
    assert result["adversarial"] == {"questions": 1, "recall@10": 0.0}
    assert result["overall"]["questions"] == 3
    assert result["overall"]["recall@10"] == pytest.approx(2 / 3)


def test_aggregate_names_unknown_category() -> None:
    assert list(aggregate_by_category([(7, {"recall@10": 1.0})])) == ["category 7", "overall"]


def test_latency_percentiles() -> None:
    summary = latency_summary([0.001 * value for value in range(1, 101)])

    assert summary["queries"] == 100
    assert summary["p50_ms"] == pytest.approx(50.5)
    assert summary["p95_ms"] == pytest.approx(95.05)


def test_latency_of_no_queries() -> None:
    assert latency_summary([]) == {"queries": 0}


# -- evidence ids ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [("D3:12", "D3:12"), ("D:11:26", "D11:26"), ("d08:06", "D8:6"), (" D2 : 4 ", "D2:4"), ("D", None), ("3:12", None)],
)
def test_canonical_turn_id(text: str, expected: str | None) -> None:
    assert canonical_turn_id(text) == expected


def test_evidence_split_rewritten_and_unreachable() -> None:
    turns = {"D1:1", "D1:2", "D8:6", "D9:17", "D11:26"}

    found, unreachable, rewritten = normalise_evidence(["D8:6; D9:17", "D:11:26", "D1:1", "D10:19", "D", 3], turns)

    assert found == ["D8:6", "D9:17", "D11:26", "D1:1"]
    assert unreachable == ["D10:19", "D", "3"]
    assert rewritten == 3


def test_evidence_repeated_id_counts_once() -> None:
    found, _, _ = normalise_evidence(["D1:1", "D1:1; D1:2"], {"D1:1", "D1:2"})

    assert found == ["D1:1", "D1:2"]


def _mini_turn_ids() -> set[str]:
    body = json.loads(MINI.read_text(encoding="utf-8"))
    return {
        turn["dia_id"]
        for key, turns in body.items()
        if key.startswith("session_") and isinstance(turns, list)
        for turn in turns
    }


def test_questions_of_single_conversation_file() -> None:
    (question_set,) = read_question_sets(MINI, {"locomo_mini": _mini_turn_ids()})

    assert question_set.without_evidence == 1
    assert len(question_set.questions) == 8
    assert len(question_set.scorable) == 7
    assert question_set.unreachable_ids == 2
    assert question_set.rewritten_ids == 3
    multi_hop = question_set.questions[2]
    assert multi_hop.category == 1
    assert multi_hop.evidence == ("D1:3", "D3:1")
    (adversarial,) = [question for question in question_set.questions if question.category == 5]
    assert adversarial.answer == "Nine"  # from adversarial_answer
    assert adversarial.position == 6


def test_questions_of_locomo10_list_layout(tmp_path: Path) -> None:
    body = json.loads(MINI.read_text(encoding="utf-8"))
    qa = body.pop("qa")
    path = tmp_path / "locomo10.json"
    path.write_text(json.dumps([{"sample_id": "conv-1", "conversation": body, "qa": qa, "event_summary": {}}]))

    (question_set,) = read_question_sets(path, {"conv-1": _mini_turn_ids()})

    assert question_set.conversation_id == "conv-1"
    assert len(question_set.scorable) == 7


def test_questions_of_unread_conversation_are_rejected(tmp_path: Path) -> None:
    from memgraph.errors import InputFormatError

    with pytest.raises(InputFormatError, match="was not read"):
        read_question_sets(MINI, {"other": set()})
