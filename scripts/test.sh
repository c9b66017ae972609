#!/usr/bin/env bash
# Install memgraph with its test dependencies into .venv, make sure a Neo4j
# server runs, and run the unit and integration tests against it.
#
#   scripts/test.sh [PYTEST_ARGS...]
#
# Neo4j: NEO4J_URI if set; else Testcontainers where a Docker engine responds;
# else the local server (Java 17 + Maven), started here and stopped at the end
# if it was not already running.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e ".[test]"

started_local=0
if [ -z "${NEO4J_URI:-}" ] && ! docker info >/dev/null 2>&1; then
  if ! .venv/bin/memgraph neo4j status >/dev/null; then
    .venv/bin/memgraph neo4j up
    started_local=1
  fi
fi
stop_local() {
  if [ "$started_local" = 1 ]; then
    .venv/bin/memgraph neo4j down || true
  fi
}
trap stop_local EXIT

.venv/bin/python -m pytest "$@"
