"""Writes one extracted session into Neo4j: its nodes in one transaction, its links and checkpoint in a second."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import numpy as np
from neo4j.exceptions import Neo4jError

from memgraph import cypher, ids
from memgraph.embeddings import Vectors
from memgraph.errors import MemgraphError
from memgraph.models import Conversation, ExtractedArgument, ExtractedEDU, Session, Turn
from memgraph.store import OVERFETCH, GraphStore

logger = logging.getLogger(__name__)

#: Arguments whose embeddings have a cosine similarity of at least 0.8 get a SIMILAR_TO link.
#: Neo4j reports cosine similarity as (1 + cosine) / 2, hence 0.9 on its scale.
DEFAULT_SIMILARITY_THRESHOLD = 0.9
_SIMILAR_PER_ARGUMENT = 5


#: Number of preceding EDUs of the session whose embeddings are blended into an EDU's.
#: A short EDU such as "It taught Caroline self-acceptance" then keeps some of the
#: meaning of the referent named before it.
EDU_CONTEXT = 2
#: Number of preceding turns blended into a turn's embedding, so that an answer keeps its question.
TURN_CONTEXT = 1
#: Weight of each preceding embedding relative to the node's own.
CONTEXT_WEIGHT = 0.5
#: Name of the way stored embeddings are built. It is part of each session's
#: checkpoint, so after it changes a rerun re-embeds the sessions written before.
EMBEDDING_LAYOUT = "context-1"


def turn_embedding_text(turn: Turn) -> str:
    """Text embedded for a turn: the speaker's name, then the text and image caption."""
    return f"{turn.speaker}: {turn.content}"


