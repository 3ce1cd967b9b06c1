"""The runner tunes Python's cycle collector for a run and gives it back as it was."""

from __future__ import annotations

import gc

import pytest

from sim import runner


def test_the_collector_is_tuned_during_a_run_and_restored_after_it():
    before = gc.get_threshold()
    with runner.collector_tuned():
        assert gc.get_threshold()[0] > before[0]
        assert gc.get_freeze_count() > 0  # what existed before the run is out of its view
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0


def test_the_collector_is_restored_when_the_run_fails():
    before = gc.get_threshold()
    with pytest.raises(RuntimeError), runner.collector_tuned():
        raise RuntimeError("boom")
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0
