"""A local HTTP server answering GitHub's "jobs of a run attempt" endpoint (paginated).

Only what the CI step's job-id lookup reads: `GET /repos/{o}/{r}/actions/runs/{id}/attempts/{n}/jobs`
with `per_page`/`page`, the `Link` header and the `Authorization` header it must send.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

JOBS_PATH = re.compile(r"^/repos/([^/]+/[^/]+)/actions/runs/(\d+)/attempts/(\d+)/jobs$")


@dataclass
class JobsAPI:
    """What the server serves and what it saw."""

    jobs: list[dict[str, Any]] = field(default_factory=list)
    per_page: int = 100  # the server's page size (smaller than asked to exercise Link)
    delay_s: float = 0.0
    status: int = 200
    requests: list[dict[str, Any]] = field(default_factory=list)
    url: str = ""


def job(job_id: int, name: str, runner: str = "", status: str = "in_progress") -> dict[str, Any]:
    return {
        "id": job_id,
        "name": name,
        "status": status,
        "conclusion": None if status != "completed" else "success",
        "runner_name": runner or None,
        "html_url": f"https://github.com/o/r/actions/runs/1/job/{job_id}",
    }


@contextmanager
def serve_jobs(api: JobsAPI) -> Iterator[JobsAPI]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parsed = urlparse(self.path)
            api.requests.append(
                {"path": parsed.path, "query": parsed.query, "headers": dict(self.headers)}
            )
            if api.delay_s:
                time.sleep(api.delay_s)
            match = JOBS_PATH.match(parsed.path)
            if not match or api.status != 200:
                self._send(api.status if match else 404, {"message": "Not Found"})
                return
            page = int(parse_qs(parsed.query).get("page", ["1"])[0])
            start = (page - 1) * api.per_page
            chunk = api.jobs[start : start + api.per_page]
            headers = {}
            if start + api.per_page < len(api.jobs):
                headers["Link"] = (
                    f'<{api.url}{parsed.path}?per_page=100&page={page + 1}>; rel="next", '
                    f'<{api.url}{parsed.path}?per_page=100&page=99>; rel="last"'
                )
            self._send(200, {"total_count": len(api.jobs), "jobs": chunk}, headers)

        def _send(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    api.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield api
    finally:
        server.shutdown()
        server.server_close()
