"""A small webhook receiver on loopback: where deployed webhook actions deliver.

Odoo 17's "Send Webhook Notification" POSTs ``{_model, _id, _action, ...}`` with a 1-second
timeout and never retries. The receiver answers 200 at once and appends each delivery, with
its arrival time (naive UTC, Odoo's format with microseconds, so that ``observe`` can order it
exactly against other detections), to a JSON-lines file that ``observe`` reads. It
binds to 127.0.0.1 only.

With ``ack`` (a transport), it also does what the middleware's workflow would: it writes the
delivery back into Odoo as an activity ``exsim webhook <category>`` on the record. That is
what a reconciliation scan (``only_undetected``) looks for, so it skips the cases the webhook
caught and flags only those whose delivery was lost. Odoo sends the webhook inside the
transaction that made the record, which is not committed yet; acknowledgements therefore go
from a queue on their own thread, retried until the record is visible (or ``ack_wait_s``).
"""

from __future__ import annotations

import json
import queue
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


class Receiver:
    def __init__(
        self, path: Path, port: int = 0, clock=None, ack=None, ack_wait_s: float = 30.0
    ) -> None:
        self.path = Path(path)
        self.port = port
        self.clock = clock or (lambda: datetime.now(UTC).replace(tzinfo=None))
        self.deliveries: list[dict] = []
        self.acked: list[tuple[str, int]] = []
        self.ack_failures: list[str] = []
        self._ack = ack
        self._ack_wait_s = ack_wait_s
        self._acks: queue.Queue = queue.Queue()
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
        if self._ack is not None:
            threading.Thread(target=self._acknowledge, daemon=True).start()
        return self

    def record(self, path: str, body: dict) -> None:
        at = self.clock().strftime("%Y-%m-%d %H:%M:%S.%f")
        entry = {"at": at, "path": path, "body": body}
        with self._lock:
            self.deliveries.append(entry)
            with self.path.open("a") as f:
                f.write(json.dumps(entry, sort_keys=True) + "\n")
        if self._ack is not None and body.get("_model") and body.get("_id"):
            self._acks.put((body["_model"], int(body["_id"]), time.monotonic()))

    def _acknowledge(self) -> None:
        while True:
            item = self._acks.get()
            if item is None:
                return
            model, res_id, since = item
            try:
                done = acknowledge(self._ack, model, res_id)
            except Exception as exc:  # noqa: BLE001 - a lost ack is logged, never fatal
                done, why = False, str(exc)
            else:
                why = "record not visible"
            if done:
                self.acked.append((model, res_id))
            elif time.monotonic() - since < self._ack_wait_s:
                time.sleep(0.2)
                self._acks.put(item)
            else:
                self.ack_failures.append(f"{model},{res_id}: {why}")
            self._acks.task_done()

    def drain(self, timeout_s: float = 10.0) -> None:
        """Wait until every acknowledgement queued so far went out (or was given up)."""
        end = time.monotonic() + timeout_s
        while self._acks.unfinished_tasks and time.monotonic() < end:
            time.sleep(0.05)

    def stop(self) -> None:
        if self._ack is not None:
            self.drain()
            self._acks.put(None)
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> Receiver:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def acknowledge(transport, model: str, res_id: int) -> bool:
    """Flag the delivered record with ``exsim webhook <category>`` (once); False when the
    record is not visible yet (its transaction still open)."""
    from sim.odoo.deploy import summary
    from sim.odoo.mapping import parse_key
    from sim.odoo.observe import KEY_FIELD

    key_field = KEY_FIELD.get(model, "product_id" if model == "stock.quant" else None)
    if key_field is None:
        return True  # not a record exsim keys: nothing to acknowledge
    rows = transport.call(model, "search_read", [["id", "=", res_id]], fields=[key_field])
    if not rows:
        return False
    key = rows[0][key_field]
    if model == "stock.quant" and key:
        key = transport.call("product.product", "read", [key[0]], ["default_code"])[0][
            "default_code"
        ]
    parsed = parse_key(key or "")
    if parsed is None:
        return True
    text = summary("webhook", parsed[0])
    if transport.call(
        "mail.activity",
        "search_count",
        [["res_model", "=", model], ["res_id", "=", res_id], ["summary", "=", text]],
    ):
        return True
    model_id = transport.call("ir.model", "search", [["model", "=", model]])[0]
    todo = transport.call(
        "ir.model.data",
        "search_read",
        [["module", "=", "mail"], ["name", "=", "mail_activity_data_todo"]],
        fields=["res_id"],
    )
    transport.call(
        "mail.activity",
        "create",
        [
            {
                "res_model_id": model_id,
                "res_id": res_id,
                "summary": text,
                "activity_type_id": todo[0]["res_id"] if todo else False,
            }
        ],
    )
    return True
