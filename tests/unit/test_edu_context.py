"""Embeddings blended with those of the EDUs or turns before them, and the checkpoint that names that layout."""

from __future__ import annotations

import numpy as np
import pytest

from ingest.writer import CONTEXT_WEIGHT, EDU_CONTEXT, TURN_CONTEXT, ingest_checkpoint, with_context


def _unit(*values: float) -> list[float]:
    vector = np.asarray(values)
    return list(vector / np.linalg.norm(vector))


def test_row_blends_two_preceding_rows() -> None:
    vectors = np.eye(3, dtype=np.float32)[[0, 1, 2, 0]]

    blended = with_context(vectors, 2)

    assert CONTEXT_WEIGHT == 0.5
    assert blended.dtype == np.float32
    assert blended[0] == pytest.approx(_unit(1, 0, 0))
    assert blended[1] == pytest.approx(_unit(0.5, 1, 0))
    assert blended[2] == pytest.approx(_unit(0.5, 0.5, 1))
    assert blended[3] == pytest.approx(_unit(1, 0.5, 0.5))  # the first row is out of reach
    assert np.linalg.norm(blended, axis=1) == pytest.approx([1.0] * 4)


def test_edu_and_turn_context_sizes() -> None:
    vectors = np.eye(3, dtype=np.float32)

    assert EDU_CONTEXT == 2
    assert TURN_CONTEXT == 1
    assert with_context(vectors, TURN_CONTEXT)[2] == pytest.approx(_unit(0, 0.5, 1))
    assert with_context(vectors, 0) == pytest.approx(vectors)


def test_input_vectors_unchanged() -> None:
    vectors = np.eye(2, dtype=np.float32)

    with_context(vectors, 2)

    assert vectors.tolist() == [[1.0, 0.0], [0.0, 1.0]]


def test_empty_session_gives_no_vectors() -> None:
    assert with_context(np.zeros((0, 384), dtype=np.float32), 2).shape == (0, 384)


def test_checkpoint_names_extractor_and_layout() -> None:
    assert ingest_checkpoint("spacy:2") == "spacy:2+context-1"
    assert ingest_checkpoint("spacy:2") != ingest_checkpoint("spacy:3")
