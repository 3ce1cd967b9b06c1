"""In-memory tables with an undo journal: the test server's PostgreSQL.

Each JSON-RPC call runs in one transaction, as on a real Odoo: if anything raises (a
constraint, or a server action fired by an automation rule inside the write) every insert,
update and delete of that call is undone and the error is returned.  Ids come from per-table
sequences that, like PostgreSQL sequences, are not rolled back.
"""

from __future__ import annotations

import copy
import threading
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager


class Database:
    def __init__(self, name: str) -> None:
        self.name = name
        self.tables: dict[str, dict[int, dict]] = defaultdict(dict)
        self._seq: dict[str, int] = defaultdict(int)
        self._journal: list[tuple] | None = None
        self.lock = threading.RLock()  # one worker: calls are serialised, like workers=0

    def next_id(self, model: str) -> int:
        self._seq[model] += 1
        return self._seq[model]

    def insert(self, model: str, row: dict) -> int:
        row_id = row.get("id") or self.next_id(model)
        self._seq[model] = max(self._seq[model], row_id)
        row["id"] = row_id
        self.tables[model][row_id] = row
        self._log(("insert", model, row_id))
        return row_id

    def update(self, model: str, row_id: int, vals: dict) -> None:
        row = self.tables[model][row_id]
        self._log(("update", model, row_id, {k: copy.deepcopy(row.get(k)) for k in vals}))
        row.update(vals)

    def delete(self, model: str, row_id: int) -> None:
        row = self.tables[model].pop(row_id)
        self._log(("delete", model, row_id, row))

    def _log(self, entry: tuple) -> None:
        if self._journal is not None:
            self._journal.append(entry)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Run the block atomically; nested blocks join the outer transaction."""
        with self.lock:
            if self._journal is not None:
                yield
                return
            self._journal = []
            try:
                yield
            except BaseException:
                self._undo(self._journal)
                raise
            finally:
                self._journal = None

    def _undo(self, journal: list[tuple]) -> None:
        for entry in reversed(journal):
            kind, model, row_id = entry[:3]
            if kind == "insert":
                self.tables[model].pop(row_id, None)
            elif kind == "update":
                self.tables[model][row_id].update(entry[3])
            else:
                self.tables[model][row_id] = entry[3]
