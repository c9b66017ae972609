"""Loader for the Cypher statements kept in ``cypher/*.cypher``.

Each file contains named statements. A statement starts with a line
``// name: <statement-name>`` and runs until the next such line. Code refers
to statements by ``"<file>.<statement-name>"``; every value is passed as a
``$parameter``, never formatted into the text.
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources
from pathlib import Path
from typing import LiteralString, cast

from memgraph.errors import ConfigurationError

_HEADER = re.compile(r"^//\s*name:\s*([a-z0-9_]+)\s*$", re.MULTILINE)


def _cypher_dir() -> Path:
    # Installed wheels carry the folder inside the package; a source checkout has it at the root.
    packaged = Path(str(resources.files("memgraph"))) / "cypher"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent / "cypher"


def parse_statements(text: str) -> dict[str, str]:
    """Split the text of a ``.cypher`` file into its named statements."""
    statements: dict[str, str] = {}
    matches = list(_HEADER.finditer(text))
    for position, match in enumerate(matches):
        end = matches[position + 1].start() if position + 1 < len(matches) else len(text)
        body = text[match.end() : end].strip()
        if body:
            statements[match.group(1)] = body
    return statements


@cache
def _load_file(stem: str) -> dict[str, str]:
    path = _cypher_dir() / f"{stem}.cypher"
    if not path.is_file():
        raise ConfigurationError(f"Cypher file {path} not found; reinstall memgraph or check the checkout.")
    return parse_statements(path.read_text(encoding="utf-8"))


def query(name: str) -> LiteralString:
    """Return the statement ``"<file>.<statement-name>"`` from ``cypher/``.

    Raises:
        ConfigurationError: the file or the statement does not exist.
    """
    stem, _, statement = name.partition(".")
    statements = _load_file(stem)
    if statement not in statements:
        raise ConfigurationError(f"statement {statement!r} not found in cypher/{stem}.cypher")
    # Statements come from files shipped with the package, never from user input.
    return cast(LiteralString, statements[statement])


def statements_of(stem: str) -> list[LiteralString]:
    """Return every statement of ``cypher/<stem>.cypher`` in file order."""
    return [cast(LiteralString, text) for text in _load_file(stem).values()]
