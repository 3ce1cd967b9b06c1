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

Hardening, since anything on the machine can reach a loopback port:

- Only what Odoo sends is stored: a JSON object with ``_model`` (text) and ``_id`` (a record
  id), at most :data:`MAX_BODY` bytes; anything else is answered 400 (413 when too large).
- With ``secret``, a delivery must carry it as ``?token=<secret>`` in the URL (Odoo's webhook
  action sends no custom header, so ``deploy-policy --webhook-secret`` puts it in the URL it
  deploys); others are answered 401 and not stored. The token is never written to the file.
- The output file is opened when the receiver starts, so a path that cannot be written fails
  before anything is announced, not at the first delivery.
- The listen backlog is :data:`BACKLOG`, not http.server's 5: with Odoo's 1-second timeout a
  burst of concurrent deliveries otherwise finds the queue full and is lost.
"""

from __future__ import annotations

import hmac
import json
import queue
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

#: Largest delivery body accepted (bytes); Odoo's payload is a few hundred.
MAX_BODY = 64 * 1024
#: Pending connections the socket holds while the handlers are busy.
BACKLOG = 1024


class _Server(ThreadingHTTPServer):
    request_queue_size = BACKLOG
    daemon_threads = True


class ReceiverError(Exception):
    """The receiver cannot start (port taken or invalid, output not writable); one line."""


def with_token(url: str, secret: str) -> str:
    """``url`` with ``token=<secret>`` added to its query (what the receiver checks)."""
    from urllib.parse import urlencode

    return url + ("&" if "?" in url else "?") + urlencode({"token": secret})


def check_body(body: object) -> str | None:
    """Why a delivery body is not one Odoo sends (None when it is)."""
    if not isinstance(body, dict):
        return "expected a JSON object"
    if not isinstance(body.get("_model"), str) or not body["_model"]:
        return "_model: missing (expected the record's model)"
    rid = body.get("_id")
    if isinstance(rid, bool) or not isinstance(rid, int) or rid <= 0:
        return "_id: missing (expected the record's id)"
    return None


class Receiver:
    def __init__(
        self,
        path: Path,
        port: int = 0,
        clock=None,
        ack=None,
        ack_wait_s: float = 30.0,
        secret: str | None = None,
    ) -> None:
        self.path = Path(path)
        self.port = port
        self.secret = secret or None
        self.refused = 0
        self.clock = clock or (lambda: datetime.now(UTC).replace(tzinfo=None))
        self.deliveries: list[dict] = []
        self.acked: list[tuple[str, int]] = []
        self.ack_failures: list[str] = []
        self._ack = ack
        self._ack_wait_s = ack_wait_s
        self._acks: queue.Queue = queue.Queue()
        self._lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None
        self._out = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/exsim/webhook"

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def _answer(self, code: int, why: str = "") -> None:
                data = why.encode()
                self.send_response(code)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                if code != 200:
                    receiver.refused += 1

            def do_POST(self) -> None:  # noqa: N802 - http.server naming
                url = urlsplit(self.path)
                if receiver.secret is not None:
                    given = parse_qs(url.query).get("token", [""])[0]
                    if not hmac.compare_digest(given.encode(), receiver.secret.encode()):
                        self._answer(401, "token: missing or wrong")
                        return
                try:
                    length = int(self.headers.get("Content-Length") or 0)
                except ValueError:
                    length = -1
                if length < 0 or length > MAX_BODY:
                    self.close_connection = True
                    self._answer(413 if length > MAX_BODY else 400, "body: bad length")
                    return
                raw = self.rfile.read(length)
                try:
                    body = json.loads(raw)
                except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):
                    self._answer(400, "body: not JSON")
                    return
                why = check_body(body)
                if why is not None:
                    self._answer(400, f"body: {why}")
                    return
                receiver.record(url.path, body)
                self._answer(200)

        if not 0 <= int(self.port) <= 65535:
            raise ReceiverError(f"--port {self.port}: must be between 0 and 65535")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._out = self.path.open("a", encoding="utf-8")
        except OSError as exc:
            raise ReceiverError(f"{self.path}: cannot write: {exc.strerror or exc}") from None
        try:
            self._httpd = _Server(("127.0.0.1", self.port), Handler)
        except OSError as exc:
            self._out.close()
            raise ReceiverError(
                f"--port {self.port}: cannot listen on 127.0.0.1: {exc.strerror or exc}"
            ) from None
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
            self._out.write(json.dumps(entry, sort_keys=True) + "\n")
            self._out.flush()
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
        if self._out is not None:
            self._out.close()
            self._out = None

    def __enter__(self) -> Receiver:
        return self if self._httpd is not None else self.start()

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
