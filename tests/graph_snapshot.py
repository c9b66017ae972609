"""Whole-graph snapshots of one space, to compare two runs or a space before and after a change."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from memgraph.store import GraphStore

#: Properties that record when or how often something was written, not what.
VOLATILE = frozenset({"created_at", "updated_at", "ingested_at", "revision"})
#: Float properties compared with a tolerance: embeddings can differ in the last bits between processes.
_VECTORS = frozenset({"embedding"})
_SCORE_TOLERANCE = 1e-4

NodeKey = tuple[str, str]


@dataclass
class Snapshot:
    """Nodes and relationships of one space, with the space name and write times left out."""

    nodes: dict[NodeKey, dict[str, Any]] = field(default_factory=dict)
    vectors: dict[NodeKey, np.ndarray] = field(default_factory=dict)
    relationships: dict[tuple[NodeKey, str, NodeKey], dict[str, Any]] = field(default_factory=dict)
    node_count: int = 0
    relationship_count: int = 0
    foreign_ends: list[tuple[NodeKey, str, NodeKey, Any]] = field(default_factory=list)

    def edu_texts(self) -> dict[str, str]:
        """Return EDU id → text."""
        return {key[1]: props["text"] for key, props in self.nodes.items() if key[0] == "EDU"}

    def counts(self) -> dict[str, int]:
        """Return the number of nodes per label and of relationships per type."""
        result: dict[str, int] = {}
        for label, _ in self.nodes:
            result[label] = result.get(label, 0) + 1
        for _, kind, _ in self.relationships:
            result[kind] = result.get(kind, 0) + 1
        return result


def _key(labels: list[str], node_id: Any) -> NodeKey:
    return ("|".join(sorted(labels)), str(node_id))


def _plain(value: Any) -> Any:
    if hasattr(value, "to_native"):
        return value.to_native()
    if isinstance(value, list):
        return tuple(_plain(item) for item in value)
    return value


def take_snapshot(store: GraphStore, space: str) -> Snapshot:
    """Read every node and relationship of ``space``."""
    snapshot = Snapshot()
    for record in store.read("space.nodes", space=space):
        properties = dict(record["properties"])
        if record["labels"] == ["Space"]:
            # The Space node's id is the space name, which differs between the compared spaces.
            properties.pop("id")
            key: NodeKey = ("Space", "<space>")
        else:
            key = _key(record["labels"], properties.get("id"))
        snapshot.node_count += 1
        for name in _VECTORS & properties.keys():
            snapshot.vectors[key] = np.asarray(properties.pop(name), dtype=np.float64)
        snapshot.nodes[key] = {
            name: _plain(value) for name, value in properties.items() if name not in VOLATILE and name != "space"
        }
    for record in store.read("space.relationships", space=space):
        start = _key(record["start_labels"], record["start_id"])
        end = _key(record["end_labels"], record["end_id"])
        if record["end_labels"] == ["Space"]:
            end = ("Space", "<space>")
        snapshot.relationship_count += 1
        snapshot.relationships[(start, record["type"], end)] = {
            name: _plain(value) for name, value in record["properties"].items()
        }
        if record["end_space"] != space:
            snapshot.foreign_ends.append((start, record["type"], end, record["end_space"]))
    return snapshot


def differences(expected: Snapshot, actual: Snapshot) -> list[str]:
    """List how ``actual`` differs from ``expected``; empty when the two graphs are the same.

    Embeddings and relationship scores are compared with a tolerance, everything else exactly.
    """
    problems: list[str] = []
    key_sets: list[tuple[str, set[Any], set[Any]]] = [
        ("nodes", set(expected.nodes), set(actual.nodes)),
        ("relationships", set(expected.relationships), set(actual.relationships)),
    ]
    for name, expected_keys, actual_keys in key_sets:
        missing, extra = sorted(expected_keys - actual_keys), sorted(actual_keys - expected_keys)
        if missing:
            problems.append(f"{len(missing)} {name} missing, e.g. {missing[:3]}")
        if extra:
            problems.append(f"{len(extra)} {name} extra, e.g. {extra[:3]}")
    if expected.node_count != actual.node_count:
        problems.append(f"node count {actual.node_count} != {expected.node_count}")
    if expected.relationship_count != actual.relationship_count:
        problems.append(f"relationship count {actual.relationship_count} != {expected.relationship_count}")
    for key in expected.nodes.keys() & actual.nodes.keys():
        if expected.nodes[key] != actual.nodes[key]:
            problems.append(f"node {key}: {actual.nodes[key]} != {expected.nodes[key]}")
    for key in expected.vectors.keys() | actual.vectors.keys():
        left_vector, right_vector = expected.vectors.get(key), actual.vectors.get(key)
        if left_vector is None or right_vector is None or not np.allclose(left_vector, right_vector, atol=1e-4):
            problems.append(f"embedding of {key} differs")
    for link in expected.relationships.keys() & actual.relationships.keys():
        wanted, found = expected.relationships[link], actual.relationships[link]
        if wanted.keys() != found.keys() or any(not _close(wanted[name], found[name]) for name in wanted):
            problems.append(f"relationship {link}: {found} != {wanted}")
    return problems


def _close(left: Any, right: Any) -> bool:
    if isinstance(left, float) and isinstance(right, float):
        return abs(left - right) <= _SCORE_TOLERANCE
    return bool(left == right)
