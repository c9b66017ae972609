"""A local Neo4j Community server for machines without Docker.

`memgraph neo4j up` resolves Neo4j 5.26 from Maven Central with Maven, runs it
embedded on Java 17 with Bolt on a loopback port, and keeps its data under the
user's data folder, so memory survives restarts. `down` stops it and `status`
reports it.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import time
from importlib import resources
from pathlib import Path

from pydantic import BaseModel

from memgraph import cypher
from memgraph.config import data_dir
from memgraph.errors import LocalNeo4jError

logger = logging.getLogger(__name__)

DEFAULT_PORT = 7687
_LAUNCHER_CLASS = "Launcher"
_MIN_JAVA = 17


class ServerStatus(BaseModel):
    """State of the local server."""

    running: bool
    pid: int | None = None
    port: int | None = None
    uri: str | None = None
    home: str
    log: str


def _resource(name: str) -> Path:
    return Path(str(resources.files("memgraph") / "_resources" / "neo4j" / name))


def _port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _bolt_answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1.0):
            return True
    except OSError:
        return False


def _database_answers(port: int) -> bool:
    """Tell whether the server runs a query, which it does only once its databases are online."""
    from neo4j import GraphDatabase
    from neo4j.exceptions import DriverError, Neo4jError

    try:
        with GraphDatabase.driver(f"bolt://127.0.0.1:{port}", auth=("neo4j", "")) as driver:
            driver.execute_query(cypher.query("health.ping"))
    except (DriverError, Neo4jError, OSError):
        return False
    return True


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    cmdline = Path(f"/proc/{pid}/cmdline")
    if cmdline.exists():
        # A recycled pid would belong to another program.
        return b"Launcher.java" in cmdline.read_bytes()
    return True


def _java_major_version(java: str) -> int:
    completed = subprocess.run([java, "-version"], capture_output=True, text=True, check=False)
    for token in completed.stderr.split():
        token = token.strip('"')
        if token[:1].isdigit():
            major = token.split(".")[0]
            if major == "1":
                return int(token.split(".")[1])
            return int(major)
    raise LocalNeo4jError(f"could not read the Java version from `{java} -version`: {completed.stderr.strip()}")


class LocalNeo4j:
    """The local Neo4j server of this user.

    Args:
        home: Folder for the server's data, logs and class path; defaults to
            ``<user data dir>/neo4j`` (``MEMGRAPH_HOME`` moves the parent).
        heap_mib: Java heap size.
        page_cache_mib: Neo4j page cache size.
    """

    def __init__(self, home: Path | None = None, heap_mib: int = 1024, page_cache_mib: int = 512) -> None:
        self.home = home or data_dir() / "neo4j"
        self.heap_mib = heap_mib
        self.page_cache_mib = page_cache_mib

    @property
    def _state_path(self) -> Path:
        return self.home / "server.json"

    @property
    def log_path(self) -> Path:
        return self.home / "logs" / "launcher.log"

    def _read_state(self) -> dict[str, int]:
        try:
            state = json.loads(self._state_path.read_text(encoding="utf-8"))
        except (FileNotFoundError, json.JSONDecodeError):
            return {}
        return {key: int(value) for key, value in state.items() if key in ("pid", "port")}

    def status(self) -> ServerStatus:
        """Report whether the server runs and where."""
        state = self._read_state()
        pid, port = state.get("pid"), state.get("port")
        running = bool(pid and port and _process_alive(pid) and _bolt_answers(port))
        return ServerStatus(
            running=running,
            pid=pid if running else None,
            port=port if running else None,
            uri=f"bolt://127.0.0.1:{port}" if running else None,
            home=str(self.home),
            log=str(self.log_path),
        )

    def up(self, port: int | None = None, timeout: float = 180.0) -> ServerStatus:
        """Start the server unless it runs, and wait until Bolt responds.

        The first start resolves Neo4j from Maven Central (about 100 MB into
        ``~/.m2``); later starts reuse it.

        Raises:
            LocalNeo4jError: Java 17+ or Maven is missing, the port is taken, or
                the server did not respond within ``timeout`` seconds.
        """
        current = self.status()
        if current.running:
            logger.info("local Neo4j already running at %s", current.uri)
            return current

        java = self._require_tool("java")
        if _java_major_version(java) < _MIN_JAVA:
            raise LocalNeo4jError(
                f"Neo4j 5.26 needs Java {_MIN_JAVA} or newer, but `{java}` is older. "
                "Install a JDK 17, or use Docker (docker/compose.yaml) or NEO4J_URI."
            )
        classpath = self._classpath()
        port = self._choose_port(port)

        (self.home / "logs").mkdir(parents=True, exist_ok=True)
        command = [
            java,
            f"-Xmx{self.heap_mib}m",
            "-cp",
            classpath,
            str(_resource("Launcher.java")),
            str(self.home / "dbms"),
            str(port),
            str(self.page_cache_mib),
        ]
        logger.info("starting local Neo4j on bolt://127.0.0.1:%d (data in %s)", port, self.home / "dbms")
        with open(self.log_path, "ab") as log:
            process = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True
            )
        self._state_path.write_text(json.dumps({"pid": process.pid, "port": port}), encoding="utf-8")

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                self._state_path.unlink(missing_ok=True)
                raise LocalNeo4jError(
                    f"local Neo4j exited with code {process.returncode} during start; "
                    f"see {self.log_path}:\n{self._log_tail()}"
                )
            if _bolt_answers(port) and _database_answers(port):
                logger.info("local Neo4j is up at bolt://127.0.0.1:%d (pid %d)", port, process.pid)
                return self.status()
            time.sleep(0.5)
        self._terminate(process.pid)
        raise LocalNeo4jError(
            f"local Neo4j did not respond on port {port} within {timeout:.0f} s; see {self.log_path}."
        )

    def down(self, timeout: float = 60.0) -> bool:
        """Stop the server; return False if it was not running."""
        state = self._read_state()
        pid = state.get("pid")
        if not pid or not _process_alive(pid):
            self._forget_pid()
            return False
        logger.info("stopping local Neo4j (pid %d)", pid)
        self._terminate(pid, timeout)
        self._forget_pid()
        return True

    def _forget_pid(self) -> None:
        # The port stays recorded so that the next `up` reuses it and clients keep their URI.
        port = self._read_state().get("port")
        if port:
            self._state_path.write_text(json.dumps({"port": port}), encoding="utf-8")
        else:
            self._state_path.unlink(missing_ok=True)

    def _terminate(self, pid: int, timeout: float = 60.0) -> None:
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not _process_alive(pid):
                return
            time.sleep(0.3)
        logger.warning("local Neo4j (pid %d) ignored SIGTERM for %.0f s; killing it", pid, timeout)
        os.kill(pid, signal.SIGKILL)

    def _require_tool(self, name: str) -> str:
        path = shutil.which(name)
        if path is None:
            raise LocalNeo4jError(
                f"`{name}` not found on PATH; the local Neo4j server needs Java {_MIN_JAVA}+ and Maven. "
                "Install them (Debian: apt-get install openjdk-17-jre-headless maven), "
                "or run Neo4j with Docker (docker compose -f docker/compose.yaml up -d), "
                "or point NEO4J_URI at a server you have."
            )
        return path

    def _classpath(self) -> str:
        """Resolve Neo4j's jars with Maven once per pom version and return the class path."""
        build = self.home / "build"
        build.mkdir(parents=True, exist_ok=True)
        pom = _resource("pom.xml").read_text(encoding="utf-8")
        pom_path, classpath_path = build / "pom.xml", build / "classpath.txt"
        if classpath_path.exists() and pom_path.exists() and pom_path.read_text(encoding="utf-8") == pom:
            return classpath_path.read_text(encoding="utf-8").strip()

        mvn = self._require_tool("mvn")
        pom_path.write_text(pom, encoding="utf-8")
        logger.info("resolving Neo4j from Maven Central (first start only)")
        completed = subprocess.run(
            [mvn, "-q", "-B", "-f", str(pom_path), "dependency:build-classpath", f"-Dmdep.outputFile={classpath_path}"],
            capture_output=True,
            text=True,
            check=False,
        )
        if completed.returncode != 0 or not classpath_path.exists():
            classpath_path.unlink(missing_ok=True)
            raise LocalNeo4jError(
                "Maven could not resolve org.neo4j:neo4j from Maven Central; check network access to it, "
                f"or use Docker or NEO4J_URI instead. Maven printed:\n{(completed.stdout + completed.stderr)[-2000:]}"
            )
        return classpath_path.read_text(encoding="utf-8").strip()

    def _choose_port(self, requested: int | None) -> int:
        if requested is not None:
            if not _port_is_free(requested):
                raise LocalNeo4jError(f"port {requested} on 127.0.0.1 is in use; pass another with --port.")
            return requested
        previous = self._read_state().get("port")
        for candidate in (previous, DEFAULT_PORT):
            if candidate and _port_is_free(candidate):
                return candidate
        return _free_port()

    def _log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return "(no log)"
