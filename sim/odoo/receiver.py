"""A small webhook receiver on loopback: where deployed webhook actions deliver.

Odoo 17's "Send Webhook Notification" POSTs ``{_model, _id, _action, ...}`` with a 1-second
timeout and never retries. The receiver answers 200 at once and appends each delivery, with
its arrival time (naive UTC, Odoo's format), to a JSON-lines file that ``observe`` reads. It
binds to 127.0.0.1 only.
"""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


class Receiver:
    def __init__(self, path: Path, port: int = 0, clock=None) -> None:
        self.path = Path(path)
        self.port = port
        self.clock = clock or (lambda: datetime.now(UTC).replace(tzinfo=None))
        self.deliveries: list[dict] = []
        self._lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/exsim/webhook"

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802 - http.server naming
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                try:
                    body = json.loads(raw or b"{}")
                except json.JSONDecodeError:
                    body = {"raw": raw.decode(errors="replace")}
                receiver.record(self.path, body)
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self._httpd = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._httpd.daemon_threads = True
        self.port = self._httpd.server_address[1]
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()
        return self

    def record(self, path: str, body: dict) -> None:
        entry = {"at": self.clock().strftime("%Y-%m-%d %H:%M:%S"), "path": path, "body": body}
        with self._lock:
            self.deliveries.append(entry)
            with self.path.open("a") as f:
                f.write(json.dumps(entry, sort_keys=True) + "\n")

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> Receiver:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
