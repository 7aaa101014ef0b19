"""A real HTTP server on localhost, in a thread, serving job feeds and faults by path."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

#: path -> (status, headers, body); "/slow" instead waits until the server stops.
Routes = dict[str, tuple[int, dict[str, str], bytes]]


def feed_body(postings: list[dict[str, Any]]) -> bytes:
    return json.dumps({"postings": postings}).encode()


class FeedServer:
    def __init__(self) -> None:
        self.routes: Routes = {}
        self.requests: list[str] = []
        self.release = threading.Event()
        routes, requests, release = self.routes, self.requests, self.release

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                requests.append(self.path)
                if self.path == "/slow":
                    release.wait(30)
                    return
                status, headers, body = routes.get(self.path, (404, {}, b"not found"))
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def serve(self, path: str, body: bytes, *, status: int = 200, **headers: str) -> str:
        """Answer GET `path` with `body`; return its URL."""
        self.routes[path] = (status, {"Content-Type": "application/json", **headers}, body)
        return self.url(path)

    @contextmanager
    def running(self) -> Iterator[FeedServer]:
        thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        thread.start()
        try:
            yield self
        finally:
            self.release.set()
            self._server.shutdown()
            self._server.server_close()
            thread.join()
