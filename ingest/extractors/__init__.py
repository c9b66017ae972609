"""EDU extractors: each turns one session into EDUs with arguments and source turns."""

from ingest.extractors.base import ExtractionContext, Extractor

__all__ = ["ExtractionContext", "Extractor"]
