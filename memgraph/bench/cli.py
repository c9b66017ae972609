"""The ``memgraph bench`` command: runs a benchmark, prints a table and writes the full result as JSON."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from memgraph.errors import ConfigurationError

logger = logging.getLogger(__name__)

_BASELINE_FAMILIES = ("bm25", "dense-turns", "rrf")


def add_bench_parser(subparsers: Any) -> None:
    """Add ``bench locomo`` to the ``memgraph`` command's subparsers."""
    bench = subparsers.add_parser("bench", help="measure retrieval quality, latency and ingest speed")
    benchmarks = bench.add_subparsers(dest="benchmark", required=True)

    locomo = benchmarks.add_parser(
        "locomo",
        help="LoCoMo evidence retrieval: memgraph against BM25, dense and fused turn baselines",
        description="Ingest each LoCoMo conversation into a fresh space, ask its questions of memgraph and of "
        "turn-level baselines, and score the retrieved source turns against the annotated evidence turns.",
    )
    locomo.add_argument(
        "--data", required=True, type=Path, help="LoCoMo file (either layout) or folder of *.json files"
    )
    locomo.add_argument("--out", type=Path, help="write the full result (config, machine, per question) as JSON here")
    locomo.add_argument(
        "--mode",
        choices=["dense", "graph", "all"],
        default="all",
        help="memgraph search modes to run (default: %(default)s)",
    )
    locomo.add_argument(
        "-k",
        dest="cutoffs",
        type=int,
        nargs="+",
        default=[5, 10, 20],
        help="rank cutoffs in distinct turns for recall@k and hit@k (default: 5 10 20)",
    )
    locomo.add_argument(
        "--budget",
        dest="budgets",
        type=int,
        nargs="+",
        default=[500, 1000],
        help="context budgets in tokens for budget recall (default: 500 1000)",
    )
    locomo.add_argument(
        "--depth",
        type=int,
        default=100,
        help="hits (EDUs for memgraph, turns for baselines) requested per query (default: %(default)s)",
    )
    locomo.add_argument(
        "--space-prefix",
        default="bench",
        help="prefix of the memory spaces, named <prefix>-<conversation>-<run id> (default: %(default)s)",
    )
    locomo.add_argument("--limit-questions", type=int, help="score at most this many questions per conversation")
    locomo.add_argument("--keep", action="store_true", help="keep the memory spaces instead of deleting them")
    locomo.add_argument(
        "--extractor",
        choices=["spacy", "turn"],
        default="spacy",
        help="EDU extractor: spacy (memgraph's default) or turn (one EDU per turn) (default: %(default)s)",
    )
    locomo.add_argument("--no-baselines", dest="baselines", action="store_false", help="run memgraph only")
    locomo.add_argument("--uri", help="Neo4j URI; default: $NEO4J_URI, else the local server")
    locomo.add_argument("--database", help="Neo4j database; default: $NEO4J_DATABASE, else the server's default")
    locomo.add_argument("--model", help="sentence-transformers model name or local path (default: all-MiniLM-L6-v2)")
    locomo.set_defaults(handler=_cmd_locomo)


def _cmd_locomo(args: argparse.Namespace) -> int:
    from memgraph.bench.locomo import MEMGRAPH_MODES, BenchConfig, run_locomo

    if not args.verbose:
        _quiet_bm25s()

    try:
        config = BenchConfig(
            data=args.data,
            modes=MEMGRAPH_MODES if args.mode == "all" else (args.mode,),
            cutoffs=tuple(args.cutoffs),
            budgets=tuple(args.budgets),
            depth=args.depth,
            space_prefix=args.space_prefix,
            limit_questions=args.limit_questions,
            keep=args.keep,
            extractor=args.extractor,
            baselines=args.baselines,
            model=args.model,
            uri=args.uri,
            database=args.database,
        )
    except ValidationError as e:
        raise ConfigurationError(f"invalid benchmark option: {e.errors()[0]['msg']}") from e

    result = run_locomo(config)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        logger.info("full result written to %s", args.out)
    sys.stdout.write(render_locomo(result))
    return 1 if result["aggregate"]["ingest"]["sessions_failed"] else 0


