"""Benchmarks of memgraph's retrieval quality, latency and ingest speed (``memgraph bench``)."""
