"""M/M/c formulas against closed forms, a direct factorial computation and Erlang C tables."""

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sim import erlang as q


def direct_erlang_c(a: float, c: int) -> float:
    """Erlang C straight from its textbook formula (fine for small c)."""
    tail = a**c / math.factorial(c) * c / (c - a)
    return tail / (sum(a**k / math.factorial(k) for k in range(c)) + tail)


@st.composite
def stable(draw, max_c: int = 30):
    c = draw(st.integers(1, max_c))
    mu = draw(st.floats(0.01, 10))
    rho = draw(st.floats(0.01, 0.99))
    return rho * c * mu, mu, c


@given(stable())
def test_erlang_c_matches_direct_formula(params):
    lam, mu, c = params
    assert q.erlang_c(lam, mu, c) == pytest.approx(direct_erlang_c(lam / mu, c), rel=1e-9)


@pytest.mark.parametrize(
    ("c", "p_wait"), [(11, 0.6821), (12, 0.4494), (13, 0.2853), (14, 0.1741), (15, 0.1020)]
)
def test_erlang_c_table_for_ten_erlangs(c, p_wait):
    # the classic call-centre table: 10 Erlangs of offered load
    assert q.erlang_c(10.0, 1.0, c) == pytest.approx(p_wait, abs=1e-4)


@given(st.floats(0.001, 10), st.floats(0.01, 0.99))
def test_single_server_is_mm1(mu, rho):
    lam = rho * mu
    assert q.erlang_c(lam, mu, 1) == pytest.approx(rho)
    assert q.mean_wait(lam, mu, 1) == pytest.approx(rho / (mu - lam))
    assert q.mean_queue_length(lam, mu, 1) == pytest.approx(rho**2 / (1 - rho))
    assert q.mean_sojourn(lam, mu, 1) == pytest.approx(1 / (mu - lam))


@given(st.floats(0.01, 0.99))
def test_two_servers_closed_form(rho):
    # M/M/2: P(wait) = 2 rho^2 / (1 + rho), Lq = 2 rho^3 / (1 - rho^2)
    lam, mu = 2 * rho, 1.0
    assert q.erlang_c(lam, mu, 2) == pytest.approx(2 * rho**2 / (1 + rho))
    assert q.mean_queue_length(lam, mu, 2) == pytest.approx(2 * rho**3 / (1 - rho**2))


@given(stable(max_c=40))
def test_more_servers_never_wait_more(params):
    lam, mu, c = params
    assert q.erlang_c(lam, mu, c + 1) <= q.erlang_c(lam, mu, c)
    assert q.mean_wait(lam, mu, c + 1) <= q.mean_wait(lam, mu, c)


@given(stable(), st.floats(0, 100))
def test_wait_tail(params, t):
    lam, mu, c = params
    p = q.prob_wait_exceeds(lam, mu, c, t)
    assert 0 <= p <= q.erlang_c(lam, mu, c)
    assert q.prob_wait_exceeds(lam, mu, c, 0) == pytest.approx(q.erlang_c(lam, mu, c))
    assert q.service_level(lam, mu, c, t) == pytest.approx(1 - p)


def test_mean_wait_integrates_the_tail():
    lam, mu, c = 4.0, 1.0, 5
    step = 1e-3
    area = sum(q.prob_wait_exceeds(lam, mu, c, (i + 0.5) * step) for i in range(40_000)) * step
    assert area == pytest.approx(q.mean_wait(lam, mu, c), rel=1e-4)


def test_large_desks_stay_finite():
    p = q.erlang_c(1000.0, 1.0, 1050)
    assert 0 < p < 1
    # with as many servers as Erlangs, B ~ sqrt(2 / (pi a)) for large a
    assert q.erlang_b(5000.0, 5000) == pytest.approx(math.sqrt(2 / (math.pi * 5000)), rel=0.01)


def test_unstable_system():
    assert q.erlang_c(5.0, 1.0, 5) == 1.0
    assert q.prob_wait_exceeds(6.0, 1.0, 5, 10.0) == 1.0
    assert q.utilisation(6.0, 1.0, 5) == pytest.approx(1.2)
    for f in (q.mean_wait, q.mean_queue_length, q.mean_sojourn):
        with pytest.raises(ValueError, match="unstable"):
            f(5.0, 1.0, 5)


@pytest.mark.parametrize(
    ("lam", "mu", "c"), [(-1.0, 1.0, 1), (1.0, 0.0, 1), (1.0, 1.0, 0), (1.0, 1.0, 1.5)]
)
def test_bad_parameters(lam, mu, c):
    with pytest.raises(ValueError):
        q.erlang_c(lam, mu, c)


@given(st.floats(0.1, 500), st.floats(0, 3))
def test_square_root_staffing(a, beta):
    c = q.sqrt_staffing(a * 0.5, 0.5, beta)
    assert c > a  # always stable
    assert c >= math.ceil(a + beta * math.sqrt(a) - 1e-9)
    assert c <= max(math.ceil(a + beta * math.sqrt(a) + 1e-9), math.floor(a) + 1)


def test_staffing_with_no_arrivals():
    assert q.sqrt_staffing(0.0, 1.0) == 0
    assert q.min_servers(0.0, 1.0, max_p_wait=0.1) == 0


@given(st.floats(0.1, 200), st.floats(0.01, 0.9))
def test_min_servers_for_wait_probability(a, target):
    c = q.min_servers(a, 1.0, max_p_wait=target)
    assert q.erlang_c(a, 1.0, c) <= target
    assert c == 1 or q.erlang_c(a, 1.0, c - 1) > target


@given(st.floats(0.1, 200), st.floats(0.01, 10))
def test_min_servers_for_mean_wait(a, target):
    c = q.min_servers(a, 1.0, max_mean_wait=target)
    assert q.mean_wait(a, 1.0, c) <= target
    assert c - 1 <= a or q.mean_wait(a, 1.0, c - 1) > target


@given(st.floats(0.1, 200), st.floats(0.5, 0.99), st.floats(0, 2))
def test_min_servers_for_service_level(a, level, within):
    c = q.min_servers(a, 1.0, service_level_target=level, within=within)
    assert q.service_level(a, 1.0, c, within) >= level
    assert c - 1 <= a or q.service_level(a, 1.0, c - 1, within) < level


def test_min_servers_meets_all_targets_at_once():
    c = q.min_servers(10.0, 1.0, max_p_wait=0.5, max_mean_wait=0.05)
    assert c == max(
        q.min_servers(10.0, 1.0, max_p_wait=0.5), q.min_servers(10.0, 1.0, max_mean_wait=0.05)
    )
    assert q.min_servers(10.0, 1.0, max_p_wait=0.2) == 14  # from the ten-Erlang table above


def test_min_servers_needs_a_target():
    with pytest.raises(ValueError):
        q.min_servers(1.0, 1.0)
    with pytest.raises(ValueError):
        q.min_servers(1.0, 1.0, service_level_target=0.8)
