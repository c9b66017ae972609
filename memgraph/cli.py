"""The ``memgraph`` command line: ingest, query, forget, stats, the local Neo4j server and benchmarks."""

from __future__ import annotations

import argparse
import json
import logging
import sys
import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from memgraph.config import DEFAULT_SPACE
from memgraph.errors import MemgraphError

logger = logging.getLogger("memgraph.cli")


def _out(text: str = "") -> None:
    sys.stdout.write(text + "\n")


def _connection_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--space", default=DEFAULT_SPACE, help="memory space to use (default: %(default)s)")
    parser.add_argument("--uri", help="Neo4j URI; default: $NEO4J_URI, else the local server")
    parser.add_argument("--database", help="Neo4j database; default: $NEO4J_DATABASE, else the server's default")
    parser.add_argument("--model", help="sentence-transformers model name or local path (default: all-MiniLM-L6-v2)")


def _memory(args: argparse.Namespace, **options: Any) -> Any:
    from memgraph.memory import Memory

    return Memory(space=args.space, uri=args.uri, database=args.database, embedder=args.model, **options)


def _hit_json(hit: Any) -> dict[str, Any]:
    return {
        "text": hit.text,
        "score": round(hit.score, 6),
        "dense_score": round(hit.dense_score, 6),
        "propagation_score": round(hit.propagation_score, 6),
        "edu_id": hit.edu_id,
        "conversation_id": hit.conversation_id,
        "session_id": hit.session_id,
        "session_date": hit.session_date.isoformat() if hit.session_date else None,
        "speakers": hit.speakers,
        "source_turn_ids": hit.source_turn_ids,
        "time_text": hit.time_text,
        "occurred_at": hit.occurred_at.isoformat() if hit.occurred_at else None,
        "question": hit.question,
    }


def _print_table(query: str, hits: Sequence[Any]) -> None:
    _out(f"Query: {query}")
    if not hits:
        _out("  (no memories in this space)")
        return
    _out(f"{'#':>3}  {'score':>6}  {'session date':<16}  {'session':<12}  {'turns':<14}  EDU")
    for rank, hit in enumerate(hits, 1):
        date = hit.session_date.strftime("%Y-%m-%d %H:%M") if hit.session_date else "-"
        turns = ",".join(hit.source_turn_ids)
        lines = textwrap.wrap(hit.text, width=70) or [""]
        _out(f"{rank:>3}  {hit.score:>6.3f}  {date:<16}  {hit.session_id[:12]:<12}  {turns[:14]:<14}  {lines[0]}")
        for line in lines[1:]:
            _out(" " * 62 + line)


def _cmd_ingest(args: argparse.Namespace) -> int:
    from ingest.readers import read_conversations
    from memgraph.llm.cli_options import extractor_from_args, usage_line

    # Every file is read and checked before anything is written; one file keeps its name in error messages.
    source: Any = (
        args.files[0]
        if len(args.files) == 1
        else [conversation for path in args.files for conversation in read_conversations(path)]
    )
    extractor = extractor_from_args(args)
    with _memory(args, extractor=extractor) as memory:
        report = memory.ingest(source, progress=None if args.progress else False)
    _out(report.summary())
    if extractor is not None:
        _out(usage_line(report, args.llm))
    return 1 if report.sessions_failed else 0


def _cmd_query(args: argparse.Namespace) -> int:
    if args.questions and args.query:
        raise MemgraphError("give either a query or --questions FILE, not both")
    if args.questions:
        questions = [
            line.strip() for line in Path(args.questions).read_text(encoding="utf-8").splitlines() if line.strip()
        ]
    elif args.query:
        questions = [args.query]
    else:
        raise MemgraphError("give a query, or --questions FILE with one question per line")

    from memgraph.llm.cli_options import seed_filter_from_args

    with _memory(args, seed_filter=seed_filter_from_args(args)) as memory:
        for question in questions:
            hits = memory.search(question, k=args.k, mode=args.mode)
            if args.questions:
                _out(json.dumps({"query": question, "hits": [_hit_json(hit) for hit in hits]}, ensure_ascii=False))
            elif args.json:
                _out(json.dumps([_hit_json(hit) for hit in hits], ensure_ascii=False, indent=2))
            else:
                _print_table(question, hits)
    return 0


def _cmd_forget(args: argparse.Namespace) -> int:
    if (args.conversation is None) != (args.session is None):
        raise MemgraphError(
            "--conversation and --session go together: both forget one session, neither the whole space"
        )
    with _memory(args) as memory:
        if args.session:
            found = memory.forget(conversation_id=args.conversation, session_id=args.session)
            _out(
                f"space {args.space!r}: session {args.conversation}/{args.session} "
                + ("deleted" if found else "not found")
            )
            return 0 if found else 1
        else:
            deleted = memory.forget()
            _out(f"space {args.space!r}: deleted {deleted} nodes")
    return 0