def _quiet_bm25s() -> None:
    """Raise bm25s's log level, which bm25s sets to DEBUG on import, so index builds stay out of the log."""
    try:
        import bm25s  # noqa: F401
    except ImportError:
        return
    logging.getLogger("bm25s").setLevel(logging.WARNING)


def render_locomo(result: dict[str, Any]) -> str:
    """Format a LoCoMo result as plain-text tables: overall metrics, per-category recall, cost."""
    aggregate = result["aggregate"]
    config = result["config"]
    methods: dict[str, Any] = aggregate["methods"]
    budgets = config["budgets"]
    questions = aggregate["questions"]
    lines = [
        f"LoCoMo retrieval: {aggregate['conversations']} conversations, {questions['scored']} questions scored "
        f"({questions['without_evidence']} without evidence and {questions['without_reachable_evidence']} whose "
        f"evidence names no turn were skipped; {aggregate['evidence']['ids_unreachable']} evidence ids unreachable, "
        f"{aggregate['evidence']['ids_rewritten']} rewritten)",
        f"embedder {config['embedder']}, extractor {config['extractor_checkpoint']}, {config['depth']} hits per query; "
        f"budgets counted with the {result['tokenizer']}",
        "",
    ]

    overall = {name: method["metrics"].get("overall", {}) for name, method in methods.items()}
    count = next((row.get("questions", 0) for row in overall.values() if row), 0)
    lines.append(f"Overall, categories 1-4 ({count} questions); latency is warm, per query")
    columns = [(f"recall@{k}", f"R@{k}") for k in config["cutoffs"]]
    columns += [(f"hit@{k}", f"H@{k}") for k in config["cutoffs"]]
    columns += [("ndcg@10", "NDCG@10")]
    columns += [(f"budget_recall@{budget}", f"R<={budget}t") for budget in budgets]
    header = f"{'method':<18}" + "".join(f"{label:>9}" for _, label in columns) + f"{'p50 ms':>9}{'p95 ms':>9}"
    lines.append(header)
    for name, row in overall.items():
        latency = methods[name]["latency"]
        cells = "".join(f"{_cell(row.get(key)):>9}" for key, _ in columns)
        lines.append(f"{name:<18}{cells}{_cell(latency.get('p50_ms'), 1):>9}{_cell(latency.get('p95_ms'), 1):>9}")
    lines.append("")

    lines += _category_table(methods, "recall@10", "Recall@10 by category")
    lines += _category_table(
        methods, f"budget_recall@{max(budgets)}", f"Recall within {max(budgets)} tokens by category"
    )
    lines += _depth_table(methods, max(config["cutoffs"]), budgets)
    lines += _comparison(methods, budgets)
    lines += _cost(result)
    return "\n".join(lines) + "\n"


def _category_table(methods: dict[str, Any], key: str, title: str) -> list[str]:
    categories = list(dict.fromkeys(name for method in methods.values() for name in method["metrics"]))
    if not categories:
        return []
    lines = [title, f"{'method':<18}" + "".join(f"{name:>13}" for name in categories)]
    first = next(iter(methods.values()))["metrics"]
    lines.append(
        f"{'(questions)':<18}" + "".join(f"{first.get(name, {}).get('questions', 0):>13}" for name in categories)
    )
    for name, method in methods.items():
        lines.append(f"{name:<18}" + "".join(f"{_cell(method['metrics'].get(c, {}).get(key)):>13}" for c in categories))
    return [*lines, ""]


