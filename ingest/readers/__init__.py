"""Readers that turn conversation files into :class:`memgraph.models.Conversation` objects."""

from ingest.readers.detect import read_conversations

__all__ = ["read_conversations"]
