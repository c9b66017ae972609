"""LoCoMo questions and their evidence turns, read from the benchmark's ``qa`` annotations.

This is the only module that reads LoCoMo annotations; the memory under test
reads the dialogue through :mod:`ingest.readers`, which ignores them. Both
layouts are accepted: one conversation object per file with a ``qa`` list,
or the ``locomo10.json`` list of ``{sample_id, conversation, qa, ...}``.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ingest.readers.locomo import is_locomo
from memgraph.errors import InputFormatError

logger = logging.getLogger(__name__)

# A LoCoMo turn id is "D<session>:<position>". The annotations also contain
# "D:11:26" and ids with spaces around the colon, which this pattern accepts.
_TURN_ID = re.compile(r"^D\s*:?\s*(\d+)\s*:\s*(\d+)$", re.IGNORECASE)
# Several ids sometimes share one string, e.g. "D8:6; D9:17".
_ID_SEPARATORS = re.compile(r"[;,\s]+(?=D)", re.IGNORECASE)


@dataclass(frozen=True)
class Question:
    """One LoCoMo question with its evidence, normalised against the conversation's turns.

    Attributes:
        conversation_id: Id of the conversation, as :func:`ingest.readers.read_conversations` names it.
        position: Index of the question in the conversation's ``qa`` list, from 0.
        text: The question.
        category: LoCoMo category number (1 multi-hop, 2 temporal, 3 open-domain,
            4 single-hop, 5 adversarial).
        answer: The reference answer (``adversarial_answer`` for category 5), if any.
        evidence_raw: Evidence entries as annotated.
        evidence: Turn ids of the conversation that the evidence names, in order, each once.
        unreachable: Evidence entries that name no turn of the conversation.
    """

    conversation_id: str
    position: int
    text: str
    category: int
    answer: str | None
    evidence_raw: tuple[str, ...]
    evidence: tuple[str, ...]
    unreachable: tuple[str, ...]


@dataclass(frozen=True)
class QuestionSet:
    """The questions of one conversation, with counts of how their evidence was read."""

    conversation_id: str
    questions: tuple[Question, ...]
    without_evidence: int  # questions with an empty evidence list, left out of the benchmark
    rewritten_ids: int  # evidence ids that were split or reformatted to match a turn

    @property
    def scorable(self) -> list[Question]:
        """Questions with at least one evidence turn found in the conversation."""
        return [question for question in self.questions if question.evidence]

    @property
    def unreachable_ids(self) -> int:
        """Evidence entries that name no turn of the conversation."""
        return sum(len(question.unreachable) for question in self.questions)


def canonical_turn_id(text: str) -> str | None:
    """Return ``D<session>:<position>`` for a turn id in any spelling the annotations use, else ``None``.

    Example:
        >>> canonical_turn_id("D:11:26"), canonical_turn_id("D08:6"), canonical_turn_id("D")
        ('D11:26', 'D8:6', None)
    """
    match = _TURN_ID.match(text.strip())
    if match is None:
        return None
    return f"D{int(match.group(1))}:{int(match.group(2))}"


def normalise_evidence(entries: Iterable[Any], turn_ids: Iterable[str]) -> tuple[list[str], list[str], int]:
    """Map annotated evidence entries to the conversation's turn ids.

    Args:
        entries: The ``evidence`` list of one question.
        turn_ids: Every turn id of the conversation, as the dialogue spells them.

    Returns:
        Three values. The first is the turn ids found, in order and each
        once. The second lists the entries, or parts of entries, that name no
        turn. The third counts the ids that were split out of a longer entry
        or reformatted to match a turn.
    """
    known = set(turn_ids)
    by_canonical: dict[str, str] = {}
    for known_id in sorted(known):
        by_canonical.setdefault(canonical_turn_id(known_id) or known_id, known_id)

    found: list[str] = []
    unreachable: list[str] = []
    rewritten = 0
    for entry in entries:
        if not isinstance(entry, str):
            unreachable.append(repr(entry))
            continue
        parts = [part.strip() for part in _ID_SEPARATORS.split(entry.strip()) if part.strip()]
        for part in parts or [entry]:
            canonical = canonical_turn_id(part)
            turn_id = part if part in known else by_canonical.get(canonical or part)
            if turn_id is None:
                unreachable.append(part)
                continue
            if turn_id != entry:
                rewritten += 1
            found.append(turn_id)
    return list(dict.fromkeys(found)), unreachable, rewritten


def read_question_sets(path: str | Path, turn_ids: dict[str, set[str]]) -> list[QuestionSet]:
    """Read the questions of every LoCoMo conversation in a file, in file order.

    Args:
        path: A LoCoMo file in either layout.
        turn_ids: Turn ids of each conversation read from the file, by conversation id.

    Raises:
        InputFormatError: the file is not JSON, contains no LoCoMo conversation,
            names a conversation missing from ``turn_ids``, or a ``qa`` entry is malformed.
    """
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise InputFormatError(f"invalid JSON: {e.msg} at line {e.lineno}", path=str(path)) from e
    records = data if isinstance(data, list) else [data]

    sets = []
    for record in records:
        if not is_locomo(record):
            continue
        # Same id rule as ingest.readers.locomo.parse_locomo, so questions meet their conversation.
        conversation_id = str(record.get("sample_id") or path.stem)
        if conversation_id not in turn_ids:
            raise InputFormatError(
                "conversation has questions but was not read", path=str(path), record=conversation_id
            )
        sets.append(_question_set(record, conversation_id, turn_ids[conversation_id], path=str(path)))
    if not sets:
        raise InputFormatError("no LoCoMo conversation with questions found", path=str(path))
    return sets


def _question_set(record: dict[str, Any], conversation_id: str, turn_ids: set[str], *, path: str) -> QuestionSet:
    raw_questions = record.get("qa", [])
    if not isinstance(raw_questions, list):
        raise InputFormatError("expected a list", path=path, record=conversation_id, field="qa")

    questions = []
    without_evidence = 0
    rewritten_total = 0
    for position, raw in enumerate(raw_questions):
        name = f"{conversation_id} qa {position}"
        if not isinstance(raw, dict) or not isinstance(raw.get("question"), str):
            raise InputFormatError("missing or not a string", path=path, record=name, field="question")
        category = raw.get("category")
        if not isinstance(category, int):
            raise InputFormatError("missing or not an integer", path=path, record=name, field="category")
        entries = raw.get("evidence") or []
        if not isinstance(entries, list):
            entries = [entries]
        if not entries:
            without_evidence += 1
            continue

        found, unreachable, rewritten = normalise_evidence(entries, turn_ids)
        rewritten_total += rewritten
        if unreachable:
            logger.info("%s: %s names no turn of the conversation: %s", path, name, ", ".join(unreachable))
        answer = raw.get("answer", raw.get("adversarial_answer"))
        questions.append(
            Question(
                conversation_id=conversation_id,
                position=position,
                text=raw["question"],
                category=category,
                answer=None if answer is None else str(answer),
                evidence_raw=tuple(str(entry) for entry in entries),
                evidence=tuple(found),
                unreachable=tuple(unreachable),
            )
        )
    return QuestionSet(conversation_id, tuple(questions), without_evidence, rewritten_total)
