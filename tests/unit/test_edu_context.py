"""EDU embeddings blended with the EDUs before them, and the checkpoint that names that layout."""

from __future__ import annotations

import numpy as np
import pytest

from ingest.writer import EDU_CONTEXT_EDUS, EDU_CONTEXT_WEIGHT, ingest_checkpoint, with_context


def _unit(*values: float) -> list[float]:
    vector = np.asarray(values)
    return list(vector / np.linalg.norm(vector))


def test_each_edu_embedding_takes_in_the_two_before_it() -> None:
    vectors = np.eye(3, dtype=np.float32)[[0, 1, 2, 0]]

    blended = with_context(vectors)

    assert (EDU_CONTEXT_EDUS, EDU_CONTEXT_WEIGHT) == (2, 0.5)
    assert blended.dtype == np.float32
    assert blended[0] == pytest.approx(_unit(1, 0, 0))
    assert blended[1] == pytest.approx(_unit(0.5, 1, 0))
    assert blended[2] == pytest.approx(_unit(0.5, 0.5, 1))
    assert blended[3] == pytest.approx(_unit(1, 0.5, 0.5))  # the first EDU is out of reach
    assert np.linalg.norm(blended, axis=1) == pytest.approx([1.0] * 4)


def test_input_vectors_are_left_unchanged() -> None:
    vectors = np.eye(2, dtype=np.float32)

    with_context(vectors)

    assert vectors.tolist() == [[1.0, 0.0], [0.0, 1.0]]


def test_session_without_edus_gives_no_vectors() -> None:
    assert with_context(np.zeros((0, 384), dtype=np.float32)).shape == (0, 384)


def test_checkpoint_names_extractor_and_embedding_layout() -> None:
    assert ingest_checkpoint("spacy:2") == "spacy:2+edu-context-1"
    assert ingest_checkpoint("spacy:2") != ingest_checkpoint("spacy:3")
