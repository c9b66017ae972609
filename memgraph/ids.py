"""Deterministic node ids, so that re-ingesting the same input merges onto the same nodes."""

from __future__ import annotations

import hashlib

from memgraph.models import ArgumentKind, normalize_name

_SEPARATOR = "\x1f"


def _digest(*parts: str, length: int = 20) -> str:
    return hashlib.sha1(_SEPARATOR.join(parts).encode("utf-8")).hexdigest()[:length]


def _key_prefix(conversation_id: str) -> str:
    # Escaping '/' (and '%', the escape itself) keeps the first '/' of a key the separator, so that
    # conversation 'a/b' with session 'c' and conversation 'a' with session 'b/c' get different keys.
    # Ids without either character keep the keys they had before this escaping.
    return conversation_id.replace("%", "%25").replace("/", "%2F")


def session_key(conversation_id: str, session_id: str) -> str:
    """Key of a session, unique within a space."""
    return f"{_key_prefix(conversation_id)}/{session_id}"


def turn_key(conversation_id: str, turn_id: str) -> str:
    """Key of a turn, unique within a space; turn ids are unique within a conversation."""
    return f"{_key_prefix(conversation_id)}/{turn_id}"


def edu_id(conversation_id: str, session_id: str, checkpoint: str, position: int, text: str) -> str:
    """Id of the ``position``-th EDU a given extractor produced for a session."""
    return "edu-" + _digest(conversation_id, session_id, checkpoint, str(position), text)


def argument_id(name: str, kind: ArgumentKind) -> str:
    """Id of an argument: mentions with the same normalized name and kind share one node."""
    return f"{kind.value}:{normalize_name(name)}"