def _depth_table(methods: dict[str, Any], deepest: int, budgets: list[int]) -> list[str]:
    """Show whether the hits were enough: distinct turns reached and budgets filled, overall."""
    keys = [("distinct_turns", "turns"), (f"turns_reached@{deepest}", f">={deepest} turns")]
    keys += [(f"budget_filled@{budget}", f"filled {budget}t") for budget in budgets]
    lines = [
        "Retrieval depth, overall: mean distinct turns reached, share of questions reaching "
        f"{deepest} turns, share whose hits filled each budget",
        f"{'method':<18}" + "".join(f"{label:>13}" for _, label in keys),
    ]
    for name, method in methods.items():
        row = method["metrics"].get("overall", {})
        lines.append(f"{name:<18}" + "".join(f"{_cell(row.get(key), 2):>13}" for key, _ in keys))
    return [*lines, ""]


def best_baselines(methods: dict[str, Any], key: str = "recall@10") -> dict[str, str]:
    """Pick, per baseline family, the variant (with or without session dates) with the higher overall ``key``."""
    best = {}
    for family in _BASELINE_FAMILIES:
        variants = [name for name in (family, f"{family}+date") if name in methods]
        if variants:
            best[family] = max(variants, key=lambda name: methods[name]["metrics"].get("overall", {}).get(key, -1.0))
    return best


def _comparison(methods: dict[str, Any], budgets: list[int]) -> list[str]:
    """Compare memgraph's graph mode with the strongest baseline per metric and category.

    The strongest baseline is the best of every baseline variant on that
    metric and category, so each gap is measured against the hardest opponent.
    """
    chosen = best_baselines(methods)
    if "memgraph-graph" not in methods or not chosen:
        return []
    baselines = [name for name in methods if not name.startswith("memgraph-")]
    lines = [
        "Baseline variants kept (better overall recall@10, with or without session dates): "
        + ", ".join(chosen.values()),
        "memgraph-graph minus the strongest baseline variant on each metric and category:",
    ]
    for key in ("recall@10", f"budget_recall@{max(budgets)}"):
        parts = []
        for category in ("overall", "multi-hop", "temporal"):
            ours = methods["memgraph-graph"]["metrics"].get(category, {}).get(key)
            scored = [name for name in baselines if key in methods[name]["metrics"].get(category, {})]
            if ours is None or not scored:
                continue
            strongest = max(scored, key=lambda name: methods[name]["metrics"][category][key])
            parts.append(f"{category} {ours - methods[strongest]['metrics'][category][key]:+.3f} ({strongest})")
        lines.append(f"  {key}: " + ", ".join(parts))
    return [*lines, ""]


def _cost(result: dict[str, Any]) -> list[str]:
    ingest = result["aggregate"]["ingest"]
    machine = result["machine"]
    speeds = ", ".join(
        f"{stage} {_cell(ingest[key], 1)}"
        for stage, key in (
            ("extraction", "turns_per_second_extract"),
            ("embedding", "turns_per_second_embed"),
            ("Neo4j writing", "turns_per_second_write"),
        )
    )
    lines = [
        f"Ingest into memgraph ({result['config']['extractor_checkpoint']}): {ingest['turns']} turns, "
        f"{ingest['edus']} EDUs in {ingest['seconds']:.1f} s = {_cell(ingest['turns_per_second'], 1)} turns/s; "
        f"per stage in turns/s: {speeds}",
        f"Peak RSS of the benchmark process: {result['peak_rss_mb']:.0f} MiB (the Neo4j server not included); "
        f"{machine['cpu_count']} CPUs, {machine['platform']}, Python {machine['python']}",
        f"1-minute load average at start {_first(machine.get('load_average'))} and at end "
        f"{_first(machine.get('load_average_at_end'))}; above the CPU count, other work shared the CPUs "
        "and slowed latency and ingest",
    ]
    if ingest["sessions_failed"]:
        lines.append("FAILED sessions: " + ", ".join(ingest["sessions_failed"]))
    return lines


def _first(values: list[float] | None) -> str:
    return "-" if not values else f"{values[0]:.1f}"


def _cell(value: float | None, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"
