"""Backlog: how many cases are open on the desk, over time.

A case is open from the moment it occurs until it is closed (or resolved, for cases the log never
closes). The open count is a step function of time, built here by a sweep over +1 (occurred) and
-1 (closed) steps, so time averages are exact integrals rather than samples. This is a *state*
statistic: after a warm-up we observe the desk as it is, including cases that arrived during the
warm-up and are still open, which is what warm-up deletion is meant to do for a queue length.
The same sweep feeds Little's law (L = lambda * W), a cheap consistency check on any log.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.metrics.cases import as_category, case_table, codes_of, log_meta

#: Age bands of open cases at the horizon: (label, upper bound in minutes, exclusive).
AGE_BANDS: tuple[tuple[str, float], ...] = (
    ("<1h", 60.0),
    ("1-4h", 240.0),
    ("4-24h", 1440.0),
    ("1-3d", 4320.0),
    (">3d", np.inf),
)
UNASSIGNED = "unassigned"


def open_interval(cases: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """[start, end) of each case's open spell; end is inf while still open (NaN start: none)."""
    start = cases["occurred"].to_numpy()
    end = cases["closed"].to_numpy()
    end = np.where(np.isnan(end), cases["resolved"].to_numpy(), end)
    return start, np.where(np.isnan(end), np.inf, end)


