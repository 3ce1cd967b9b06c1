"""Atomic file writing: a half-written export never sits under the real name.

Exports can be large and slow; if one is interrupted (disk full, Ctrl-C) the file a tool
later opens must be either the previous complete one or the new complete one. So every
writer here writes to a hidden sibling and renames it into place, which is atomic on POSIX
and Windows when both names live in the same directory.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO


@contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; rename it onto ``path`` if the block succeeds."""
    target = Path(path)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.partial")
    try:
        yield tmp
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


@contextmanager
def atomic_text(path: str | os.PathLike) -> Iterator[IO[str]]:
    """Open a UTF-8 text file for streaming writes that appears at ``path`` only when done."""
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8", newline="\n") as fh:
        yield fh
