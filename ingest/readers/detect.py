"""Choose the reader for a file by its content."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ingest.readers.generic import parse_generic
from ingest.readers.locomo import is_locomo, parse_locomo
from memgraph.errors import InputFormatError
from memgraph.models import Conversation


def _decode(path: Path) -> list[tuple[str, Any]]:
    try:
        content = path.read_bytes()
    except FileNotFoundError as e:
        raise InputFormatError("file not found", path=str(path)) from e
    except IsADirectoryError as e:
        raise InputFormatError("is a folder; pass the conversation files inside it", path=str(path)) from e
    try:
        # utf-8-sig also accepts the byte order mark that some editors write first.
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line_number = content.count(b"\n", 0, e.start) + 1
        column = e.start - (content.rfind(b"\n", 0, e.start) + 1) + 1
        raise InputFormatError(
            f"not valid UTF-8 at byte {e.start} (line {line_number}, byte {column} of the line); "
            "save the file as UTF-8",
            path=str(path),
        ) from e

    if path.suffix == ".jsonl":
        records = []
        for number, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                records.append((f"line {number}", json.loads(line)))
            except json.JSONDecodeError as e:
                raise InputFormatError(
                    f"invalid JSON: {e.msg} at column {e.colno}", path=str(path), record=f"line {number}"
                ) from e
        return records
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise InputFormatError(f"invalid JSON: {e.msg} at line {e.lineno} column {e.colno}", path=str(path)) from e
    if isinstance(data, list):
        return [(f"item {number}", item) for number, item in enumerate(data, 1)]
    return [("item 1", data)]


def read_conversations(path: str | Path) -> list[Conversation]:
    """Read every conversation of a LoCoMo or generic-format file (``.json`` or ``.jsonl``).

    Raises:
        InputFormatError: the file cannot be decoded, or a record is invalid;
            the message names the file, record and field.
    """
    path = Path(path)
    conversations = []
    records_by_id: dict[str, str] = {}
    for record_name, record in _decode(path):
        if is_locomo(record):
            conversation = parse_locomo(record, path=str(path), default_id=path.stem)
        else:
            conversation = parse_generic(record, path=str(path), record_name=record_name)
        if conversation.id in records_by_id:
            # A second conversation with the same id would merge into the first one's sessions.
            raise InputFormatError(
                f"duplicate conversation id {conversation.id!r}: {records_by_id[conversation.id]} has it too",
                path=str(path),
                record=record_name,
                field="id",
            )
        records_by_id[conversation.id] = record_name
        conversations.append(conversation)
    if not conversations:
        raise InputFormatError("no conversation found", path=str(path))
    return conversations
