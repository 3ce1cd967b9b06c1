"""Confidence intervals, paired comparisons and tree aggregation across replications."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats as sps

from sim import stats

samples = st.lists(st.floats(-1e6, 1e6), min_size=2, max_size=50)


@given(samples)
def test_ci_contains_the_sample_mean(xs):
    ci = stats.mean_ci(xs)
    assert ci.n == len(xs)
    assert ci.mean == pytest.approx(float(np.mean(xs)), abs=1e-6)
    assert ci.lo <= ci.mean <= ci.hi


def test_ci_matches_scipy_t_interval():
    xs = [3.1, 2.7, 3.9, 4.4, 3.0, 2.2]
    lo, hi = sps.t.interval(0.95, len(xs) - 1, loc=np.mean(xs), scale=sps.sem(xs))
    ci = stats.mean_ci(xs)
    assert (ci.lo, ci.hi) == pytest.approx((lo, hi))
    wider = stats.mean_ci(xs, confidence=0.99)
    assert wider.lo < ci.lo and wider.hi > ci.hi


def test_ci_edge_cases():
    assert stats.mean_ci([]).n == 0 and math.isnan(stats.mean_ci([]).mean)
    one = stats.mean_ci([2.0])
    assert one.mean == 2.0 and math.isnan(one.lo) and math.isnan(one.hi)
    flat = stats.mean_ci([5.0, 5.0, 5.0])
    assert (flat.lo, flat.mean, flat.hi) == (5.0, 5.0, 5.0)
    holes = stats.mean_ci([1.0, None, float("nan"), 3.0])
    assert holes.n == 2 and holes.mean == 2.0


def test_paired_diff_matches_scipy():
    a = [10.2, 11.5, 9.8, 12.1, 10.9, 11.0]
    b = [9.9, 11.0, 9.9, 11.2, 10.1, 10.4]
    res = stats.paired_diff(a, b)
    ref = sps.ttest_rel(a, b)
    assert res.p_value == pytest.approx(ref.pvalue)
    assert res.mean == pytest.approx(np.mean(np.subtract(a, b)))
    assert res.lo <= res.mean <= res.hi
    assert res.significant == (ref.pvalue < 0.05)
    d = np.subtract(a, b)
    lo, hi = sps.t.interval(0.95, len(d) - 1, loc=d.mean(), scale=sps.sem(d))
    assert (res.lo, res.hi) == pytest.approx((lo, hi))


@given(st.lists(st.tuples(st.floats(-1e3, 1e3), st.floats(-1e3, 1e3)), min_size=3, max_size=30))
def test_paired_diff_interval_and_test_agree(pairs):
    a, b = zip(*pairs, strict=True)
    res = stats.paired_diff(a, b)
    assert res.lo <= res.mean + 1e-9 and res.mean <= res.hi + 1e-9
    if res.significant and res.lo < res.hi:  # a significant difference excludes zero
        assert res.lo > 0 or res.hi < 0


def test_paired_diff_edge_cases():
    same = stats.paired_diff([1.0, 2.0, 3.0], [1.0, 2.0, 3.0])
    assert same.mean == 0.0 and not same.significant and same.p_value == 1.0
    shifted = stats.paired_diff([2.0, 3.0, 4.0], [1.0, 2.0, 3.0])
    assert shifted.lo == shifted.hi == 1.0 and shifted.significant
    short = stats.paired_diff([1.0, None], [0.0, 1.0])
    assert short.n == 1 and not short.significant and math.isnan(short.p_value)
    with pytest.raises(ValueError):
        stats.paired_diff([1.0], [1.0, 2.0])


def test_aggregate_trees():
    runs = [
        {"a": 1, "g": {"x": 0.5, "y": None}, "tag": "s"},
        {"a": 3, "g": {"x": 0.7, "y": 2.0}},
        {"a": 5, "g": {"x": None, "z": 1}},
    ]
    means, cis = stats.aggregate(runs)
    assert list(means) == ["a", "g", "tag"] and list(means["g"]) == ["x", "y", "z"]
    assert means["a"] == 3.0
    assert cis["a"] == pytest.approx(list(stats.mean_ci([1, 3, 5])[1:3]))
    assert means["g"]["x"] == pytest.approx(0.6)
    assert means["g"]["y"] == 2.0 and cis["g"]["y"] is None  # one value: no interval
    assert means["g"]["z"] == 1.0
    assert means["tag"] == "s" and cis["tag"] is None
