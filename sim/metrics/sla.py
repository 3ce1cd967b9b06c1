"""Service levels: was each case resolved by its deadline?

A case meets its SLA when it is resolved at or before its due time. A case still open at the
horizon has already breached if its deadline has passed; if not, the run ended before we could
know, so it is *pending* and left out of the share rather than counted as a success (which would
flatter short runs). Cases without a deadline in the log (never classified, so the rules never
gave them one) cannot be judged and are counted apart as ``no_due``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

MET, BREACHED, PENDING, NO_DUE = 0, 1, 2, 3


def sla_outcome(resolved: np.ndarray, due: np.ndarray, horizon: float) -> np.ndarray:
    """Per case one of MET, BREACHED, PENDING, NO_DUE."""
    out = np.full(len(due), NO_DUE, dtype=np.int8)
    has_due = ~np.isnan(due)
    done = ~np.isnan(resolved)
    out[has_due & done] = np.where(resolved[has_due & done] <= due[has_due & done], MET, BREACHED)
    waiting = has_due & ~done
    out[waiting] = np.where(due[waiting] < horizon, BREACHED, PENDING)
    return out


def _shares(outcome: np.ndarray, group: pd.Categorical) -> dict[str, float | None]:
    """Met share per category of ``group`` (None where nothing was judged)."""
    codes = np.asarray(group.codes)
    size = len(group.categories)
    ok = codes >= 0
    met = np.bincount(codes[ok & (outcome == MET)], minlength=size)
    breached = np.bincount(codes[ok & (outcome == BREACHED)], minlength=size)
    judged = met + breached
    return {
        str(name): (float(met[i] / judged[i]) if judged[i] else None)
        for i, name in enumerate(group.categories)
    }


def sla_summary(cases: pd.DataFrame, horizon: float) -> dict:
    """``overall`` share, shares ``by_category`` and ``by_severity`` (final severity), counts."""
    outcome = sla_outcome(cases["resolved"].to_numpy(), cases["due"].to_numpy(), horizon)
    counts = np.bincount(outcome, minlength=4)
    judged = counts[MET] + counts[BREACHED]
    return {
        "overall": float(counts[MET] / judged) if judged else None,
        "by_category": _shares(outcome, cases["category"].array),
        "by_severity": _shares(outcome, cases["severity"].array),
        "met": int(counts[MET]),
        "breached": int(counts[BREACHED]),
        "pending": int(counts[PENDING]),
        "no_due": int(counts[NO_DUE]),
    }
