"""Random streams: one seed, many independent named generators.

Every source of randomness in a run (the arrivals of one category, its handling times, one
detection mechanism's failures...) draws from its own stream, named like a path
(``"arrivals/stock_shortage"``). A stream's seed is derived from the run seed, the replication
and the *name* through numpy's ``SeedSequence``: streams never share state, adding a category
does not shift any other stream, and two policies run on the same seed see exactly the same
exceptions (common random numbers). Streams are buffered: values are drawn from numpy in
blocks, which keeps per-event cost low and the sequence identical however it is consumed.
"""

from __future__ import annotations

import hashlib

import numpy as np

_BLOCK = 512


def _name_key(name: str) -> tuple[int, int]:
    digest = hashlib.blake2b(name.encode(), digest_size=8).digest()
    return int.from_bytes(digest[:4], "little"), int.from_bytes(digest[4:], "little")


class Streams:
    """Factory of named streams for one replication of one seed."""

    def __init__(self, seed: int, rep: int = 0) -> None:
        self.seed = int(seed)
        self.rep = int(rep)

    def seed_sequence(self, name: str) -> np.random.SeedSequence:
        return np.random.SeedSequence(self.seed, spawn_key=(self.rep, *_name_key(name)))

    def generator(self, name: str) -> np.random.Generator:
        """A numpy Generator for ``name`` (for bulk or unusual draws)."""
        return np.random.Generator(np.random.PCG64(self.seed_sequence(name)))

    def stream(self, name: str) -> Stream:
        """A buffered stream for ``name`` (for per-event draws)."""
        return Stream(self.generator(name))


class Stream:
    """Buffered scalar draws from one generator: uniforms, exponentials and normals.

    Each kind of draw has its own buffer, so the values one kind yields do not depend on how
    many of another kind were taken in between.
    """

    __slots__ = ("gen", "_u", "_ui", "_e", "_ei", "_n", "_ni")

    def __init__(self, gen: np.random.Generator) -> None:
        self.gen = gen
        self._u: list[float] = []
        self._ui = 0
        self._e: list[float] = []
        self._ei = 0
        self._n: list[float] = []
        self._ni = 0

    def random(self) -> float:
        """Uniform on [0, 1)."""
        if self._ui >= len(self._u):
            self._u = self.gen.random(_BLOCK).tolist()
            self._ui = 0
        self._ui += 1
        return self._u[self._ui - 1]

    def exponential(self) -> float:
        """Standard exponential (mean 1)."""
        if self._ei >= len(self._e):
            self._e = self.gen.standard_exponential(_BLOCK).tolist()
            self._ei = 0
        self._ei += 1
        return self._e[self._ei - 1]

    def normal(self) -> float:
        """Standard normal."""
        if self._ni >= len(self._n):
            self._n = self.gen.standard_normal(_BLOCK).tolist()
            self._ni = 0
        self._ni += 1
        return self._n[self._ni - 1]

    def choice(self, cumulative: list[float]) -> int:
        """Index drawn from cumulative weights (last element 1.0)."""
        u = self.random()
        for i, c in enumerate(cumulative):
            if u < c:
                return i
        return len(cumulative) - 1
