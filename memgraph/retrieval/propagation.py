"""Personalized PageRank over a space's EDU–argument–session graph.

The graph is loaded from Neo4j once per space revision and kept as a sparse
transition matrix, so each query costs a few sparse matrix-vector products.
It runs in Python on any Neo4j edition, Aura included.
"""

from __future__ import annotations

import logging
import math
import threading
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from memgraph.store import GraphStore

logger = logging.getLogger(__name__)

#: Weight of the EDU–session edge relative to an EDU–argument edge.
SESSION_EDGE_WEIGHT = 0.25
#: Weight of the edge between an EDU and its source turn.
TURN_EDGE_WEIGHT = 1.0
#: Weight of the edge between consecutive turns of a session (a question and its answer).
NEXT_TURN_EDGE_WEIGHT = 0.5


@dataclass(frozen=True)
class SpaceGraph:
    """Sparse graph of one space revision: EDUs first, then arguments, then sessions."""

    revision: int | None
    node_index: dict[str, int]
    edu_ids: list[str]
    transition: sp.csr_matrix  # column-stochastic: transition[j, i] is the step probability i -> j

    @property
    def size(self) -> int:
        return self.transition.shape[0]


def load_space_graph(store: GraphStore, space: str, revision: int | None) -> SpaceGraph:
    """Read the space's nodes and links from Neo4j and build its transition matrix.

    EDU–argument edges are weighted by the argument's inverse document
    frequency, so hub arguments (the speakers, "today") spread little mass.
    """
    edus = store.read("retrieval.space_edus", space=space)
    edu_ids = [record["id"] for record in edus]
    node_index = {edu_id: position for position, edu_id in enumerate(edu_ids)}

    def index_of(key: str) -> int:
        if key not in node_index:
            node_index[key] = len(node_index)
        return node_index[key]

    rows: list[int] = []
    cols: list[int] = []
    weights: list[float] = []

    def link(a: int, b: int, weight: float) -> None:
        rows.extend((a, b))
        cols.extend((b, a))
        weights.extend((weight, weight))

    memberships = store.read("retrieval.space_edu_arguments", space=space)
    degree: dict[str, int] = {}
    for record in memberships:
        degree[record["argument_id"]] = degree.get(record["argument_id"], 0) + 1
    edu_count = max(len(edu_ids), 1)
    for record in memberships:
        if record["edu_id"] not in node_index:
            continue
        idf = math.log(1.0 + edu_count / degree[record["argument_id"]])
        link(node_index[record["edu_id"]], index_of("argument:" + record["argument_id"]), idf)

    for record in store.read("retrieval.space_similar_arguments", space=space):
        weight = max(0.0, 2.0 * float(record["score"]) - 1.0)
        link(index_of("argument:" + record["source"]), index_of("argument:" + record["target"]), weight)

    for record in edus:
        link(node_index[record["id"]], index_of("session:" + record["session_id"]), SESSION_EDGE_WEIGHT)

    turn_positions: dict[str, tuple[str, int]] = {}
    for record in store.read("retrieval.space_edu_turns", space=space):
        if record["edu_id"] in node_index:
            link(node_index[record["edu_id"]], index_of("turn:" + record["turn_key"]), TURN_EDGE_WEIGHT)
            turn_positions[record["turn_key"]] = (record["session_id"], int(record["position"] or 0))
    by_place = {place: key for key, place in turn_positions.items()}
    for key, (session_id, position) in turn_positions.items():
        following = by_place.get((session_id, position + 1))
        if following is not None:
            link(index_of("turn:" + key), index_of("turn:" + following), NEXT_TURN_EDGE_WEIGHT)

    size = len(node_index)
    adjacency = sp.csr_matrix((weights, (rows, cols)), shape=(size, size), dtype=np.float64)
    out_weight = np.asarray(adjacency.sum(axis=1)).ravel()
    out_weight[out_weight == 0] = 1.0
    # Row-normalise, then transpose so that a column contains one node's outgoing probabilities.
    transition = (sp.diags(1.0 / out_weight) @ adjacency).T.tocsr()
    logger.info("space %r: propagation graph with %d nodes, %d edges", space, size, adjacency.nnz // 2)
    return SpaceGraph(revision=revision, node_index=node_index, edu_ids=edu_ids, transition=transition)


def personalized_pagerank(
    graph: SpaceGraph,
    seeds: dict[str, float],
    damping: float = 0.5,
    iterations: int = 50,
    tolerance: float = 1e-8,
) -> np.ndarray:
    """Return each node's PPR mass, restarting at ``seeds`` (node key → weight).

    ``damping`` is the probability of following an edge at each step; the
    walk returns to the seeds otherwise.
    """
    restart = np.zeros(graph.size)
    for key, weight in seeds.items():
        position = graph.node_index.get(key)
        if position is not None and weight > 0:
            restart[position] += weight
    if restart.sum() == 0:
        return restart
    restart /= restart.sum()

    scores = restart.copy()
    for _ in range(iterations):
        updated = (1.0 - damping) * restart + damping * (graph.transition @ scores)
        if np.abs(updated - scores).sum() < tolerance:
            scores = updated
            break
        scores = updated
    return scores


class GraphCache:
    """Space graphs kept between queries and reloaded when the space's revision changes."""

    def __init__(self) -> None:
        self._graphs: dict[str, SpaceGraph] = {}
        self._lock = threading.Lock()

    def get(self, store: GraphStore, space: str) -> SpaceGraph:
        revision = store.revision(space)
        with self._lock:
            cached = self._graphs.get(space)
            if cached is not None and cached.revision == revision:
                return cached
        graph = load_space_graph(store, space, revision)
        with self._lock:
            self._graphs[space] = graph
        return graph

    def invalidate(self, space: str | None = None) -> None:
        with self._lock:
            if space is None:
                self._graphs.clear()
            else:
                self._graphs.pop(space, None)
