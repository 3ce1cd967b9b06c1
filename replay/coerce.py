"""Turning loosely typed source columns into exsim's value types, one column at a time.

Sources hand us strings (CSV), typed columns (Parquet), Python values (XES, OCEL), and
garbage anywhere. These helpers never raise: a value that does not fit becomes null and the
caller counts it.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd


def text(values: pd.Series) -> np.ndarray:
    """Stripped strings (object array); None for nulls and blanks. ``12.0`` -> ``"12"``."""
    out = np.empty(len(values), dtype=object)
    for i, v in enumerate(values.astype(object)):
        out[i] = _text(v)
    return out


def _text(v: object) -> str | None:
    if v is None:
        return None
    if isinstance(v, float):
        if math.isnan(v):
            return None
        if v.is_integer() and abs(v) < 2**63:
            return str(int(v))
    if isinstance(v, np.floating) and np.isnan(v):
        return None
    if v is pd.NaT or v is pd.NA:
        return None
    s = str(v).strip()
    return s or None


def floats(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(float array, mask of non-null values that were not numbers)."""
    raw = text(values)
    out = np.full(len(raw), np.nan)
    bad = np.zeros(len(raw), dtype=bool)
    for i, v in enumerate(raw):
        if v is None:
            continue
        try:
            f = float(v.replace(",", ".") if v.count(",") == 1 and "." not in v else v)
        except ValueError:
            bad[i] = True
            continue
        if math.isfinite(f):
            out[i] = f
        else:
            bad[i] = True
    return out, bad


def ints(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(int64 array, mask of values that are integers); others are 0 in the array."""
    raw = text(values)
    out = np.zeros(len(raw), dtype=np.int64)
    ok = np.zeros(len(raw), dtype=bool)
    for i, v in enumerate(raw):
        if v is None:
            continue
        try:
            n = int(v)
        except ValueError:
            try:
                f = float(v)
            except ValueError:
                continue
            if not (math.isfinite(f) and f.is_integer()):
                continue
            n = int(f)
        if -(2**63) <= n < 2**63:
            out[i], ok[i] = n, True
    return out, ok
