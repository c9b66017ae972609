"""Command-line options for chat models: the LLM extractor of ``ingest`` and the seed filter of ``query``."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from memgraph.errors import ConfigurationError

if TYPE_CHECKING:
    from ingest.pipeline import IngestReport

_DEFAULT_CONCURRENCY = 4


def add_ingest_options(parser: argparse.ArgumentParser) -> None:
    """Add ``--extractor``, ``--llm``, ``--llm-concurrency`` and ``--llm-cache`` to the ``ingest`` parser."""
    parser.add_argument(
        "--extractor",
        choices=["spacy", "llm"],
        default="spacy",
        help="EDU extractor: the offline spaCy one, or a chat model given by --llm (default: %(default)s)",
    )
    parser.add_argument(
        "--llm",
        metavar="PROVIDER:MODEL",
        help="chat model of --extractor llm, e.g. openai:gpt-4o-mini; needs `pip install langchain` and the "
        "provider's package (e.g. langchain-openai), with its credentials in the usual variables (e.g. OPENAI_API_KEY)",
    )
    parser.add_argument(
        "--llm-concurrency",
        type=int,
        default=_DEFAULT_CONCURRENCY,
        metavar="N",
        help="sessions extracted by the chat model at once (default: %(default)s)",
    )
    parser.add_argument(
        "--llm-cache",
        metavar="PATH",
        help="SQLite file of cached chat model outputs (default: llm-cache.sqlite in the memgraph data folder)",
    )


def add_query_options(parser: argparse.ArgumentParser) -> None:
    """Add ``--llm`` to the ``query`` parser."""
    parser.add_argument(
        "--llm",
        metavar="PROVIDER:MODEL",
        help="chat model that drops seed EDUs irrelevant to the query before graph propagation, e.g. "
        "openai:gpt-4o-mini (default: none, every seed is kept)",
    )


def extractor_from_args(args: argparse.Namespace) -> Any | None:
    """Return the LLM extractor the ``ingest`` options ask for, or None for the default spaCy extractor.

    Raises:
        ConfigurationError: ``--llm`` and ``--extractor`` do not fit together,
            or the chat model cannot be created.
    """
    if args.extractor != "llm":
        if args.llm:
            raise ConfigurationError(
                f"--llm {args.llm} is set, but the extractor is {args.extractor}; add --extractor llm"
            )
        return None
    if not args.llm:
        raise ConfigurationError(
            "--extractor llm needs a chat model: add --llm PROVIDER:MODEL, e.g. --llm openai:gpt-4o-mini"
        )
    if args.llm_concurrency < 1:
        raise ConfigurationError(f"--llm-concurrency must be at least 1, got {args.llm_concurrency}")

    from ingest.extractors.llm_extractor import LLMExtractor
    from memgraph.llm.chat_models import create_chat_model, parse_model_spec

    provider, model = parse_model_spec(args.llm)
    return LLMExtractor(
        create_chat_model(args.llm),
        model_id=f"{provider}:{model}",
        cache=args.llm_cache or True,
        concurrency=args.llm_concurrency,
    )


def seed_filter_from_args(args: argparse.Namespace) -> Any | None:
    """Return the chat model of ``query --llm``, or None when the option is not set.

    Raises:
        ConfigurationError: the chat model cannot be created.
    """
    if not args.llm:
        return None
    from memgraph.llm.chat_models import create_chat_model

    return create_chat_model(args.llm)


def usage_line(report: IngestReport, model: str) -> str:
    """Describe the chat model calls and tokens of an ingest job in one line."""
    return (
        f"LLM {model}: {report.llm_calls} calls ({report.llm_rejected_outputs} responses rejected, "
        f"{report.llm_retries} retries after rate limits or timeouts), "
        f"{report.llm_cache_hits} sessions from the cache, "
        f"{report.llm_input_tokens} input and {report.llm_output_tokens} output tokens"
    )
