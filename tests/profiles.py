"""Hypothesis profiles: a quick default run, every count in full in CI.

The property tests that cost most per example name their full count through :func:`examples`,
``@settings(max_examples=examples(150))``. The default ``pytest`` loads the ``quick`` profile,
under which they run a third of it (at least :data:`QUICK_MIN`, or the count itself when
smaller): every invariant is still tried on fresh random inputs at every run, and the suite
stays fast. CI's second step runs every property test again at its full count (``pytest -m
"slow or hypothesis" --hypothesis-profile thorough``). Whatever a run falsifies is kept in
Hypothesis's example database (``.hypothesis/``) and tried first by the next run, quick or
thorough. Tests naming a plain count, or none, run it under both profiles.
"""

from __future__ import annotations

from hypothesis import settings

#: Share of its full count a test run through :func:`examples` runs under ``quick``, and the
#: fewest examples it runs there.
QUICK_SHARE = 1 / 3
QUICK_MIN = 10


def quick_count(full: int) -> int:
    """How many examples ``quick`` runs of a test whose full count is ``full``."""
    return max(min(full, QUICK_MIN), round(full * QUICK_SHARE))


def examples(full: int) -> int:
    """A costly property test's example count under the loaded profile."""
    return full if settings.get_current_profile_name() == "thorough" else quick_count(full)


def register() -> None:
    """Register ``quick`` and ``thorough`` on top of the profile Hypothesis chose (its ``ci``
    profile on a CI machine), and load ``quick``; ``--hypothesis-profile`` loads another after."""
    base = settings.get_profile(settings.get_current_profile_name())
    for name in ("quick", "thorough"):
        settings.register_profile(name, base)
    settings.load_profile("quick")
