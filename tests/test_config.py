"""Bad input: one clear line naming the file and the field, never a crash."""

from __future__ import annotations

import string

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from sim import config
from sim.config import ConfigError, load_policy, load_scenario
from tests.profiles import examples


def _write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return path


def _policy_doc():
    return yaml.safe_load(config.library("policies")["default"].read_text())


def _scenario_doc():
    return yaml.safe_load(config.library("scenarios")["default"].read_text())


def test_library_ships_defaults():
    assert "default" in config.library("scenarios")
    assert "default" in config.library("policies")
    assert load_scenario().categories and load_policy().staffing.teams


@pytest.mark.parametrize(
    ("kind", "edit", "expected"),
    [
        (
            "policy",
            lambda d: d["staffing"]["teams"]["planning"]["shifts"][0].update(agents=0),
            "policy.yaml: staffing.teams.planning.shifts[0].agents: must be >= 1",
        ),
        ("policy", lambda d: d.update(colour="blue"), "policy.yaml: colour: unknown field"),
        (
            "policy",
            lambda d: d["queue"].update(discipline="lifo"),
            "policy.yaml: queue.discipline: unknown discipline 'lifo' (known: edf, fifo, priority",
        ),
        (
            "policy",
            lambda d: d["routing"]["by_category"].update(stock_shortage="nobody"),
            "routing.by_category.stock_shortage: unknown team 'nobody'",
        ),
        (
            "policy",
            lambda d: d["staffing"]["teams"]["finance"]["shifts"][0].update(start="25:00"),
            "policy.yaml: staffing.teams.finance.shifts[0].start: '25:00' is not a time of day",
        ),
        (
            "scenario",
            lambda d: d["categories"]["stock_shortage"].update(rate_per_hour=-1),
            "scenario.yaml: categories.stock_shortage.rate_per_hour: must be >= 0 (got -1)",
        ),
        (
            "scenario",
            lambda d: d.update(horizon_days="two weeks"),
            "scenario.yaml: horizon_days: Input should be a valid number",
        ),
        (
            "scenario",
            lambda d: d["categories"]["pod_dispute"].pop("handling_min"),
            "scenario.yaml: categories.pod_dispute.handling_min: required field is missing",
        ),
        (
            "scenario",
            lambda d: d["profiles"]["business"].update(hourly=[1, 2]),
            "scenario.yaml: profiles.business.hourly: needs 24 values",
        ),
    ],
)
def test_validation_errors_name_file_and_field(tmp_path, kind, edit, expected):
    doc = _policy_doc() if kind == "policy" else _scenario_doc()
    edit(doc)
    path = _write(tmp_path, f"{kind}.yaml", yaml.safe_dump(doc))
    loader = load_policy if kind == "policy" else load_scenario
    with pytest.raises(ConfigError) as err:
        loader(path)
    message = str(err.value)
    assert "\n" not in message
    assert str(path) in message
    assert expected.split(": ", 1)[1] in message


def test_missing_file_and_bad_yaml(tmp_path):
    with pytest.raises(ConfigError, match="nope.yaml: no such file"):
        load_policy(tmp_path / "nope.yaml")
    bad = _write(tmp_path, "bad.yaml", "name: x\n  staffing: [\n")
    with pytest.raises(ConfigError, match=r"bad.yaml: line \d+, column \d+: invalid YAML"):
        load_policy(bad)
    scalar = _write(tmp_path, "scalar.yaml", "just a string\n")
    with pytest.raises(ConfigError, match="scalar.yaml: expected a mapping"):
        load_scenario(scalar)


def test_overrides_are_validated_too():
    with pytest.raises(ConfigError, match="horizon_days: must be > 0"):
        load_scenario("default", overrides={"horizon_days": -3})
    pol = load_policy("default", overrides={"staffing.teams.finance.shifts": [{"agents": 4}]})
    assert pol.staffing.teams["finance"].shift_list()[0].agents == 4


yaml_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 5),
    st.floats(allow_nan=True),
    st.text(string.printable, max_size=8),
)
yaml_docs = st.recursive(
    yaml_scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.text(string.ascii_lowercase + "_", max_size=10), children, max_size=5),
    ),
    max_leaves=25,
)


