#!/usr/bin/env bash
# Install memgraph into .venv, start the local Neo4j server, ingest a
# conversation and query it.
#
#   scripts/quickstart.sh [CONVERSATION_FILE] [QUESTION]
#
# Defaults: the sample conversation shipped in examples/ and a question about it.
# With NEO4J_URI set, that server is used instead of the local one.
set -euo pipefail
cd "$(dirname "$0")/.."

file="${1:-examples/sample_conversation.json}"
question="${2:-What did Ana make in her pottery class?}"
space="${MEMGRAPH_SPACE:-quickstart}"

if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e .

if [ -z "${NEO4J_URI:-}" ]; then
  .venv/bin/memgraph neo4j up
fi
.venv/bin/memgraph ingest "$file" --space "$space"
.venv/bin/memgraph query "$question" --space "$space" -k 8
