"""A local HTTP(S) front for the real test node, for conditions the node will not produce on cue.

It forwards every request to the node unchanged, and can additionally:
* terminate TLS (with a certificate made by `make_certificate`),
* demand HTTP basic auth (401 otherwise), like a secured cluster,
* answer some items of `_bulk` requests with a per-item 429 (`es_rejected_execution_exception`,
  the shape a saturated write queue returns) instead of forwarding them: every item at an even
  position the first time it is seen (up to `reject_bulk_items` of them), and with
  `reject_forever` those same items on every later attempt too.
"""

from __future__ import annotations

import base64
import http.client
import json
import ssl
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

HOP_HEADERS = {"connection", "keep-alive", "transfer-encoding", "content-length", "host"}


def make_certificate(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1: (certificate, key)."""
    cert, key = directory / "node.crt", directory / "node.key"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


class ForwardingProxy:
    def __init__(
        self,
        upstream: str,
        *,
        certificate: tuple[Path, Path] | None = None,
        credentials: tuple[str, str] | None = None,
        reject_bulk_items: int = 0,
        reject_forever: bool = False,
    ) -> None:
        target = urlsplit(upstream)
        self.upstream = (target.hostname or "127.0.0.1", target.port or 9200)
        self.credentials = credentials
        self.reject_budget = reject_bulk_items
        self.reject_forever = reject_forever
        self.doomed: set[str] = set()
        self.seen: set[str] = set()
        self.rejected_items = 0
        self.bulk_requests = 0
        self.unauthorized = 0
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self.scheme = "http"
        if certificate is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(str(certificate[0]), str(certificate[1]))
            self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
            self.scheme = "https"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> ForwardingProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    # -- what the proxy does to a request -------------------------------------------------------

    def authorised(self, header: str | None) -> bool:
        if self.credentials is None:
            return True
        expected = base64.b64encode(":".join(self.credentials).encode()).decode()
        return header == f"Basic {expected}"

    def split_bulk(self, body: bytes) -> tuple[bytes, list[tuple[int, dict]]]:
        """Take items out of a bulk body: (the body to forward, [(position, rejected item)])."""
        lines = [line for line in body.split(b"\n") if line.strip()]
        forwarded: list[bytes] = []
        rejected: list[tuple[int, dict]] = []
        position = 0
        i = 0
        while i < len(lines):
            action = json.loads(lines[i])
            op = next(iter(action))
            pair = lines[i : i + (1 if op == "delete" else 2)]
            i += len(pair)
            meta = action[op]
            with self._lock:
                reject = self._reject(op, str(meta.get("_id")), position)
            if reject:
                rejected.append(
                    (
                        position,
                        {
                            op: {
                                "_index": meta.get("_index", ""),
                                "_id": meta.get("_id"),
                                "status": 429,
                                "error": {
                                    "type": "es_rejected_execution_exception",
                                    "reason": "rejected execution of bulk item (write queue full)",
                                },
                            }
                        },
                    )
                )
            else:
                forwarded.extend(pair)
            position += 1
        return b"\n".join(forwarded) + b"\n", rejected

    def _reject(self, op: str, doc_id: str, position: int) -> bool:
        if op == "delete":
            return False
        first_sight = doc_id not in self.seen
        self.seen.add(doc_id)
        if doc_id in self.doomed:
            reject = True
        elif first_sight and position % 2 == 0 and self.reject_budget > 0:
            self.reject_budget -= 1
            reject = True
            if self.reject_forever:
                self.doomed.add(doc_id)
        else:
            reject = False
        self.rejected_items += reject
        return reject

    def forward(
        self, method: str, path: str, headers: dict, body: bytes
    ) -> tuple[int, dict, bytes]:
        connection = http.client.HTTPConnection(*self.upstream, timeout=60)
        try:
            connection.request(method, path, body=body or None, headers=headers)
            response = connection.getresponse()
            return response.status, dict(response.getheaders()), response.read()
        finally:
            connection.close()

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:  # quiet test output
                return

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                if not proxy.authorised(self.headers.get("Authorization")):
                    with proxy._lock:
                        proxy.unauthorized += 1
                    self._reply(401, {"content-type": "application/json"}, b'{"error":"auth"}')
                    return
                headers = {
                    k: v
                    for k, v in self.headers.items()
                    if k.lower() not in HOP_HEADERS and k.lower() != "authorization"
                }
                path_only = urlsplit(self.path).path
                if self.command == "POST" and path_only.endswith("/_bulk"):
                    with proxy._lock:
                        proxy.bulk_requests += 1
                    self._bulk(headers, body)
                    return
                status, response_headers, payload = proxy.forward(
                    self.command, self.path, headers, body
                )
                self._reply(status, response_headers, payload)

            def _bulk(self, headers: dict, body: bytes) -> None:
                forwarded, rejected = proxy.split_bulk(body)
                items: list[dict] = []
                took = 0
                if forwarded.strip():
                    status, _, payload = proxy.forward("POST", self.path, headers, forwarded)
                    if status != 200:
                        self._reply(status, {"content-type": "application/json"}, payload)
                        return
                    answer = json.loads(payload)
                    items = answer["items"]
                    took = answer.get("took", 0)
                for position, item in rejected:  # back into their original places
                    items.insert(position, item)
                errors = bool(rejected) or any(
                    next(iter(item.values())).get("error") for item in items
                )
                reply = json.dumps({"took": took, "errors": errors, "items": items}).encode()
                self._reply(200, {"content-type": "application/json"}, reply)

            def _reply(self, status: int, headers: dict, payload: bytes) -> None:
                self.send_response(status)
                for key, value in headers.items():
                    if key.lower() not in HOP_HEADERS:
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _handle

        return Handler
