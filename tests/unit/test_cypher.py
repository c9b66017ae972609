"""The Cypher statements kept in cypher/ and their loader."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from memgraph import cypher
from memgraph.errors import ConfigurationError

ROOT = Path(__file__).resolve().parents[2]


def _referenced_statement_names() -> set[str]:
    names: set[str] = set()
    for path in [*ROOT.joinpath("memgraph").rglob("*.py"), *ROOT.joinpath("ingest").rglob("*.py")]:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", None)) in {
                "query",
                "read",
                "write",
            }:
                for argument in node.args[:1]:
                    if (
                        isinstance(argument, ast.Constant)
                        and isinstance(argument.value, str)
                        and re.fullmatch(r"[a-z_]+\.[a-z_]+", argument.value)
                    ):
                        names.add(argument.value)
    return names


def test_every_referenced_statement_exists() -> None:
    names = _referenced_statement_names()

    assert "ingest.create_edus" in names
    for name in names:
        assert cypher.query(name).strip()


@pytest.mark.parametrize("stem", ["ingest", "retrieval", "space"])
def test_data_statements_are_scoped_to_a_space(stem: str) -> None:
    for name, statement in cypher.parse_statements(
        ROOT.joinpath("cypher", f"{stem}.cypher").read_text(encoding="utf-8")
    ).items():
        if name == "list_spaces":
            continue
        assert "$space" in statement, f"{stem}.cypher:{name} does not take the $space parameter"


def test_no_python_source_formats_cypher() -> None:
    keywords = re.compile(r"\b(MATCH|MERGE|CREATE|UNWIND|DETACH DELETE)\b")
    for path in [*ROOT.joinpath("memgraph").rglob("*.py"), *ROOT.joinpath("ingest").rglob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.JoinedStr):
                literal = "".join(
                    part.value for part in node.values if isinstance(part, ast.Constant) and isinstance(part.value, str)
                )
                assert not keywords.search(literal), f"{path} builds Cypher with an f-string"


def test_parse_statements_splits_on_headers() -> None:
    text = "// file comment\n\n// name: first\nRETURN 1\n\n// name: second\n// a note\nRETURN 2\n"

    statements = cypher.parse_statements(text)

    assert statements == {"first": "RETURN 1", "second": "// a note\nRETURN 2"}


def test_unknown_statement_raises() -> None:
    with pytest.raises(ConfigurationError, match=r"'nope' not found in cypher/ingest\.cypher"):
        cypher.query("ingest.nope")
