"""Personalized PageRank on small hand-made graphs."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from memgraph.retrieval.propagation import SpaceGraph, personalized_pagerank


def _graph(edges: list[tuple[str, str]], edu_ids: list[str]) -> SpaceGraph:
    index: dict[str, int] = {edu_id: position for position, edu_id in enumerate(edu_ids)}
    for a, b in edges:
        for key in (a, b):
            index.setdefault(key, len(index))
    rows = [index[a] for a, b in edges] + [index[b] for a, b in edges]
    cols = [index[b] for a, b in edges] + [index[a] for a, b in edges]
    adjacency = sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(index), len(index)))
    out = np.asarray(adjacency.sum(axis=1)).ravel()
    transition = (sp.diags(1.0 / out) @ adjacency).T.tocsr()
    return SpaceGraph(revision=1, node_index=index, edu_ids=edu_ids, transition=transition)


def test_mass_spreads_through_shared_argument() -> None:
    # e1 and e2 share argument a; e3 hangs off another argument.
    graph = _graph([("e1", "a"), ("e2", "a"), ("e3", "b")], ["e1", "e2", "e3"])

    scores = personalized_pagerank(graph, {"e1": 1.0})

    assert scores[graph.node_index["e2"]] > 0
    assert scores[graph.node_index["e3"]] == 0
    assert scores.sum() == pytest.approx(1.0)


def test_seed_keeps_the_most_mass() -> None:
    graph = _graph([("e1", "a"), ("e2", "a"), ("e3", "a")], ["e1", "e2", "e3"])

    scores = personalized_pagerank(graph, {"e2": 1.0}, damping=0.5)

    assert np.argmax(scores[:3]) == 1


def test_unknown_or_empty_seeds_give_zero_mass() -> None:
    graph = _graph([("e1", "a")], ["e1"])

    assert personalized_pagerank(graph, {"missing": 1.0}).sum() == 0
    assert personalized_pagerank(graph, {}).sum() == 0


def test_closed_form_on_two_nodes() -> None:
    # e1 - a: with restart at e1, p_e1 = (1 - d) + d * p_a and p_a = d * p_e1.
    graph = _graph([("e1", "a")], ["e1"])
    damping = 0.5

    scores = personalized_pagerank(graph, {"e1": 1.0}, damping=damping, iterations=200, tolerance=0)

    expected_e1 = (1 - damping) / (1 - damping**2)
    assert scores[0] == pytest.approx(expected_e1)
    assert scores[1] == pytest.approx(damping * expected_e1)
