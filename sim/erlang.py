"""Erlang C for M/M/c: the textbook model of a help desk, to validate the simulator and size
teams.

Cases arrive as a Poisson stream (rate ``lam``), each agent works one case at a time for an
exponential time (rate ``mu``), and ``c`` agents serve one first-come-first-served queue. Few real
desks are that simple, but when a scenario is set up to match, the simulated queue wait must
agree with these formulas; and for sizing, the Erlang C answer is the industry's first guess.

All times are in the unit of the rates (per minute in, minutes out). The offered load is
``a = lam / mu`` (busy agents on average) and the utilisation ``rho = a / c``. Erlang C is
computed from the Erlang B recursion, which stays finite and accurate for thousands of agents
where the factorial formula overflows.
"""

from __future__ import annotations

import math


def _check(lam: float, mu: float, c: int | None = None) -> None:
    if not (lam >= 0 and math.isfinite(lam)):
        raise ValueError(f"arrival rate must be finite and >= 0, got {lam}")
    if not (mu > 0 and math.isfinite(mu)):
        raise ValueError(f"service rate must be finite and > 0, got {mu}")
    if c is not None and (int(c) != c or c < 1):
        raise ValueError(f"number of servers must be a positive integer, got {c}")


def _check_stable(lam: float, mu: float, c: int) -> None:
    _check(lam, mu, c)
    if lam >= c * mu:
        raise ValueError(
            f"unstable queue: utilisation {lam / (c * mu):.3f} >= 1 (lam={lam}, mu={mu}, c={c}); "
            "the queue grows without bound"
        )


def utilisation(lam: float, mu: float, c: int) -> float:
    """Offered load per agent, lam / (c mu); 1 or more means the queue grows without bound."""
    _check(lam, mu, c)
    return lam / (c * mu)


def erlang_b(a: float, c: int) -> float:
    """Blocking probability of M/M/c/c with offered load ``a`` (B(0) = 1, then the recursion)."""
    if a < 0 or int(c) != c or c < 0:
        raise ValueError(f"need a >= 0 and integer c >= 0, got a={a}, c={c}")
    b = 1.0
    for k in range(1, int(c) + 1):
        b = a * b / (k + a * b)
    return b


def _c_from_b(b: float, rho: float) -> float:
    return b / (1 - rho * (1 - b))


def erlang_c(lam: float, mu: float, c: int) -> float:
    """Probability that an arriving case has to wait, P(Wq > 0).

    For an unstable system this is 1: the queue grows and eventually everyone waits.
    """
    _check(lam, mu, c)
    rho = lam / (c * mu)
    if rho >= 1:
        return 1.0
    return _c_from_b(erlang_b(lam / mu, c), rho)


def mean_wait(lam: float, mu: float, c: int) -> float:
    """Mean time in queue Wq = C / (c mu - lam)."""
    _check_stable(lam, mu, c)
    return erlang_c(lam, mu, c) / (c * mu - lam)


def mean_queue_length(lam: float, mu: float, c: int) -> float:
    """Mean number waiting Lq = lam Wq (Little's law)."""
    return lam * mean_wait(lam, mu, c)


def mean_sojourn(lam: float, mu: float, c: int) -> float:
    """Mean time in system W = Wq + 1/mu."""
    return mean_wait(lam, mu, c) + 1 / mu


def prob_wait_exceeds(lam: float, mu: float, c: int, t: float) -> float:
    """P(Wq > t) = C exp(-(c mu - lam) t); 1 for an unstable system."""
    if t < 0:
        raise ValueError(f"t must be >= 0, got {t}")
    _check(lam, mu, c)
    if lam >= c * mu:
        return 1.0
    return erlang_c(lam, mu, c) * math.exp(-(c * mu - lam) * t)


def service_level(lam: float, mu: float, c: int, t: float) -> float:
    """Share of cases picked up within ``t``: P(Wq <= t)."""
    return 1.0 - prob_wait_exceeds(lam, mu, c, t)


def sqrt_staffing(lam: float, mu: float, beta: float = 1.0) -> int:
    """Square-root staffing rule c = ceil(a + beta sqrt(a)), never below the stable minimum.

    ``beta`` is the quality-of-service knob (about 0.5 lean, 1 balanced, 2 generous); the
    minimum ``floor(a) + 1`` keeps ``beta = 0`` from returning an unstable desk.
    """
    _check(lam, mu)
    if beta < 0:
        raise ValueError(f"beta must be >= 0, got {beta}")
    a = lam / mu
    if a == 0:
        return 0
    return max(math.ceil(a + beta * math.sqrt(a)), math.floor(a) + 1)


def min_servers(
    lam: float,
    mu: float,
    *,
    max_p_wait: float | None = None,
    max_mean_wait: float | None = None,
    service_level_target: float | None = None,
    within: float | None = None,
    c_max: int = 100_000,
) -> int:
    """Fewest agents meeting every given target.

    Targets: ``max_p_wait`` on P(Wq > 0); ``max_mean_wait`` on Wq; ``service_level_target``
    with ``within`` on P(Wq <= within) (e.g. 0.8 of cases picked up within 20 minutes). The
    scan walks c upward carrying the Erlang B recursion, so it costs O(c). No arrivals need no
    agents (0).
    """
    _check(lam, mu)
    if max_p_wait is None and max_mean_wait is None and service_level_target is None:
        raise ValueError("give at least one target")
    if (service_level_target is None) != (within is None):
        raise ValueError("service_level_target and within go together")
    if max_p_wait is not None and not 0 <= max_p_wait <= 1:
        raise ValueError(f"max_p_wait must be in [0, 1], got {max_p_wait}")
    if service_level_target is not None and not 0 <= service_level_target <= 1:
        raise ValueError(f"service_level_target must be in [0, 1], got {service_level_target}")
    if max_mean_wait is not None and max_mean_wait < 0:
        raise ValueError(f"max_mean_wait must be >= 0, got {max_mean_wait}")
    if within is not None and within < 0:
        raise ValueError(f"within must be >= 0, got {within}")
    if lam == 0:
        return 0
    a = lam / mu
    b = 1.0
    for c in range(1, c_max + 1):
        b = a * b / (c + a * b)
        if lam >= c * mu:
            continue
        p_wait = _c_from_b(b, a / c)
        if max_p_wait is not None and p_wait > max_p_wait:
            continue
        if max_mean_wait is not None and p_wait / (c * mu - lam) > max_mean_wait:
            continue
        if service_level_target is not None and within is not None:
            late = p_wait * math.exp(-(c * mu - lam) * within)
            if 1 - late < service_level_target:
                continue
        return c
    raise ValueError(f"no staffing up to c_max={c_max} meets the targets")
