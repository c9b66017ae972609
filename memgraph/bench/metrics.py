"""Retrieval metrics over ranked source turns, and their aggregation by question category.

Every metric scores one question: the method's hits in rank order are mapped
to the turns they came from, and those turns are compared with the question's
evidence turns. Relevance is binary: a turn is evidence or it is not.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

logger = logging.getLogger(__name__)

#: LoCoMo question categories by number.
CATEGORY_NAMES: dict[int, str] = {
    1: "multi-hop",
    2: "temporal",
    3: "open-domain",
    4: "single-hop",
    5: "adversarial",
}
#: Category left out of the overall numbers, because the conversation does not contain its answers.
ADVERSARIAL = 5
#: Key of the aggregate over every category except the adversarial one.
OVERALL = "overall"
#: Rank cutoff of NDCG.
NDCG_CUTOFF = 10


@dataclass(frozen=True)
class RankedHit:
    """One retrieved item: the text a method returns and the turns it came from."""

    text: str
    turn_ids: tuple[str, ...]


@dataclass(frozen=True)
class BudgetWalk:
    """Result of filling a token budget with hits in rank order."""

    turn_ids: frozenset[str]
    tokens: int
    hits: int
    filled: bool  # True when a hit did not fit; False when the hits ran out first


def category_name(category: int) -> str:
    """Return the LoCoMo name of a category number, or ``category N`` for an unknown one."""
    return CATEGORY_NAMES.get(category, f"category {category}")


def ranked_turns(hits: Iterable[RankedHit]) -> list[str]:
    """List the source turns of ``hits`` in rank order, each turn once, at the rank of its first hit."""
    return list(dict.fromkeys(turn_id for hit in hits for turn_id in hit.turn_ids))


def recall_at_k(ranked: Sequence[str], relevant: Iterable[str], k: int) -> float:
    """Share of the relevant turns found among the first ``k`` ranked turns.

    Raises:
        ValueError: ``relevant`` is empty or ``k`` is below 1.
    """
    evidence = _relevant_set(relevant)
    _check_cutoff(k)
    return len(evidence.intersection(ranked[:k])) / len(evidence)


def hit_at_k(ranked: Sequence[str], relevant: Iterable[str], k: int) -> float:
    """1.0 when any relevant turn is among the first ``k`` ranked turns, else 0.0.

    Raises:
        ValueError: ``relevant`` is empty or ``k`` is below 1.
    """
    evidence = _relevant_set(relevant)
    _check_cutoff(k)
    return 1.0 if evidence.intersection(ranked[:k]) else 0.0


def ndcg_at_k(ranked: Sequence[str], relevant: Iterable[str], k: int) -> float:
    """Normalised discounted cumulative gain at ``k`` with binary gains and a log2(rank + 1) discount.

    The ideal ranking puts ``min(k, len(relevant))`` relevant turns first.

    Raises:
        ValueError: ``relevant`` is empty or ``k`` is below 1.
    """
    evidence = _relevant_set(relevant)
    _check_cutoff(k)
    gain = sum(1.0 / math.log2(rank + 1) for rank, turn_id in enumerate(ranked[:k], 1) if turn_id in evidence)
    ideal = sum(1.0 / math.log2(rank + 1) for rank in range(1, min(k, len(evidence)) + 1))
    return gain / ideal


def walk_budget(hits: Iterable[RankedHit], budget: int, count_tokens: Callable[[str], int]) -> BudgetWalk:
    """Take whole hits in rank order while their texts fit in ``budget`` tokens.

    The walk stops at the first hit that does not fit, as a prompt that is
    cut at a token budget would. A hit is never truncated, so a first hit
    longer than the budget leaves the context empty.
    """
    if budget < 1:
        raise ValueError(f"token budget must be at least 1, got {budget}")
    turns: set[str] = set()
    used = 0
    included = 0
    for hit in hits:
        cost = count_tokens(hit.text)
        if used + cost > budget:
            return BudgetWalk(frozenset(turns), used, included, filled=True)
        used += cost
        included += 1
        turns.update(hit.turn_ids)
    return BudgetWalk(frozenset(turns), used, included, filled=False)


def budget_recall(
    hits: Iterable[RankedHit], relevant: Iterable[str], budget: int, count_tokens: Callable[[str], int]
) -> float:
    """Share of the relevant turns covered by the hits that fit in ``budget`` tokens (see :func:`walk_budget`).

    Raises:
        ValueError: ``relevant`` is empty or ``budget`` is below 1.
    """
    evidence = _relevant_set(relevant)
    walk = walk_budget(hits, budget, count_tokens)
    return len(evidence & walk.turn_ids) / len(evidence)


def score_question(
    hits: Sequence[RankedHit],
    relevant: Sequence[str],
    *,
    cutoffs: Sequence[int],
    budgets: Sequence[int],
    count_tokens: Callable[[str], int],
) -> dict[str, float]:
    """Compute every metric of one question, keyed ``recall@k``, ``hit@k``, ``ndcg@10``, ``budget_recall@N``.

    Three diagnostics of retrieval depth come along. ``distinct_turns``
    counts the turns that all hits reach. ``turns_reached@K`` is 1.0 when
    the hits reach K distinct turns, for the largest cutoff K.
    ``budget_filled@N`` is 1.0 when a hit was left out for lack of budget,
    which means the budget and not the retrieval depth limited recall.
    """
    ranked = ranked_turns(hits)
    scores: dict[str, float] = {}
    for k in cutoffs:
        scores[f"recall@{k}"] = recall_at_k(ranked, relevant, k)
    for k in cutoffs:
        scores[f"hit@{k}"] = hit_at_k(ranked, relevant, k)
    scores[f"ndcg@{NDCG_CUTOFF}"] = ndcg_at_k(ranked, relevant, NDCG_CUTOFF)
    evidence = _relevant_set(relevant)
    for budget in budgets:
        walk = walk_budget(hits, budget, count_tokens)
        scores[f"budget_recall@{budget}"] = len(evidence & walk.turn_ids) / len(evidence)
        scores[f"budget_filled@{budget}"] = 1.0 if walk.filled else 0.0
    scores["distinct_turns"] = float(len(ranked))
    deepest = max(cutoffs)
    scores[f"turns_reached@{deepest}"] = 1.0 if len(ranked) >= deepest else 0.0
    return scores


def aggregate_by_category(rows: Iterable[tuple[int, Mapping[str, float]]]) -> dict[str, dict[str, float]]:
    """Average per-question scores within each category and over all non-adversarial questions.

    Args:
        rows: ``(category, scores)`` per question, scores as from :func:`score_question`.

    Returns:
        Category name (and ``overall``) to metric means plus ``questions``,
        the number of questions averaged. Categories follow their numbers;
        ``overall`` comes last.
    """
    groups: dict[int, list[Mapping[str, float]]] = {}
    for category, scores in rows:
        groups.setdefault(category, []).append(scores)
    result: dict[str, dict[str, float]] = {}
    for category in sorted(groups):
        result[category_name(category)] = _means(groups[category])
    overall = [scores for category, members in groups.items() if category != ADVERSARIAL for scores in members]
    if overall:
        result[OVERALL] = _means(overall)
    return result


def latency_summary(seconds: Sequence[float]) -> dict[str, float]:
    """Summarise query latencies: count, p50, p95 and mean in milliseconds (linear-interpolated percentiles)."""
    if not seconds:
        return {"queries": 0}
    values = np.asarray(seconds, dtype=np.float64) * 1000.0
    return {
        "queries": int(values.size),
        "p50_ms": float(np.percentile(values, 50)),
        "p95_ms": float(np.percentile(values, 95)),
        "mean_ms": float(values.mean()),
    }


def _means(members: Sequence[Mapping[str, float]]) -> dict[str, float]:
    keys = list(dict.fromkeys(key for scores in members for key in scores))
    means: dict[str, float] = {"questions": len(members)}
    for key in keys:
        values = [scores[key] for scores in members if key in scores]
        means[key] = sum(values) / len(values)
    return means


def _relevant_set(relevant: Iterable[str]) -> set[str]:
    evidence = set(relevant)
    if not evidence:
        raise ValueError("a question needs at least one relevant turn to be scored")
    return evidence


def _check_cutoff(k: int) -> None:
    if k < 1:
        raise ValueError(f"rank cutoff k must be at least 1, got {k}")
