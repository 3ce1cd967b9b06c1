"""The test server's notion of "now".

A real Odoo reads the wall clock (naive UTC) for ``create_date``/``write_date``, ``date_done``,
tracking messages and the time-based automation rules.  Tests of latency and of the time-rule
blind spot need to move that clock instead of sleeping, so every timestamp the server writes
comes from one ``Clock``: it follows real UTC time until a test ``set``s it (then it stands
still) and ``advance`` moves it either way.  Odoo drops microseconds, so ``now()`` does too.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

DATETIME_FORMAT = "%Y-%m-%d %H:%M:%S"
DATE_FORMAT = "%Y-%m-%d"


def parse_datetime(value: str) -> datetime:
    """Parse Odoo's wire format ('YYYY-MM-DD HH:MM:SS', or a bare date at midnight)."""
    if len(value) == 10:
        return datetime.strptime(value, DATE_FORMAT)
    return datetime.strptime(value[:19], DATETIME_FORMAT)


def format_datetime(value: datetime) -> str:
    return value.strftime(DATETIME_FORMAT)


class Clock:
    """Naive-UTC clock: real time plus an offset, or frozen at a set instant."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._frozen: datetime | None = None
        self._offset = timedelta(0)

    def now(self) -> datetime:
        with self._lock:
            if self._frozen is not None:
                return self._frozen
            real = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
            return real + self._offset

    def now_str(self) -> str:
        return format_datetime(self.now())

    def set(self, when: datetime | str) -> datetime:
        """Freeze the clock at ``when`` (a naive UTC datetime or an Odoo datetime string)."""
        value = parse_datetime(when) if isinstance(when, str) else when
        with self._lock:
            self._frozen = value.replace(microsecond=0)
            return self._frozen

    def advance(self, seconds: float) -> datetime:
        """Move the clock by ``seconds`` (frozen or running)."""
        step = timedelta(seconds=seconds)
        with self._lock:
            if self._frozen is not None:
                self._frozen = (self._frozen + step).replace(microsecond=0)
            else:
                self._offset += step
        return self.now()

    def resume(self) -> None:
        """Follow real time again, with no offset."""
        with self._lock:
            self._frozen = None
            self._offset = timedelta(0)

    @property
    def frozen(self) -> bool:
        return self._frozen is not None