def _steps(start: np.ndarray, end: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sorted step times and the open count just after each step.

    At equal times closings go first, so a case closing as another opens never counts twice.
    Built with few temporaries (a year's half a million cases make each a few MiB).
    """
    ok = np.isfinite(start)
    if not ok.all():
        start, end = start[ok], end[ok]
    closes = end[np.isfinite(end)]
    times = np.concatenate([start, closes])
    del closes
    delta = np.ones(times.size, np.int8)
    delta[start.size :] = -1
    order = np.lexsort((delta, times))
    times = times[order]
    level = np.cumsum(delta[order], dtype=np.int64)
    return times, level


def _level_at(times: np.ndarray, level: np.ndarray, t: np.ndarray | float) -> np.ndarray:
    """Open count at time(s) ``t`` (after every step at or before ``t``)."""
    i = np.searchsorted(times, t, side="right") - 1
    return np.where(i >= 0, level[np.maximum(i, 0)] if level.size else 0, 0)


def backlog_stats(start: np.ndarray, end: np.ndarray, t0: float, t1: float) -> dict:
    """Time-weighted mean open count over [t0, t1], its max there, and the count at t1."""
    times, level = _steps(start, end)
    at_t0 = int(_level_at(times, level, t0))
    final = int(_level_at(times, level, t1))
    inside = (times > t0) & (times <= t1)
    peak = max(at_t0, int(level[inside].max())) if inside.any() else at_t0
    del inside
    if t1 <= t0:
        return {"mean": None, "max": peak, "final": final}
    widths = np.clip(times, t0, t1)  # then each step's width, in place: diff(clipped, then t1)
    del times
    widths[:-1] = widths[1:] - widths[:-1]
    if widths.size:
        widths[-1] = t1 - widths[-1]
    np.multiply(level, widths, out=widths)
    area = float(widths.sum())
    return {"mean": area / (t1 - t0), "max": peak, "final": final}


def aging(start: np.ndarray, end: np.ndarray, horizon: float) -> dict[str, int]:
    """Open cases at the horizon, counted by age band since they occurred."""
    open_now = (start <= horizon) & (end > horizon)
    age = horizon - start[open_now]
    bounds = np.array([upper for _, upper in AGE_BANDS[:-1]])
    counts = np.bincount(np.searchsorted(bounds, age, side="right"), minlength=len(AGE_BANDS))
    return {label: int(c) for (label, _), c in zip(AGE_BANDS, counts, strict=True)}


def littles_law(
    mean_open: float | None, start: np.ndarray, end: np.ndarray, t0: float, t1: float
) -> dict:
    """L against lambda * W over the window, for the cases that arrived in it.

    W truncates still-open cases at the horizon. With no warm-up and a log that starts at time
    0, L * T and lambda * W * T are the same area, so the identity is exact; with a warm-up the
    cases carried over from before it make the (small) difference reported as ``rel_error``.
    """
    arrived = np.isfinite(start) & (start >= t0) & (start <= t1)
    span = t1 - t0
    lam = float(arrived.sum() / span) if span > 0 else None
    sojourn = np.minimum(end[arrived], t1) - start[arrived]
    w = float(sojourn.mean()) if sojourn.size else None
    lam_w = lam * w if lam is not None and w is not None else None
    rel = abs(lam_w - mean_open) / mean_open if lam_w is not None and mean_open else None
    return {"L": mean_open, "lambda_per_min": lam, "W_min": w, "lambda_W": lam_w, "rel_error": rel}


def _new_case(which: np.ndarray) -> np.ndarray:
    """True where a run of equal case indices starts."""
    return np.r_[True, which[1:] != which[:-1]] if which.size else np.zeros(0, bool)


def _team_steps(
    df: pd.DataFrame, cases: pd.DataFrame, start: np.ndarray, end: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, list[str]]:
    """(case row, time, delta, team code) steps of the open count per owning team.

    A case counts for no team ("unassigned") from occurrence until its first row with a team,
    then for each team that owns it in turn, until it is closed.
    """
    team = as_category(df["team"])
    names = [str(t) for t in team.cat.categories] + [UNASSIGNED]
    none = len(names) - 1
    codes = codes_of(team)
    rows = np.flatnonzero(codes >= 0)
    span = int(cases["case_id"].max()) + 1 if len(cases) else 1
    case_keys = cases["rep"].to_numpy() * span + cases["case_id"].to_numpy()
    key = df["rep"].to_numpy(np.int64)[rows] * span + df["case_id"].to_numpy(np.int64)[rows]
    ts = df["ts"].to_numpy(float)[rows]
    order = np.lexsort((ts, key))
    which, ts, code = np.searchsorted(case_keys, key[order]), ts[order], codes[rows][order]
    # keep the rows where the owner changes, while the case is open
    change = _new_case(which) | (code != np.r_[none, code[:-1]])
    which, ts, code = which[change], ts[change], code[change]
    keep = (ts < end[which]) & np.isfinite(start[which])
    which, ts, code = which[keep], np.maximum(ts[keep], start[which[keep]]), code[keep]
    first = _new_case(which)
    old = np.where(first, none, np.r_[none, code[:-1]])
    last = np.r_[first[1:], True] if which.size else first
    current = np.full(len(cases), none)
    current[which[last]] = code[last]  # the team holding the case when it closes
    opened = np.isfinite(start)
    closed = opened & np.isfinite(end)
    n_open, n_change, n_close = int(opened.sum()), ts.size, int(closed.sum())
    idx = np.concatenate([np.flatnonzero(opened), which, which, np.flatnonzero(closed)])
    t = np.concatenate([start[opened], ts, ts, end[closed]])
    delta = np.repeat([1, -1, 1, -1], [n_open, n_change, n_change, n_close])
    g = np.concatenate([np.full(n_open, none), old, code, current[closed]])
    return idx, t, delta, g, names


def backlog_series(df: pd.DataFrame, step_min: float = 60.0, by: str | None = None) -> pd.DataFrame:
    """Open cases on a time grid 0, step, ..., horizon, for charts.

    Returns a tidy frame ``rep, ts, [by], open``. ``by='category'`` splits by the case's
    category; ``by='team'`` by the team owning the case at that time (``"unassigned"`` before
    routing).
    """
    if by not in (None, "category", "team"):
        raise ValueError(f"by must be None, 'category' or 'team', not {by!r}")
    if step_min <= 0:
        raise ValueError("step_min must be positive")
    horizon = log_meta(df).horizon_min
    grid = np.arange(0.0, horizon + step_min * 1e-9, step_min)
    cases = case_table(df)
    start, end = open_interval(cases)
    if by == "team":
        idx, t, delta, g, names = _team_steps(df, cases, start, end)
    else:
        ok = np.isfinite(start)
        closes = ok & np.isfinite(end)
        idx = np.concatenate([np.flatnonzero(ok), np.flatnonzero(closes)])
        t = np.concatenate([start[ok], end[closes]])
        delta = np.r_[np.ones(ok.sum(), np.int64), -np.ones(closes.sum(), np.int64)]
        if by == "category":
            cat = cases["category"].array
            names = [str(c) for c in cat.categories]
            g = np.asarray(cat.codes)[idx]
        else:
            names, g = [""], np.zeros(idx.size, np.int64)
    reps = np.unique(cases["rep"].to_numpy())
    rep_of = np.searchsorted(reps, cases["rep"].to_numpy()[idx])
    frames = []
    for r_i, rep in enumerate(reps):
        for g_i, name in enumerate(names):
            sel = (rep_of == r_i) & (g == g_i)
            order = np.lexsort((delta[sel], t[sel]))
            level = _level_at(t[sel][order], np.cumsum(delta[sel][order]), grid)
            frame = {"rep": int(rep), "ts": grid}
            if by is not None:
                frame[by] = name
            frame["open"] = level.astype(np.int64)
            frames.append(pd.DataFrame(frame))
    columns = ["rep", "ts"] + ([by] if by else []) + ["open"]
    if not frames:
        return pd.DataFrame(columns=columns)
    out = pd.concat(frames, ignore_index=True)
    if by is not None:
        out[by] = pd.Categorical(out[by], categories=names)
    return out.sort_values(["rep", "ts"], kind="stable", ignore_index=True)[columns]
