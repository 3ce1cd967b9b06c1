"""Samplers for positive random quantities given by mean and coefficient of variation.

Handling times and order values are described the way practitioners talk about them ("about 45
minutes, quite variable") rather than by distribution parameters. Each sampler draws from its
own stream in numpy blocks, so a draw costs a list index, not a numpy call.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from sim.scenarios.schema import Distribution

_BLOCK = 512


def block_drawer(spec: Distribution, gen: np.random.Generator) -> Callable[[int], np.ndarray]:
    """Function drawing ``n`` values of ``spec`` from ``gen``."""
    mean, cv = spec.mean, spec.cv
    if spec.dist == "constant":
        return lambda n: np.full(n, mean)
    if spec.dist == "empirical":
        q = np.asarray(spec.quantiles, dtype=float)
        grid = np.linspace(0.0, 1.0, q.size)
        return lambda n: np.interp(gen.random(n), grid, q)
    if spec.dist == "exponential":
        return lambda n: gen.exponential(mean, n)
    if spec.dist == "lognormal":
        sigma = math.sqrt(math.log1p(cv * cv))
        mu = math.log(mean) - sigma * sigma / 2
        return lambda n: gen.lognormal(mu, sigma, n)
    shape = 1.0 / (cv * cv)
    return lambda n: gen.gamma(shape, mean / shape, n)


class Sampler:
    """Callable returning one draw at a time from a distribution, buffered in blocks."""

    __slots__ = ("_draw", "_buf", "_i")

    def __init__(self, spec: Distribution, gen: np.random.Generator) -> None:
        self._draw = block_drawer(spec, gen)
        self._buf: list[float] = []
        self._i = 0

    def __call__(self) -> float:
        if self._i >= len(self._buf):
            self._buf = self._draw(_BLOCK).tolist()
            self._i = 0
        self._i += 1
        return self._buf[self._i - 1]
