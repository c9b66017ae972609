"""Ingest pipeline: readers for conversation formats, EDU extractors, checkpointed writes."""
