"""Common random numbers by entity: each order, receipt and case draws from its own substream.

A stream consumed in the order events happen hands its n-th number to whatever asks n-th. Two
policies that handle one case differently make the world's events come in another order from
there on, and every later order, receipt and carrier decision would pick up someone else's
numbers: the runs stop facing the same world. Here the world's own randomness is keyed by the
entity it belongs to instead. Order ``i`` always gets the same lines, customer, pick time,
carrier, label outcome, customs check, invoice check, transit and payment terms, whenever and
in whatever order the world gets to it; receipt ``k`` of a product at a warehouse the same
lead time, slip, partial quantity and inspection result; an exception with the same category,
cause and time the same work content. What still differs between two policies is only what
their handling changed (an order released earlier ships at another cutoff, a fixed master
record blocks no later order, a partial shipment leaves other stock behind).

Orders, the bulk, are drawn a block of :data:`BLOCK` consecutive ids at a time as arrays,
from numpy ``SeedSequence`` children of a named stream (``sim.streams``) keyed by the block
index (:func:`substream`). Rarer entities (a receipt, a case, a label retry) draw a few values
each from :class:`Keyed`: one PCG64 generator moved to the position in its 2**128 cycle that a
hash of (seed, replication, stream name, key) names, which is how counter-based generators key
their streams and costs a few microseconds instead of a SeedSequence's tens.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable
from typing import Any

import numpy as np

from sim.generators.distributions import block_drawer
from sim.scenarios.schema import Distribution
from sim.streams import Streams

BLOCK = 1024  # orders per block of keyed draws

Drawer = Callable[[np.random.Generator, int], np.ndarray]


def substream(streams: Streams, name: str, *key: int) -> np.random.Generator:
    """The generator of entity ``key`` (non-negative integers) within stream ``name``."""
    base = streams.seed_sequence(name)
    seq = np.random.SeedSequence(base.entropy, spawn_key=(*base.spawn_key, *key))
    return np.random.Generator(np.random.PCG64(seq))


class Substreams:
    """``substreams(name, *key)`` is :func:`substream` ``(streams, name, *key)``, with the seed
    sequence of each stream name made once (a block of orders asks for eight of them)."""

    def __init__(self, streams: Streams) -> None:
        self.streams = streams
        self._bases: dict[str, tuple[Any, tuple[int, ...]]] = {}  # name -> (entropy, spawn key)

    def __call__(self, name: str, *key: int) -> np.random.Generator:
        base = self._bases.get(name)
        if base is None:
            seq = self.streams.seed_sequence(name)
            base = self._bases[name] = (seq.entropy, tuple(seq.spawn_key))
        entropy, spawn_key = base
        seq = np.random.SeedSequence(entropy, spawn_key=(*spawn_key, *key))
        return np.random.Generator(np.random.PCG64(seq))


class Keyed:
    """Keyed draws for one replication: ``keyed(name, *key)`` is the generator of entity
    ``key`` in stream ``name``. It is one shared generator repositioned per call: take what
    the entity needs before asking for the next one."""

    _INC = 0xDA3E39CB94B95BDB  # PCG64's stream constant; any odd number

    def __init__(self, streams: Streams) -> None:
        self.prefix = f"{streams.seed}:{streams.rep}:"
        self.bits = np.random.PCG64(0)
        self.gen = np.random.Generator(self.bits)

    def __call__(self, name: str, *key: object) -> np.random.Generator:
        text = f"{self.prefix}{name}:{':'.join(map(str, key))}"
        digest = hashlib.blake2b(text.encode(), digest_size=16).digest()
        self.bits.state = {
            "bit_generator": "PCG64",
            "state": {"state": int.from_bytes(digest, "little"), "inc": self._INC},
            "has_uint32": 0,
            "uinteger": 0,
        }
        return self.gen


def drawer(spec: Distribution) -> Drawer:
    """``draw(gen, n)``: ``n`` values of ``spec`` from ``gen``."""
    return lambda gen, n: block_drawer(spec, gen)(n)


def one(spec: Distribution) -> Callable[[np.random.Generator], float]:
    """``draw(gen)``: one value of ``spec`` from ``gen`` (the parameters of
    :func:`~sim.generators.distributions.block_drawer`, one scalar call)."""
    mean, cv = spec.mean, spec.cv
    if spec.dist == "constant":
        return lambda gen: mean
    if spec.dist == "exponential":
        return lambda gen: gen.exponential(mean)
    if spec.dist == "lognormal":
        sigma = math.sqrt(math.log1p(cv * cv))
        mu = math.log(mean) - sigma * sigma / 2
        return lambda gen: gen.lognormal(mu, sigma)
    shape = 1.0 / (cv * cv)
    scale = mean / shape
    return lambda gen: gen.gamma(shape, scale)