def with_context(vectors: Vectors, preceding: int) -> Vectors:
    """Blend each row of a session's embeddings, in session order, with the ``preceding`` rows before it.

    Each row becomes its own vector plus ``CONTEXT_WEIGHT`` times each
    preceding row, scaled back to unit length. Texts stay as written.
    """
    rows = np.asarray(vectors, dtype=np.float64)
    if rows.ndim != 2 or len(rows) == 0:
        return np.asarray(vectors, dtype=np.float32)
    blended = rows.copy()
    for offset in range(1, preceding + 1):
        blended[offset:] += CONTEXT_WEIGHT * rows[:-offset]
    norms = np.linalg.norm(blended, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return (blended / norms).astype(np.float32)


def ingest_checkpoint(extractor_checkpoint: str) -> str:
    """Checkpoint that marks a session as ingested: the extractor's, then the embedding layout."""
    return f"{extractor_checkpoint}+{EMBEDDING_LAYOUT}"


class SessionWriter:
    """Writes sessions of one space.

    Args:
        store: The graph store.
        space: Memory space every node is written to.
        similarity_threshold: Minimum Neo4j cosine score, (1 + cos) / 2, for a SIMILAR_TO link.
    """

    def __init__(
        self, store: GraphStore, space: str, similarity_threshold: float = DEFAULT_SIMILARITY_THRESHOLD
    ) -> None:
        self.store = store
        self.space = space
        self.similarity_threshold = similarity_threshold

    def ingested_sessions(self, conversation: Conversation, checkpoint: str) -> set[str]:
        """Return ids of the conversation's sessions already ingested with ``checkpoint``."""
        records = self.store.read(
            "ingest.ingested_sessions", space=self.space, conversation_id=conversation.id, checkpoint=checkpoint
        )
        return {record["name"] for record in records}

    def new_argument_ids(self, argument_ids: Sequence[str]) -> list[str]:
        """Return the ids among ``argument_ids`` that the space does not hold yet, in input order."""
        existing = {
            record["id"]
            for record in self.store.read("ingest.existing_arguments", space=self.space, ids=list(argument_ids))
        }
        return [argument_id for argument_id in argument_ids if argument_id not in existing]

    def write(
        self,
        conversation: Conversation,
        session: Session,
        edus: Sequence[ExtractedEDU],
        edu_vectors: Vectors,
        new_arguments: dict[str, tuple[ExtractedArgument, Vectors]],
        checkpoint: str,
        turn_vectors: Vectors | None = None,
    ) -> None:
        """Replace the session's turns and EDUs, link similar arguments, then mark the session ingested.

        The session's nodes are written in one transaction, so a failure
        leaves none of them. A second transaction links the new arguments and
        marks the session with ``checkpoint``, because the vector index includes
        new arguments only after their commit. When that one fails, the session is deleted again.
        If the process dies in between, the session stays unmarked and its new
        arguments stay flagged ``pending_links``, so the next run rewrites the
        session and links those arguments. ``turn_vectors``, one row per turn
        of the session, are the embeddings of :func:`turn_embedding_text`
        (blended by :func:`with_context` in the ingest pipeline);
        without them turns get none.

        Raises:
            Neo4jError: Neo4j rejected the session.
            Neo4jUnavailableError: Neo4j stopped responding.
        """
        session_key = ids.session_key(conversation.id, session.id)
        edu_rows = self._edu_rows(conversation, session, edus, edu_vectors, checkpoint)
        argument_rows = [
            {
                "id": argument_id,
                "name": argument.name,
                "normalized": argument.normalized,
                "kind": argument.kind.value,
                "embedding": vector.tolist(),
            }
            for argument_id, (argument, vector) in new_arguments.items()
        ]
        turn_rows = [
            {
                "id": ids.turn_key(conversation.id, turn.id),
                "turn_id": turn.id,
                "speaker": turn.speaker,
                "text": turn.text,
                "image_caption": turn.image_caption,
                "position": position,
                "timestamp": turn.timestamp,
                "embedding": turn_vectors[position - 1].tolist() if turn_vectors is not None else None,
            }
            for position, turn in enumerate(session.turns, 1)
        ]
        session_row = {
            "id": session_key,
            "name": session.id,
            "index": session.index,
            "started_at": session.started_at,
            "speakers": session.speakers,
        }
        used_argument_ids = {argument["id"] for row in edu_rows for argument in row["arguments"]}

        def work(tx: Any) -> None:
            common = {"space": self.space, "conversation_id": conversation.id, "session_id": session_key}
            tx.run(
                cypher.query("ingest.merge_session"), common, session=session_row, speakers=list(conversation.speakers)
            ).consume()
            replaced = tx.run(cypher.query("ingest.delete_session_edus"), common).single()
            tx.run(cypher.query("ingest.merge_turns"), common, turns=turn_rows).consume()
            tx.run(cypher.query("ingest.merge_arguments"), common, arguments=argument_rows).consume()
            tx.run(cypher.query("ingest.create_edus"), common, edus=edu_rows).consume()
            stale = [key for key in (replaced["argument_ids"] if replaced else []) if key not in used_argument_ids]
            if stale:
                tx.run(cypher.query("ingest.delete_orphan_arguments"), common, argument_ids=stale).consume()

        def finish(tx: Any) -> None:
            if argument_rows:
                tx.run(
                    cypher.query("ingest.link_similar_arguments"),
                    space=self.space,
                    argument_ids=[row["id"] for row in argument_rows],
                    fetch=_SIMILAR_PER_ARGUMENT * OVERFETCH,
                    threshold=self.similarity_threshold,
                ).consume()
            tx.run(
                cypher.query("ingest.mark_session_ingested"),
                space=self.space,
                session_id=session_key,
                checkpoint=checkpoint,
            ).consume()

        self.store.transaction(work)
        try:
            self.store.transaction(finish)
        except (Neo4jError, ValueError):
            self._remove_unfinished(conversation, session)
            raise
        logger.debug("space %r: wrote %s with %d EDUs", self.space, session_key, len(edu_rows))

    def _remove_unfinished(self, conversation: Conversation, session: Session) -> None:
        """Delete a session whose linking failed, so that no search finds it half-written."""
        try:
            self.store.delete_session(self.space, conversation.id, session.id)
        except (Neo4jError, MemgraphError) as e:
            # The session stays unmarked, so the next run rewrites it anyway.
            logger.warning(
                "space %r: could not delete unfinished session %s/%s: %s", self.space, conversation.id, session.id, e
            )

    def _edu_rows(
        self,
        conversation: Conversation,
        session: Session,
        edus: Sequence[ExtractedEDU],
        vectors: Vectors,
        checkpoint: str,
    ) -> list[dict[str, Any]]:
        if len(edus) != len(vectors):
            raise ValueError(f"{len(edus)} EDUs but {len(vectors)} embeddings")
        rows = []
        for position, (edu, vector) in enumerate(zip(edus, vectors, strict=True)):
            arguments: dict[str, str] = {}
            for argument in edu.arguments:
                arguments.setdefault(ids.argument_id(argument.name, argument.kind), argument.role)
            rows.append(
                {
                    "id": ids.edu_id(conversation.id, session.id, checkpoint, position, edu.text),
                    "text": edu.text,
                    "embedding": np.asarray(vector, dtype=np.float32).tolist(),
                    "position": position,
                    "speakers": list(edu.speakers),
                    "time_text": edu.time_text,
                    "occurred_at": edu.occurred_at,
                    "source_turn_ids": list(edu.source_turn_ids),
                    "question": edu.question,
                    "turn_keys": [ids.turn_key(conversation.id, turn_id) for turn_id in edu.source_turn_ids],
                    "arguments": [{"id": key, "role": role} for key, role in arguments.items()],
                }
            )
        return rows
