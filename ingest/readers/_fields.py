"""Checks of single JSON values shared by the readers; each error names the file, record and field."""

from __future__ import annotations

from typing import Any

from memgraph.errors import InputFormatError


def check_unicode(value: str, *, path: str, record: str, field: str) -> str:
    """Return ``value`` unless it contains an unpaired surrogate, which UTF-8, and so Neo4j, cannot encode.

    JSON escapes such as ``"\\ud800"`` decode to such surrogates even when the file itself is valid UTF-8.

    Raises:
        InputFormatError: the value is not valid Unicode text.
    """
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as e:
        raise InputFormatError(
            f"contains the unpaired surrogate U+{ord(value[e.start]):04X} at character {e.start}; "
            "fix the JSON escape so the text is valid Unicode",
            path=path,
            record=record,
            field=field,
        ) from e
    return value


def string_field(raw: dict[str, Any], key: str, *, path: str, record: str, allow_blank: bool = False) -> str:
    """Return the string ``raw[key]``.

    Raises:
        InputFormatError: the key is missing, the value is not a string, or it is blank
            while ``allow_blank`` is false.
    """
    value = raw.get(key)
    if value is None:
        raise InputFormatError(f"missing {key}", path=path, record=record, field=key)
    if not isinstance(value, str):
        raise InputFormatError(
            f"expected a string, got {type(value).__name__} {value!r}", path=path, record=record, field=key
        )
    if not allow_blank and not value.strip():
        raise InputFormatError(f"{key} is blank", path=path, record=record, field=key)
    return check_unicode(value, path=path, record=record, field=key)


def optional_id(raw: dict[str, Any], key: str, *, default: str, path: str, record: str) -> str:
    """Return ``raw[key]`` as a string id, or ``default`` when it is absent, null or empty.

    Raises:
        InputFormatError: the value is neither a string nor an integer.
    """
    value = raw.get(key)
    if value is None or value == "":
        return default
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise InputFormatError(
            f"expected a string or integer id, got {type(value).__name__} {value!r}",
            path=path,
            record=record,
            field=key,
        )
    text = str(value)
    if not text.strip():
        raise InputFormatError("id is blank", path=path, record=record, field=key)
    return check_unicode(text, path=path, record=record, field=key)


class TurnIdRegistry:
    """Turn ids seen so far in one conversation, to reject a duplicate where it occurs."""

    def __init__(self) -> None:
        self._seen: dict[str, str] = {}

    def add(self, turn_id: str, *, place: str, path: str, record: str, field: str) -> None:
        """Remember that ``turn_id`` is at ``place`` (e.g. "session 'session_1' turn 3").

        Raises:
            InputFormatError: an earlier turn of the conversation has the same id.
        """
        if turn_id in self._seen:
            raise InputFormatError(
                f"duplicate turn id {turn_id!r}: {self._seen[turn_id]} has it too; "
                "turn ids must be unique within a conversation",
                path=path,
                record=record,
                field=field,
            )
        self._seen[turn_id] = place
