"""Faults during an ingest: no server, a server restart, a killed process, bad sessions, a wrong embedder.

Each fault must leave either the whole session or nothing of it, keep the
sessions stored before, and let a rerun finish with the graph an
uninterrupted run gives.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from neo4j import GraphDatabase, NotificationMinimumSeverity

from ingest.extractors.base import ExtractionContext
from ingest.pipeline import ingest_conversations
from ingest.writer import SessionWriter, ingest_checkpoint
from memgraph import cypher
from memgraph.config import Neo4jSettings
from memgraph.errors import ConfigurationError, Neo4jUnavailableError, SchemaMismatchError
from memgraph.local_neo4j import LocalNeo4j
from memgraph.memory import Memory
from memgraph.models import ArgumentKind, Conversation, ExtractedArgument, ExtractedEDU, Session, Turn
from memgraph.store import GraphStore
from tests.conftest import SAMPLE_CONVERSATION
from tests.fakes import TurnExtractor
from tests.graph_snapshot import Snapshot, differences, take_snapshot
from tests.hashing_embedder import HashingEmbedder

ACTIVITIES = ["pottery", "rowing", "chess", "baking", "climbing", "singing", "fencing", "gardening", "sailing", "judo"]
TEACHERS = ["Marco", "Sofia", "Kenji", "Amara", "Lars", "Priya", "Oskar", "Noemi", "Rafael", "Ingrid"]


def _conversation(conversation_id: str, sessions: int, turns: int = 3) -> Conversation:
    """Build a two-speaker conversation whose sessions each talk about one activity and its teacher."""
    built = []
    for number in range(1, sessions + 1):
        activity = ACTIVITIES[(number - 1) % len(ACTIVITIES)]
        teacher = TEACHERS[(number - 1) % len(TEACHERS)]
        texts = [
            f"Last week I started a {activity} course with my friend Lucia in Porto.",
            f"The {activity} teacher, {teacher}, says I have talent.",
            f"We will meet again for {activity} on Friday evening.",
            f"My brother Tomas thinks {activity} is a waste of time.",
        ]
        session_turns = tuple(
            Turn(id=f"D{number}:{position}", speaker="Ana" if position % 2 else "Ben", text=texts[(position - 1) % 4])
            for position in range(1, turns + 1)
        )
        built.append(
            Session(
                id=f"session_{number}",
                index=number,
                started_at=datetime(2024, 1, 1, 18) + timedelta(days=7 * number),
                turns=session_turns,
            )
        )
    return Conversation(id=conversation_id, speakers=("Ana", "Ben"), sessions=tuple(built))


def _write_generic(path: Path, conversation: Conversation) -> Path:
    sessions = [
        {
            "id": session.id,
            "date": session.started_at.isoformat(),
            "turns": [{"id": turn.id, "speaker": turn.speaker, "text": turn.text} for turn in session.turns],
        }
        for session in conversation.sessions
    ]
    path.write_text(json.dumps({"id": conversation.id, "sessions": sessions}), encoding="utf-8")
    return path


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _session_nodes(snapshot: Snapshot, session_key: str) -> list[tuple[str, str]]:
    return [
        key
        for key, props in snapshot.nodes.items()
        if key == ("Session", session_key) or props.get("session_id") == session_key
    ]


def _marked_session_names(memory: Memory, conversation_id: str) -> list[str]:
    records = memory.store.read(
        "ingest.ingested_sessions",
        space=memory.space,
        conversation_id=conversation_id,
        checkpoint=ingest_checkpoint(memory.extractor.checkpoint),
    )
    return [record["name"] for record in records]


def _unused_arguments(snapshot: Snapshot) -> set[tuple[str, str]]:
    used = {end for _, kind, end in snapshot.relationships if kind == "HAS_ARGUMENT"}
    return {key for key in snapshot.nodes if key[0] == "Argument"} - used


# -- no server --------------------------------------------------------------


def test_closed_port_error_says_how_to_start() -> None:
    uri = f"bolt://127.0.0.1:{_free_port()}"
    memory = Memory(space="unreachable", uri=uri, embedder=HashingEmbedder(), extractor=TurnExtractor())

    with pytest.raises(Neo4jUnavailableError) as raised:
        memory.ingest(SAMPLE_CONVERSATION, progress=False)

    message = str(raised.value)
    assert uri in message
    assert "memgraph neo4j up" in message
    assert "NEO4J_URI" in message


def test_cli_with_closed_port_exits_cleanly(tmp_path: Path) -> None:
    uri = f"bolt://127.0.0.1:{_free_port()}"
    env = {**os.environ, "NEO4J_URI": uri, "MEMGRAPH_HOME": str(tmp_path)}

    completed = subprocess.run(
        [sys.executable, "-m", "memgraph.cli", "stats", "--space", "unreachable"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert completed.returncode == 2
    assert "Traceback" not in completed.stderr
    assert f"no Neo4j server responds at {uri} (environment)" in completed.stderr
    assert "memgraph neo4j up" in completed.stderr


def test_no_server_configured_says_how_to_start(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NEO4J_URI", raising=False)
    monkeypatch.setenv("MEMGRAPH_HOME", str(tmp_path))
    memory = Memory(space="nowhere", embedder=HashingEmbedder())

    with pytest.raises(ConfigurationError) as raised:
        memory.stats()

    assert "memgraph neo4j up" in str(raised.value)
    assert "NEO4J_URI" in str(raised.value)


# -- wrong embedder ---------------------------------------------------------


def test_other_dimension_rejected_before_writes(make_memory: Any) -> None:
    memory = make_memory(extractor=TurnExtractor(), embedder=HashingEmbedder())
    memory.ingest(_conversation("dims", 2), progress=False)
    before = take_snapshot(memory.store, memory.space)
    indexes_before = memory.store.read("schema_check.vector_dimensions")
    wrong = make_memory(space=memory.space, extractor=TurnExtractor(), embedder=HashingEmbedder(dimensions=8))
    fresh = make_memory(extractor=TurnExtractor(), embedder=HashingEmbedder(dimensions=8))

    with pytest.raises(SchemaMismatchError) as raised:
        wrong.ingest(_conversation("dims", 4), progress=False)
    with pytest.raises(SchemaMismatchError):
        wrong.search("pottery", k=3)
    with pytest.raises(SchemaMismatchError):
        fresh.ingest(_conversation("dims", 1), progress=False)

    assert "8-dimensional" in str(raised.value)
    assert "Use the embedder the database was built with" in str(raised.value)
    assert differences(before, take_snapshot(memory.store, memory.space)) == []
    assert take_snapshot(fresh.store, fresh.space).node_count == 0
    assert sorted(memory.store.read("schema_check.vector_dimensions"), key=str) == sorted(indexes_before, key=str)


# -- failed sessions --------------------------------------------------------


class _FaultyTransaction:
    """Runs statements on a real transaction, then raises once ``fail_after`` ran for the session ``session_key``."""

    def __init__(self, tx: Any, fail_after: str, session_key: str) -> None:
        self._tx = tx
        self._fail_after = cypher.query(fail_after)
        self._session_key = session_key

    def run(self, query: str, parameters: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        result = self._tx.run(query, parameters, **kwargs)
        session_key = (parameters or {}).get("session_id", kwargs.get("session_id"))
        if query == self._fail_after and session_key == self._session_key:
            result.consume()
            raise ValueError(f"simulated failure after {query.split()[0]} for {session_key}")
        return result


class _FaultyStore(GraphStore):
    """A real store whose transactions fail for one session after a given statement."""

    def __init__(self, settings: Neo4jSettings, driver: Any, fail_after: str, session_key: str) -> None:
        super().__init__(settings, driver=driver)
        self._fail_after = fail_after
        self._session_key = session_key

    def transaction(self, work: Callable[[Any], Any]) -> Any:
        return super().transaction(lambda tx: work(_FaultyTransaction(tx, self._fail_after, self._session_key)))


# create_edus runs in the transaction of the session's nodes, mark_session_ingested last in the second one.
@pytest.mark.parametrize("fail_after", ["ingest.create_edus", "ingest.mark_session_ingested"])
def test_failed_write_leaves_nothing_of_session(
    make_memory: Any, neo4j_settings: Neo4jSettings, neo4j_driver: Any, fail_after: str
) -> None:
    memory = make_memory(extractor=TurnExtractor(), embedder=HashingEmbedder())
    memory.store.apply_schema(memory.embedder.dimensions)
    store = _FaultyStore(neo4j_settings, neo4j_driver, fail_after, "faulty/session_2")
    conversation = _conversation("faulty", 3)

    report = ingest_conversations(
        [conversation],
        writer=SessionWriter(store, memory.space),
        extractor=TurnExtractor(),
        embedder=memory.embedder,
        progress=False,
    )

    snapshot = take_snapshot(memory.store, memory.space)
    assert report.sessions_failed == ["faulty/session_2"]
    assert "simulated failure" in report.errors[0]
    assert _session_nodes(snapshot, "faulty/session_2") == []
    assert len(_session_nodes(snapshot, "faulty/session_1")) == 1 + 3 + 3
    assert len(_session_nodes(snapshot, "faulty/session_3")) == 1 + 3 + 3
    assert _unused_arguments(snapshot) == set()
    assert memory.stats()["sessions"] == 2


class _FailingVersion(TurnExtractor):
    def extract(self, session: Session, context: ExtractionContext) -> list[ExtractedEDU]:
        if session.id == "session_2":
            raise RuntimeError("model crashed on this session")
        return super().extract(session, context)


def test_failed_reextraction_keeps_stored_session(make_memory: Any) -> None:
    first = make_memory(extractor=TurnExtractor(version="1"), embedder=HashingEmbedder())
    first.ingest(_conversation("kept", 3), progress=False)
    before = take_snapshot(first.store, first.space)
    second = make_memory(space=first.space, extractor=_FailingVersion(version="2"), embedder=HashingEmbedder())

    report = second.ingest(_conversation("kept", 3), progress=False)

    after = take_snapshot(first.store, first.space)
    kept = _session_nodes(before, "kept/session_2")
    assert report.sessions_failed == ["kept/session_2"]
    assert report.sessions == 2
    assert sorted(_session_nodes(after, "kept/session_2")) == sorted(kept)
    assert all(after.nodes[key] == before.nodes[key] for key in kept)


def test_oversized_turn_fails_only_its_session(make_memory: Any, tmp_path: Path) -> None:
    # The default extractor is spaCy, whose pipeline rejects texts over 1,000,000 characters.
    memory = make_memory(embedder=HashingEmbedder())
    conversation = _conversation("huge", 3, turns=2)
    huge_turn = Turn(id="D2:3", speaker="Ana", text="I pasted the whole log here. " * 36_200)
    sessions = list(conversation.sessions)
    sessions[1] = sessions[1].model_copy(update={"turns": (*sessions[1].turns, huge_turn)})
    path = _write_generic(tmp_path / "huge.json", conversation.model_copy(update={"sessions": tuple(sessions)}))

    report = memory.ingest(path, progress=False)

    assert len(huge_turn.text) > 1_000_000
    assert report.sessions == 2
    assert report.sessions_failed == ["huge/session_2"]
    assert f"file {path}, conversation 'huge' session 'session_2' turn 'D2:3', field 'text'" in report.errors[0]
    assert sorted(_marked_session_names(memory, "huge")) == ["session_1", "session_3"]
    assert _session_nodes(take_snapshot(memory.store, memory.space), "huge/session_2") == []


class _ProcessKilled(BaseException):
    """Stands for the end of the process: no handler of the product may catch it."""


class _DyingStore(GraphStore):
    """A real store whose process "dies" when it starts its ``dies_at``-th transaction (counted from 0)."""

    def __init__(self, settings: Neo4jSettings, driver: Any, dies_at: int) -> None:
        super().__init__(settings, driver=driver)
        self._dies_at = dies_at
        self._started = 0

    def transaction(self, work: Callable[[Any], Any]) -> Any:
        if self._started == self._dies_at:
            raise _ProcessKilled
        self._started += 1
        return super().transaction(work)


HARBOUR_PLACES = {1: "Grand Porto Harbour Fish Market", 2: "Grand Porto Harbour Fish Market Hall", 3: "Lisbon"}


class _HarbourExtractor(TurnExtractor):
    """Adds a long place name per session; the names of sessions 1 and 2 are near-synonyms."""

    def extract(self, session: Session, context: ExtractionContext) -> list[ExtractedEDU]:
        place = ExtractedArgument(name=HARBOUR_PLACES[session.index], kind=ArgumentKind.PLACE)
        return [
            edu.model_copy(update={"arguments": (*edu.arguments, place)}) for edu in super().extract(session, context)
        ]


def test_death_between_transactions_links_on_rerun(
    make_memory: Any, neo4j_settings: Neo4jSettings, neo4j_driver: Any
) -> None:
    conversation = _conversation("harbour", 3)
    memory = make_memory(extractor=_HarbourExtractor(), embedder=HashingEmbedder())
    reference = make_memory(extractor=_HarbourExtractor(), embedder=HashingEmbedder())
    memory.store.apply_schema(memory.embedder.dimensions)
    # Transactions 0 and 1 write and finish session_1, 2 writes session_2's nodes, 3 would link and mark it.
    dying = _DyingStore(neo4j_settings, neo4j_driver, dies_at=3)

    with pytest.raises(_ProcessKilled):
        ingest_conversations(
            [conversation],
            writer=SessionWriter(dying, memory.space),
            extractor=_HarbourExtractor(),
            embedder=memory.embedder,
            progress=False,
        )
    report = memory.ingest(conversation, progress=False)
    reference.ingest(conversation, progress=False)

    expected = take_snapshot(reference.store, reference.space)
    hall, market = (
        ("Argument", "place:grand porto harbour fish market hall"),
        ("Argument", "place:grand porto harbour fish market"),
    )
    assert (hall, "SIMILAR_TO", market) in expected.relationships
    assert report.sessions_skipped == 1
    assert report.sessions == 2
    assert differences(expected, take_snapshot(memory.store, memory.space)) == []


# -- a restarted server -----------------------------------------------------


@pytest.fixture(scope="module")
def own_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LocalNeo4j, int]]:
    """A local Neo4j of this module alone, so that restarting it disturbs no other test."""
    if shutil.which("java") is None or shutil.which("mvn") is None:
        pytest.skip("the restart tests start their own Neo4j, which needs Java 17+ and Maven")
    home = tmp_path_factory.mktemp("own-neo4j")
    cached_build = LocalNeo4j().home / "build"
    if (cached_build / "classpath.txt").exists():
        # Reuse the class path Maven resolved for the default server instead of resolving it again.
        shutil.copytree(cached_build, home / "build")
    server = LocalNeo4j(home=home, heap_mib=512, page_cache_mib=128)
    port = _free_port()
    server.up(port=port)
    try:
        yield server, port
    finally:
        server.down()


class _InterruptingExtractor(TurnExtractor):
    """Calls ``interrupt`` once, before extracting the session ``at``."""

    def __init__(self, at: str, interrupt: Callable[[], object]) -> None:
        super().__init__()
        self._at = at
        self._interrupt: Callable[[], object] | None = interrupt

    def extract(self, session: Session, context: ExtractionContext) -> list[ExtractedEDU]:
        if session.id == self._at and self._interrupt is not None:
            interrupt, self._interrupt = self._interrupt, None
            interrupt()
        return super().extract(session, context)


def _own_memory(port: int, space: str, extractor: TurnExtractor, retry_seconds: float) -> Memory:
    driver = GraphDatabase.driver(
        f"bolt://127.0.0.1:{port}",
        auth=("neo4j", ""),
        max_transaction_retry_time=retry_seconds,
        notifications_min_severity=NotificationMinimumSeverity.OFF,
    )
    return Memory(
        space=space, uri=f"bolt://127.0.0.1:{port}", driver=driver, embedder=HashingEmbedder(), extractor=extractor
    )


def _reference(port: int, conversation: Conversation) -> Snapshot:
    memory = _own_memory(port, f"reference-{uuid.uuid4().hex[:8]}", TurnExtractor(), retry_seconds=30)
    try:
        memory.ingest(conversation, progress=False)
        return take_snapshot(memory.store, memory.space)
    finally:
        memory.store.driver.close()


@pytest.mark.slow
def test_restart_mid_ingest_is_retried(own_server: tuple[LocalNeo4j, int]) -> None:
    server, port = own_server
    conversation = _conversation("restarted", 5)
    pids: list[int | None] = [server.status().pid]
    restarter: list[threading.Thread] = []

    def restart() -> None:
        server.down()
        thread = threading.Thread(target=lambda: pids.append(server.up(port=port).pid))
        thread.start()
        restarter.append(thread)

    # The retry window outlasts a restart, so the driver's own retries must carry the job through it.
    memory = _own_memory(port, f"restart-{uuid.uuid4().hex[:8]}", _InterruptingExtractor("session_3", restart), 300)
    try:
        report = memory.ingest(conversation, progress=False)
        restarter[0].join(timeout=300)
        snapshot = take_snapshot(memory.store, memory.space)
    finally:
        memory.store.driver.close()

    assert len(pids) == 2
    assert pids[0] != pids[1]
    assert report.sessions == 5
    assert report.sessions_failed == []
    assert differences(_reference(port, conversation), snapshot) == []


@pytest.mark.slow
def test_server_down_stops_job_and_rerun_resumes(own_server: tuple[LocalNeo4j, int]) -> None:
    server, port = own_server
    conversation = _conversation("resumed", 5)
    space = f"resume-{uuid.uuid4().hex[:8]}"
    memory = _own_memory(port, space, _InterruptingExtractor("session_3", server.down), retry_seconds=1)

    try:
        with pytest.raises(Neo4jUnavailableError) as raised:
            memory.ingest(conversation, progress=False)
    finally:
        memory.store.driver.close()
    server.up(port=port)
    rerun = _own_memory(port, space, TurnExtractor(), retry_seconds=30)
    try:
        report = rerun.ingest(conversation, progress=False)
        snapshot = take_snapshot(rerun.store, rerun.space)
    finally:
        rerun.store.driver.close()

    assert "ingest stopped at resumed/session_3" in str(raised.value)
    assert "Rerun the same ingest to resume" in str(raised.value)
    assert report.sessions_skipped == 2
    assert report.sessions == 3
    assert differences(_reference(port, conversation), snapshot) == []


# -- a killed process -------------------------------------------------------


def _marked_sessions(store: GraphStore, space: str, conversation_id: str) -> int:
    records = store.read(
        "ingest.ingested_sessions",
        space=space,
        conversation_id=conversation_id,
        checkpoint=ingest_checkpoint("spacy:3"),
    )
    return len(records)


@pytest.mark.slow
def test_killed_ingest_reruns_to_same_graph(make_memory: Any, neo4j_settings: Neo4jSettings, tmp_path: Path) -> None:
    conversation = _conversation("killed", 6, turns=3)
    path = _write_generic(tmp_path / "killed.json", conversation)
    victim = make_memory()
    reference = make_memory()
    command = [
        str(Path(sys.executable).parent / "memgraph"),
        "ingest",
        str(path),
        "--space",
        victim.space,
        "--uri",
        neo4j_settings.uri,
        "--no-progress",
    ]
    env = {
        **os.environ,
        "NEO4J_USERNAME": neo4j_settings.username,
        "NEO4J_PASSWORD": neo4j_settings.password.get_secret_value(),
    }

    with open(tmp_path / "first.log", "wb") as log:
        process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 300
        while process.poll() is None and time.monotonic() < deadline:
            if _marked_sessions(victim.store, victim.space, "killed") >= 2:
                os.kill(process.pid, signal.SIGKILL)
                break
            time.sleep(0.2)
        exit_code = process.wait(timeout=60)
    # A commit the killed process had already sent may still be in flight on the server.
    time.sleep(1.0)
    stored_when_killed = _marked_sessions(victim.store, victim.space, "killed")
    rerun = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600, check=False)
    reference.ingest(path, progress=False)

    assert exit_code == -signal.SIGKILL
    assert 2 <= stored_when_killed < 6
    assert rerun.returncode == 0
    assert "already done" in rerun.stdout
    assert f"({stored_when_killed} already done)" in rerun.stdout
    assert differences(take_snapshot(reference.store, reference.space), take_snapshot(victim.store, victim.space)) == []