def _cmd_stats(args: argparse.Namespace) -> int:
    with _memory(args) as memory:
        counts = memory.stats()
    if args.json:
        _out(json.dumps({"space": args.space, **counts}))
    else:
        _out(f"space {args.space!r}: " + ", ".join(f"{key.replace('_', ' ')} {value}" for key, value in counts.items()))
    return 0


def _cmd_neo4j(args: argparse.Namespace) -> int:
    from memgraph.local_neo4j import LocalNeo4j

    server = LocalNeo4j()
    if args.action == "up":
        status = server.up(port=args.port, timeout=args.timeout)
        _out(f"local Neo4j running at {status.uri} (pid {status.pid}, data in {status.home})")
    elif args.action == "down":
        _out("local Neo4j stopped" if server.down() else "local Neo4j was not running")
    else:
        status = server.status()
        if args.json:
            _out(status.model_dump_json())
        else:
            _out(
                f"local Neo4j running at {status.uri} (pid {status.pid})"
                if status.running
                else "local Neo4j not running"
            )
            _out(f"data: {status.home}")
            _out(f"log: {status.log}")
        return 0 if status.running else 3
    return 0


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser of the ``memgraph`` command."""
    from memgraph.llm.cli_options import add_ingest_options as add_llm_ingest_options
    from memgraph.llm.cli_options import add_query_options as add_llm_query_options

    parser = argparse.ArgumentParser(prog="memgraph", description=__doc__)
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output (-vv for Cypher)")
    commands = parser.add_subparsers(dest="command", required=True)

    ingest = commands.add_parser("ingest", help="ingest conversation files (LoCoMo or generic JSON/JSONL)")
    ingest.add_argument("files", nargs="+", help="conversation files")
    ingest.add_argument(
        "--no-progress", dest="progress", action="store_false", help="log lines instead of a progress bar"
    )
    _connection_options(ingest)
    add_llm_ingest_options(ingest)
    ingest.set_defaults(handler=_cmd_ingest)

    query = commands.add_parser("query", help="search a space's memory")
    query.add_argument("query", nargs="?", help="the question")
    query.add_argument("-k", type=int, default=10, help="EDUs to return (default: %(default)s)")
    query.add_argument("--mode", choices=["dense", "graph"], default="graph", help="ranking (default: %(default)s)")
    query.add_argument("--json", action="store_true", help="print a JSON list of hits")
    query.add_argument("--questions", help="file with one question per line; prints one JSON line per question")
    _connection_options(query)
    add_llm_query_options(query)
    query.set_defaults(handler=_cmd_query)

    forget = commands.add_parser("forget", help="delete a space, or one session of it")
    forget.add_argument("--conversation", help="conversation id of the session to delete")
    forget.add_argument("--session", help="session id to delete (with --conversation)")
    _connection_options(forget)
    forget.set_defaults(handler=_cmd_forget)

    stats = commands.add_parser("stats", help="count a space's nodes")
    stats.add_argument("--json", action="store_true", help="print JSON")
    _connection_options(stats)
    stats.set_defaults(handler=_cmd_stats)

    neo4j = commands.add_parser("neo4j", help="manage the local Neo4j server (Java 17 + Maven, no Docker)")
    neo4j.add_argument("action", choices=["up", "down", "status"])
    neo4j.add_argument(
        "--port", type=int, help="Bolt port for `up` (default: the last one, else 7687, else a free one)"
    )
    neo4j.add_argument(
        "--timeout", type=float, default=180.0, help="seconds `up` waits for Bolt (default: %(default)s)"
    )
    neo4j.add_argument("--json", action="store_true", help="status as JSON")
    neo4j.set_defaults(handler=_cmd_neo4j)

    try:
        from memgraph.bench.cli import add_bench_parser
    except ImportError:
        pass
    else:
        add_bench_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line and return its exit code."""
    args = build_parser().parse_args(argv)
    level = logging.WARNING - 10 * min(args.verbose, 2) if args.verbose else logging.INFO
    logging.basicConfig(level=level, format="%(levelname)s: %(message)s", stream=sys.stderr)
    if args.verbose < 2:
        for noisy in ("neo4j", "sentence_transformers", "httpx", "urllib3"):
            logging.getLogger(noisy).setLevel(logging.WARNING)
    try:
        return int(args.handler(args))
    except MemgraphError as e:
        logger.error("%s", e)
        return 2
    except KeyboardInterrupt:
        logger.error("interrupted; rerun the same command to resume")
        return 130


if __name__ == "__main__":
    sys.exit(main())
