"""The Pareto front: the settings no other setting beats on both counts.

A sweep trades one KPI against another: scanning more often catches late pickings sooner but
raises more alerts; more agents meet more deadlines but cost more. A point is on the front
when no other point is at least as good on both axes and strictly better on one. Everything
off the front is a setting you should never choose, whatever your weighting of the two.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def pareto_front(
    frame: pd.DataFrame, x: str, y: str, minimize_x: bool = True, maximize_y: bool = True
) -> pd.DataFrame:
    """Rows of ``frame`` not dominated on (x, y), ordered from best x to best y.

    Rows with a missing x or y are left out. Identical points are all kept (neither
    dominates the other).
    """
    for col in (x, y):
        if col not in frame.columns:
            raise KeyError(f"no column {col!r}; have: {', '.join(map(str, frame.columns))}")
    data = frame.dropna(subset=[x, y])
    if data.empty:
        return data
    xs = data[x].to_numpy(float) * (1 if minimize_x else -1)
    ys = data[y].to_numpy(float) * (1 if maximize_y else -1)
    order = np.lexsort((-ys, xs))  # by x (best first), then y (best first)
    keep: list[int] = []
    best_y = -np.inf
    i = 0
    while i < len(order):
        j = i
        while j < len(order) and xs[order[j]] == xs[order[i]]:
            j += 1
        group_best = ys[order[i]]
        if group_best > best_y:
            keep += [k for k in order[i:j] if ys[k] == group_best]
            best_y = group_best
        i = j
    return data.iloc[keep]
