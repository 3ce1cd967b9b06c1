"""The webhook receiver holds bursts, stores only what Odoo sends, and checks a shared secret."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import urllib.error
import urllib.request

import pytest

from sim.odoo.receiver import MAX_BODY, Receiver, ReceiverError, with_token


def post(url: str, body: bytes, timeout: float = 5.0) -> int:
    req = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status
    except urllib.error.HTTPError as exc:
        return exc.code


def delivery(i: int) -> bytes:
    return json.dumps({"_model": "stock.picking", "_id": i, "_action": "exsim(#1)"}).encode()


def test_only_bodies_odoo_sends_are_stored(tmp_path):
    out = tmp_path / "hooks.jsonl"
    with Receiver(out) as r:
        assert post(r.url, delivery(7)) == 200
        for bad in (b"[1,2,3]", b"not json", b'{"_model": "x"}', b'{"_id": 3}', b"\xff\xfe"):
            assert post(r.url, bad) == 400, bad
        assert post(r.url, b'{"_model": "x", "_id": 1, "pad": "' + b"a" * MAX_BODY + b'"}') == 413
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [e["body"]["_id"] for e in lines] == [7]


def test_a_shared_secret_is_required_when_set_and_never_stored(tmp_path):
    out = tmp_path / "hooks.jsonl"
    with Receiver(out, secret="s3cr3t") as r:
        assert post(r.url, delivery(1)) == 401
        assert post(with_token(r.url, "wrong"), delivery(2)) == 401
        assert post(with_token(r.url, "s3cr3t"), delivery(3)) == 200
    text = out.read_text()
    assert [json.loads(line)["body"]["_id"] for line in text.splitlines()] == [3]
    assert "s3cr3t" not in text


def test_observe_skips_lines_that_are_not_deliveries(tmp_path):
    from sim.odoo.observe import read_webhooks

    hooks = tmp_path / "hooks.jsonl"
    hooks.write_text(
        '{"at": "2026-01-05 08:00:00.000000", "body": [1, 2, 3], "path": "/"}\n'
        '{"at": "2026-01-05 08:00:00.000000", "body": {"_model": ["x"], "_id": {}}}\n'
        "[1, 2]\nnot json\n\n"
    )
    read_webhooks(hooks, [], None)  # nothing to match, and no crash


def test_a_burst_of_2000_deliveries_from_64_senders_loses_none(tmp_path):
    out = tmp_path / "hooks.jsonl"
    failures: list[str] = []
    with Receiver(out) as r:
        ids = iter(range(1, 2001))
        lock = threading.Lock()

        def sender() -> None:
            while True:
                with lock:
                    i = next(ids, None)
                if i is None:
                    return
                try:  # Odoo's webhook timeout: one second, no retry
                    post(r.url, delivery(i), timeout=1.0)
                except OSError as exc:
                    failures.append(type(exc).__name__)

        threads = [threading.Thread(target=sender) for _ in range(64)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
    assert failures == []
    stored = {json.loads(line)["body"]["_id"] for line in out.read_text().splitlines()}
    assert stored == set(range(1, 2001))


def test_an_unwritable_output_fails_before_listening(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(ReceiverError, match="cannot write"):
        Receiver(blocker / "hooks.jsonl").start()


def receive(tmp_path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "sim", "odoo", "receive", *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )


def test_receive_refuses_bad_ports_and_outputs_in_one_line(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        cases = [
            (["--port", port, "--out", str(tmp_path / "h.jsonl")], f"--port {port}: cannot"),
            (["--port", "70000"], "--port 70000: must be between 0 and 65535"),
            (["--port", "0", "--out", str(blocker / "h.jsonl")], "cannot write"),
        ]
        for args, expected in cases:
            proc = receive(tmp_path, *args)
            assert proc.returncode == 2, proc.stderr
            lines = proc.stderr.strip().splitlines()
            assert len(lines) == 1 and expected in lines[0], proc.stderr
            assert "receiving" not in proc.stdout
