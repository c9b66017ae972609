"""Errors raised by EDU extractors."""

from __future__ import annotations


class ExtractorError(Exception):
    """An extractor cannot run, e.g. because its model is not installed."""
