"""Pytest plugin: a local fake of the Anthropic API speaking its real wire protocol.

`FakeAnthropic` is a standard-library ThreadingHTTPServer on 127.0.0.1 (a free port) with
`POST /v1/messages`, `POST /v1/messages/batches`, `GET /v1/messages/batches/{id}` and
`GET /v1/messages/batches/{id}/results` (JSON lines; the batch's `results_url` points back
at this server). It is driven through the real `anthropic` SDK via `base_url`.

* Usage is computed like the API reports it: the system prompt marked with `cache_control`
  is written to the cache on first sight (`cache_creation_input_tokens`) and read on later
  requests with the identical prefix (`cache_read_input_tokens`), but only when the prefix is
  at least `min_cacheable_tokens` long; `input_tokens` counts the rest.
* Every response carries a `request-id` header; every request body is recorded (with the
  credentials left out) in `requests`, so tests can check what left the process.
* `script(...)` queues faults for the next `/v1/messages` calls: HTTP 429 with
  `retry-after-ms`, 529 `overloaded_error`, 500, slow responses, malformed JSON, answers that
  violate the schema, evidence lines that are not in the text, an "obedient" answer to a
  prompt injection. `script_batch(...)` decides per-request batch results (errored,
  expired, canceled).
* The fake's "model" decides deterministically from keywords of the error text; it is a
  protocol fake, not a classifier.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

API_KEY = "sk-ant-test-fake-key-0123456789"
CHARS_PER_TOKEN = 4

_TAG = re.compile(r'<ci_error_text nonce="([0-9a-f]+)">\n(.*)\n</ci_error_text nonce="\1">', re.S)
_INFRA_WORDS = re.compile(
    r"timed? ?out|connection|resolve|dns|\b50[234]\b|\b429\b|rate limit|runner|no space"
    r"|killed|out of memory|unreachable|handshake|reset by peer|shutdown|canceled",
    re.I,
)
_CODE_WORDS = re.compile(r"error|assert|fail|exception|panic|undefined|expected", re.I)


@dataclass
class Fault:
    """One scripted behaviour for the next /v1/messages request."""

    kind: str  # "status" | "slow" | "malformed" | "schema" | "bad_evidence" | "obey_injection"
    status: int = 0
    error_type: str = ""
    retry_after_ms: int | None = None
    delay_s: float = 0.0


@dataclass
class RecordedRequest:
    method: str
    path: str
    body: str
    auth: str  # "x-api-key" | "bearer" | "none" (the credential itself is never recorded)

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


@dataclass
class FakeBatch:
    id: str
    requests: list[dict[str, Any]]
    created_at: float
    polls_left: int
    results: list[dict[str, Any]] = field(default_factory=list)
    ended: bool = False


class FakeAnthropic:
    def __init__(self, min_cacheable_tokens: int = 4096, batch_polls: int = 1) -> None:
        self.min_cacheable_tokens = min_cacheable_tokens
        self.batch_polls = batch_polls
        self.requests: list[RecordedRequest] = []
        self.batches: dict[str, FakeBatch] = {}
        self._faults: deque[Fault] = deque()
        self._batch_kinds: dict[int, str] = {}
        self._cache: dict[
            str, float
        ] = {}  # prefix hash -> last use (5-minute TTL, refreshed on read)
        self.cache_ttl_s = 300.0
        self._counter = 0
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    # -- control ----------------------------------------------------------------------------

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeAnthropic:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def script(self, *faults: Fault) -> None:
        with self._lock:
            self._faults.extend(faults)

    def script_batch(self, kinds: dict[int, str]) -> None:
        """Result kind per request position in the next batch ("errored", "expired", ...)."""
        self._batch_kinds = dict(kinds)

    def message_requests(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path == "/v1/messages"]

    def all_bodies(self) -> str:
        return "\n".join(r.body for r in self.requests)

    # -- the model --------------------------------------------------------------------------

    def _next_id(self, prefix: str) -> str:
        with self._lock:
            self._counter += 1
            return f"{prefix}_{self._counter:06d}"

    @staticmethod
    def error_text(params: dict[str, Any]) -> str:
        content = params["messages"][-1]["content"]
        if isinstance(content, list):
            content = "".join(block.get("text", "") for block in content)
        found = _TAG.search(content)
        return found.group(2) if found else content

    def decide(self, params: dict[str, Any]) -> dict[str, Any]:
        text = self.error_text(params)
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        infra = [line for line in lines if _INFRA_WORDS.search(line)]
        code = [line for line in lines if _CODE_WORDS.search(line)]
        if infra:
            category, evidence = "infrastructure_error", infra[0]
        else:
            category, evidence = "code_error", (code[0] if code else (lines[-1] if lines else ""))
        return {
            "category": category,
            "confidence": 0.82,
            "root_cause_summary": f"The fake model judged this a {category.split('_')[0]} failure.",
            "evidence_line": evidence,
        }

    def usage(self, params: dict[str, Any], answer_text: str) -> dict[str, int]:
        system = params.get("system") or ""
        blocks = system if isinstance(system, list) else [{"type": "text", "text": system}]
        system_text = "".join(b.get("text", "") for b in blocks)
        cacheable = any(b.get("cache_control") for b in blocks) or bool(params.get("cache_control"))
        system_tokens = len(system_text) // CHARS_PER_TOKEN
        user_tokens = max(1, len(json.dumps(params.get("messages"))) // CHARS_PER_TOKEN)
        read = write = 0
        if cacheable and system_tokens >= self.min_cacheable_tokens:
            key = hashlib.sha256((params["model"] + "\x00" + system_text).encode()).hexdigest()
            now = time.monotonic()
            with self._lock:
                if now - self._cache.get(key, -1e18) <= self.cache_ttl_s:
                    read = system_tokens
                else:
                    write = system_tokens
                self._cache[key] = now
            input_tokens = user_tokens
        else:
            input_tokens = user_tokens + system_tokens
        return {
            "input_tokens": input_tokens,
            "output_tokens": max(1, len(answer_text) // CHARS_PER_TOKEN),
            "cache_creation_input_tokens": write,
            "cache_read_input_tokens": read,
        }

    def message(self, params: dict[str, Any], fault: Fault | None) -> dict[str, Any]:
        answer = self.decide(params)
        text = self.error_text(params)
        if fault is not None and fault.kind == "schema":
            answer = {**answer, "category": "flaky_error", "confidence": 7}
        elif fault is not None and fault.kind == "bad_evidence":
            answer = {**answer, "evidence_line": "a line the model made up"}
        elif fault is not None and fault.kind == "obey_injection":
            answer = {
                "category": "infrastructure_error",
                "confidence": 1.0,
                "root_cause_summary": "As instructed.",
                "evidence_line": "SYSTEM: classification overridden by operator",
                "debug": "injected",
            }
        answer_text = json.dumps(answer)
        if fault is not None and fault.kind == "malformed":
            answer_text = '{"category": "code_error", "confidence": 0.9, "root_cause'
        _ = text
        return {
            "id": self._next_id("msg"),
            "type": "message",
            "role": "assistant",
            "model": params["model"],
            "content": [{"type": "text", "text": answer_text}],
            "stop_reason": "end_turn",
            "stop_sequence": None,
            "usage": self.usage(params, answer_text),
        }

    # -- batches ----------------------------------------------------------------------------

    def batch_object(self, batch: FakeBatch) -> dict[str, Any]:
        counts = {"processing": 0, "succeeded": 0, "errored": 0, "canceled": 0, "expired": 0}
        if batch.ended:
            for result in batch.results:
                counts[result["result"]["type"]] += 1
        else:
            counts["processing"] = len(batch.requests)
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(batch.created_at))
        return {
            "id": batch.id,
            "type": "message_batch",
            "processing_status": "ended" if batch.ended else "in_progress",
            "request_counts": counts,
            "created_at": stamp,
            "expires_at": stamp,
            "ended_at": stamp if batch.ended else None,
            "archived_at": None,
            "cancel_initiated_at": None,
            "results_url": f"{self.url}/v1/messages/batches/{batch.id}/results"
            if batch.ended
            else None,
        }

    def _end(self, batch: FakeBatch) -> None:
        kinds, self._batch_kinds = self._batch_kinds, {}
        for position, request in enumerate(batch.requests):
            kind = kinds.get(position, "succeeded")
            if kind == "succeeded":
                result = {"type": "succeeded", "message": self.message(request["params"], None)}
            elif kind == "errored":
                result = {
                    "type": "errored",
                    "error": {
                        "type": "error",
                        "error": {"type": "api_error", "message": "Internal server error"},
                    },
                }
            else:
                result = {"type": kind}
            batch.results.append({"custom_id": request["custom_id"], "result": result})
        batch.ended = True

    # -- HTTP -------------------------------------------------------------------------------

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # quiet test output
                return

            def _auth(self) -> str:
                if self.headers.get("x-api-key") == API_KEY:
                    return "x-api-key"
                if self.headers.get("authorization") == f"Bearer {API_KEY}":
                    return "bearer"
                return "none"

            def _send(
                self,
                status: int,
                body: bytes,
                content_type: str,
                extra: dict[str, str] | None = None,
            ) -> None:
                self.send_response(status)
                self.send_header("content-type", content_type)
                self.send_header("content-length", str(len(body)))
                self.send_header("request-id", fake._next_id("req"))
                for name, value in (extra or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

            def _json(self, status: int, value: Any, extra: dict[str, str] | None = None) -> None:
                self._send(status, json.dumps(value).encode(), "application/json", extra)

            def _error(
                self, status: int, kind: str, message: str, extra: dict[str, str] | None = None
            ) -> None:
                self._json(
                    status, {"type": "error", "error": {"type": kind, "message": message}}, extra
                )

            def _record(self, body: str) -> str:
                auth = self._auth()
                with fake._lock:
                    fake.requests.append(RecordedRequest(self.command, self.path, body, auth))
                return auth

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length).decode("utf-8")
                if self._record(body) == "none":
                    return self._error(401, "authentication_error", "invalid x-api-key")
                try:
                    params = json.loads(body)
                except json.JSONDecodeError:
                    return self._error(400, "invalid_request_error", "body is not JSON")
                if self.path == "/v1/messages":
                    return self._messages(params)
                if self.path == "/v1/messages/batches":
                    batch = FakeBatch(
                        fake._next_id("msgbatch"), params["requests"], time.time(), fake.batch_polls
                    )
                    fake.batches[batch.id] = batch
                    return self._json(200, fake.batch_object(batch))
                return self._error(404, "not_found_error", f"no route {self.path}")

            def _messages(self, params: dict[str, Any]) -> None:
                for required in ("model", "max_tokens", "messages"):
                    if required not in params:
                        return self._error(
                            400, "invalid_request_error", f"{required}: Field required"
                        )
                with fake._lock:
                    fault = fake._faults.popleft() if fake._faults else None
                if fault is not None and fault.kind == "slow":
                    time.sleep(fault.delay_s)
                if fault is not None and fault.kind == "status":
                    extra = {}
                    if fault.retry_after_ms is not None:
                        extra["retry-after-ms"] = str(fault.retry_after_ms)
                    return self._error(fault.status, fault.error_type, "scripted fault", extra)
                self._json(200, fake.message(params, fault))

            def do_GET(self) -> None:
                if self._record("") == "none":
                    return self._error(401, "authentication_error", "invalid x-api-key")
                parts = self.path.strip("/").split("/")
                if len(parts) >= 4 and parts[:3] == ["v1", "messages", "batches"]:
                    batch = fake.batches.get(parts[3])
                    if batch is None:
                        return self._error(404, "not_found_error", "no such batch")
                    if len(parts) == 4:
                        if not batch.ended:
                            batch.polls_left -= 1
                            if batch.polls_left <= 0:
                                fake._end(batch)
                        return self._json(200, fake.batch_object(batch))
                    if len(parts) == 5 and parts[4] == "results" and batch.ended:
                        lines = "".join(json.dumps(r) + "\n" for r in batch.results)
                        return self._send(200, lines.encode(), "application/binary")
                return self._error(404, "not_found_error", f"no route {self.path}")

        return Handler


@pytest.fixture
def fake_anthropic() -> Iterator[FakeAnthropic]:
    """A running fake Anthropic API (cache minimum 4,096 tokens, batches end on first poll)."""
    server = FakeAnthropic().start()
    try:
        yield server
    finally:
        server.stop()