def _mutate(doc, path, value):
    node = doc
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return doc


def _paths(doc, prefix=()):
    if isinstance(doc, dict):
        for k, v in doc.items():
            yield prefix + (k,)
            yield from _paths(v, prefix + (k,))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            yield prefix + (i,)
            yield from _paths(v, prefix + (i,))


@settings(max_examples=examples(150), deadline=None)
@given(doc=yaml_docs, kind=st.sampled_from(["scenarios", "policies"]))
def test_random_documents_only_raise_config_error(tmp_path_factory, doc, kind):
    path = tmp_path_factory.mktemp("h") / "doc.yaml"
    path.write_text(yaml.safe_dump(doc))
    model = config.Scenario if kind == "scenarios" else config.Policy
    try:
        config.load(model, path, kind)
    except ConfigError as exc:
        assert "\n" not in str(exc) and str(path) in str(exc)


@settings(max_examples=examples(150), deadline=None)
@given(data=st.data(), kind=st.sampled_from(["scenarios", "policies"]))
def test_garbled_shipped_documents_only_raise_config_error(tmp_path_factory, data, kind):
    doc = _scenario_doc() if kind == "scenarios" else _policy_doc()
    paths = list(_paths(doc))
    target = data.draw(st.sampled_from(paths))
    _mutate(doc, target, data.draw(yaml_docs))
    path = tmp_path_factory.mktemp("g") / "doc.yaml"
    path.write_text(yaml.safe_dump(doc))
    model = config.Scenario if kind == "scenarios" else config.Policy
    try:
        config.load(model, path, kind)
    except ConfigError as exc:
        assert "\n" not in str(exc) and str(path) in str(exc)


@settings(max_examples=100, deadline=None)
@given(raw=st.binary(max_size=200))
def test_random_bytes_only_raise_config_error(tmp_path_factory, raw):
    path = tmp_path_factory.mktemp("b") / "doc.yaml"
    path.write_bytes(raw)
    try:
        load_policy(path)
    except ConfigError as exc:
        assert "\n" not in str(exc)


# -- budgets and bounds: whatever number a file gives, it is in bounds or refused by name -------
BOUNDED = {
    # field path: (model loader, lowest accepted, highest accepted, lowest excluded)
    "horizon_days": (load_scenario, None, 3660, True),
    "categories.stock_shortage.rate_per_hour": (load_scenario, 0, 1000, False),
    "detection.picking_sla.scan.interval_min": (load_policy, 1, None, False),
}


@settings(max_examples=examples(60), deadline=None)
@given(
    field=st.sampled_from(sorted(BOUNDED)),
    value=st.floats(allow_nan=True, allow_infinity=True) | st.integers(-(10**30), 10**30),
)
def test_numbers_are_finite_and_plausible_or_refused_naming_the_field(field, value):
    loader, low, high, open_low = BOUNDED[field]
    ok = isinstance(value, int) or value == value and value not in (float("inf"), float("-inf"))
    ok = ok and (low is None or (value > low if open_low else value >= low))
    ok = ok and (high is None or value <= high)
    if field == "horizon_days":
        ok = ok and value > 0
    try:
        loader("default", {field: value})
    except ConfigError as exc:
        assert not ok, exc
        assert field in str(exc) and "\n" not in str(exc)
        assert len(str(exc)) < 300
    else:
        assert ok, value


@settings(max_examples=30, deadline=None)
@given(levels=st.integers(2, 12), width=st.integers(2, 12))
def test_alias_expansion_is_bounded_before_anything_is_built(tmp_path_factory, levels, width):
    lines = ["name: x", "a0: &a0 [lol]"]
    for i in range(1, levels):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * width) + "]")
    path = tmp_path_factory.mktemp("bomb") / "bomb.yaml"
    path.write_text("\n".join(lines) + "\n")
    expanded = sum(width**i for i in range(levels)) * 2
    try:
        data = config.read_yaml(path)
    except ConfigError as exc:
        assert "expands to more than" in str(exc) and expanded > 100_000
    else:
        assert data["name"] == "x"
