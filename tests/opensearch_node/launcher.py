"""Build (once, cached) and run the single-node OpenSearch of `TestNode.java`.

Used by the pytest plugin `tests/support/opensearch_node.py`, by `scripts/opensearch_node.sh`
(`make opensearch`) and by `.ci/run`:

    python -m tests.opensearch_node.launcher build
    python -m tests.opensearch_node.launcher run --port 9200 --data .error_assets/opensearch

The Maven build runs only when the jar or the resolved classpath is missing or older than
`pom.xml` / the Java sources; concurrent builders serialise on a file lock.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

NODE_DIR = Path(__file__).resolve().parent
TARGET_DIR = NODE_DIR / "target"
JAR = TARGET_DIR / "opensearch-test-node-1.0.0.jar"
CLASSPATH_FILE = TARGET_DIR / "classpath.txt"
# Touched after every successful build: Maven leaves unchanged outputs with their old mtime.
BUILD_STAMP = TARGET_DIR / ".built"
MAIN_CLASS = "errorassets.node.TestNode"
HEAP = "512m"
URL_MARKER = "OPENSEARCH_URL="
STARTED_MARKER = "STARTED_IN_MS="


class NodeError(RuntimeError):
    """The test node could not be built or started."""


def _say(message: str) -> None:
    print(f"[opensearch-node] {message}", file=sys.stderr, flush=True)


def _inputs() -> list[Path]:
    return [NODE_DIR / "pom.xml", *sorted((NODE_DIR / "src").rglob("*.java"))]


def is_built() -> bool:
    """True when the jar and the classpath exist, are newer than every input, and resolve."""
    if not (JAR.is_file() and CLASSPATH_FILE.is_file() and BUILD_STAMP.is_file()):
        return False
    built_at = BUILD_STAMP.stat().st_mtime
    if any(path.stat().st_mtime > built_at for path in _inputs()):
        return False
    entries = CLASSPATH_FILE.read_text().strip().split(os.pathsep)
    return all(Path(entry).is_file() for entry in entries if entry)


def build(force: bool = False) -> str:
    """Build the node if needed and return the Java classpath to run it with."""
    TARGET_DIR.mkdir(exist_ok=True)
    with open(TARGET_DIR / ".build.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another session may be building right now
        if force or not is_built():
            _run_maven()
        if not is_built():
            raise NodeError(f"Maven finished but {JAR} or {CLASSPATH_FILE} is missing")
    return os.pathsep.join([str(JAR), CLASSPATH_FILE.read_text().strip()])


def _run_maven() -> None:
    mvn = shutil.which("mvn")
    if mvn is None:
        raise NodeError("Maven (mvn) is not on PATH; it is needed to build the OpenSearch node")
    base = [mvn, "-B", "-f", str(NODE_DIR / "pom.xml"), "package"]
    started = time.monotonic()
    # Offline first: once ~/.m2 holds everything it needs no network and is much faster.
    offline = subprocess.run(
        [*base, "-q", "-o"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False
    )
    if offline.returncode != 0:
        _say("building the OpenSearch test node with Maven (the first build downloads ~100 MB)")
        # Online, with Maven's download lines as progress (on our stderr when it is a real file).
        stream = sys.stderr if _has_fileno(sys.stderr) else None
        result = subprocess.run(base, stdout=stream, stderr=stream, check=False)
        if result.returncode != 0:
            raise NodeError(f"Maven build of {NODE_DIR} failed (exit {result.returncode})")
    BUILD_STAMP.touch()
    _say(f"built in {time.monotonic() - started:.1f}s")


def _has_fileno(stream: object) -> bool:
    try:
        stream.fileno()  # type: ignore[attr-defined]
    except (AttributeError, OSError, ValueError):
        return False
    return True


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_health(url: str, timeout: float, process: subprocess.Popen | None = None) -> None:
    """Wait until the cluster reports yellow or green (raise NodeError after `timeout`)."""
    deadline = time.monotonic() + timeout
    last_error = "no answer yet"
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise NodeError(f"the node exited with code {process.returncode} before it was healthy")
        try:
            with urllib.request.urlopen(
                f"{url}/_cluster/health?wait_for_status=yellow&timeout=2s", timeout=5
            ) as response:
                status = json.load(response).get("status")
                if status in ("yellow", "green"):
                    return
                last_error = f"status {status}"
        except (urllib.error.URLError, OSError, ValueError) as error:
            last_error = str(error)
        time.sleep(0.25)
    raise NodeError(f"{url} was not healthy after {timeout:.0f}s ({last_error})")


@dataclass
class OpenSearchNode:
    """One running node process; `stop()` it (it also dies when this process does)."""

    port: int
    data_dir: Path
    process: subprocess.Popen
    log_path: Path
    startup_seconds: float = 0.0
    java_startup_ms: int | None = None
    _log_file: object = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @classmethod
    def start(
        cls,
        data_dir: Path,
        port: int | None = None,
        classpath: str | None = None,
        timeout: float = 180.0,
        heap: str = HEAP,
        settings: Mapping[str, str] | None = None,
        fast_start: bool = True,
    ) -> OpenSearchNode:
        """Start a node on `port` (a free one if None) keeping its state in `data_dir`.

        `heap` caps the JVM heap (-Xmx); `settings` are extra node settings (`-E key=value`).
        `fast_start` limits the JIT to its first tier: start-up takes about half as long, peak
        throughput is lower (right for tests, wrong for benchmarks).
        """
        classpath = classpath or build()
        java = shutil.which("java")
        if java is None:
            raise NodeError("java is not on PATH; the OpenSearch node needs Java 17")
        data_dir.mkdir(parents=True, exist_ok=True)
        port = port or free_port()
        log_path = data_dir / "node.log"
        log_file = open(log_path, "ab")  # noqa: SIM115 - lives as long as the node
        command = [
            java,
            "-Xms256m",
            f"-Xmx{heap}",
            *(["-XX:TieredStopAtLevel=1"] if fast_start else []),
            "-cp",
            classpath,
            MAIN_CLASS,
            "--port",
            str(port),
            "--data",
            str(data_dir),
            "--exit-on-stdin-eof",
        ]
        for key, value in (settings or {}).items():
            command += ["-E", f"{key}={value}"]
        started = time.monotonic()
        process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=log_file, stderr=subprocess.STDOUT
        )
        node = cls(port, data_dir, process, log_path, _log_file=log_file)
        try:
            wait_for_health(node.url, timeout, process)
        except NodeError as error:
            node.stop()
            raise NodeError(f"{error}; last log lines:\n{node.log_tail()}") from None
        node.startup_seconds = time.monotonic() - started
        node.java_startup_ms = node._reported_startup_ms()
        return node

    def _reported_startup_ms(self) -> int | None:
        for line in self.log_path.read_text(errors="replace").splitlines():
            if line.startswith(STARTED_MARKER):
                return int(line[len(STARTED_MARKER) :])
        return None

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def is_running(self) -> bool:
        return self.process.poll() is None

    def stop(self, timeout: float = 30.0) -> None:
        """Stop gracefully (SIGTERM runs the node's shutdown hook); kill if it hangs."""
        if self.is_running():
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout)
        if self.process.stdin is not None:
            self.process.stdin.close()
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    build_parser = commands.add_parser("build", help="build the node (cached)")
    build_parser.add_argument("--force", action="store_true", help="rebuild even if up to date")
    run_parser = commands.add_parser("run", help="build if needed, then run in the foreground")
    run_parser.add_argument("--port", type=int, default=9200)
    run_parser.add_argument("--data", type=Path, default=Path(".error_assets/opensearch"))
    run_parser.add_argument("--heap", default=HEAP, help="JVM heap cap, e.g. 512m or 1g")
    args = parser.parse_args(argv)
    try:
        classpath = build(force=getattr(args, "force", False))
        if args.command == "build":
            _say(f"up to date: {JAR}")
            return 0
        node = OpenSearchNode.start(
            args.data.resolve(), args.port, classpath, heap=args.heap, fast_start=False
        )
    except NodeError as error:
        _say(f"error: {error}")
        return 1
    _say(f"{node.url} is up (started in {node.startup_seconds:.1f}s, data in {args.data})")
    print(f"{URL_MARKER}{node.url}", flush=True)
    try:
        node.process.wait()
    except KeyboardInterrupt:
        _say("stopping")
    finally:
        node.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
