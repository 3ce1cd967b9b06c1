"""Reading wall-clock times from exports: offsets honoured, naive times put in a zone.

Exports mix conventions freely: ``2024-03-04T08:15:00+02:00``, ``...Z``, naive local times,
``04.03.2024 08:15``, proper datetime columns from Parquet. Everything becomes an aware
UTC timestamp at microsecond resolution (so years 1 to 9999 fit); what cannot be read, and
local times that do not exist or repeat at a DST change, become NaT for the caller to count.
Work is vectorised; only values the fast ISO 8601 path misses are parsed one by one.
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pandas as pd

from replay import coerce

_OFFSET = re.compile(r"(?:[zZ]|[+-]\d{2}(?::?\d{2})?)$")
_NAT = np.datetime64("NaT", "us")
_ERRORS = (ValueError, OverflowError, TypeError, AttributeError, OSError)


def parse_utc(
    values: pd.Series,
    timezone: str = "UTC",
    fmt: str | None = None,
    dayfirst: bool = False,
) -> pd.Series:
    """Aware UTC timestamps for ``values``; naive ones are read as ``timezone`` local time."""
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        utc = _utc_naive(pd.DatetimeIndex(values), None)
    elif pd.api.types.is_datetime64_dtype(values.dtype):
        utc = _utc_naive(pd.DatetimeIndex(values), timezone)
    else:
        text = coerce.text(values)
        utc = np.full(len(text), _NAT)
        aware = np.array([v is not None and bool(_OFFSET.search(v)) for v in text], dtype=bool)
        naive = ~aware & np.array([v is not None for v in text], dtype=bool)
        for mask, zone in ((aware, None), (naive, timezone)):
            if mask.any():
                utc[mask] = _parse(text[mask], zone, fmt, dayfirst)
    return pd.Series(pd.DatetimeIndex(utc).tz_localize("UTC"))


def _parse(text: np.ndarray, zone: str | None, fmt: str | None, dayfirst: bool) -> np.ndarray:
    """UTC (naive datetime64[us]) for strings that all carry an offset (zone None) or none."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            parsed = pd.to_datetime(
                pd.Series(text, dtype=object),
                format=fmt or "ISO8601",
                utc=zone is None,
                errors="coerce",
                dayfirst=dayfirst,
            )
            out = _utc_naive(pd.DatetimeIndex(parsed), zone)
        except _ERRORS:
            out = np.full(len(text), _NAT)
        retry = np.flatnonzero(np.isnat(out))
        if fmt is None:
            for i in retry:
                out[i] = _one(text[i], zone, dayfirst)
    return out


def _one(value: str, zone: str | None, dayfirst: bool) -> np.datetime64:
    try:
        stamp = pd.Timestamp(pd.to_datetime(value, dayfirst=dayfirst, utc=zone is None))
        return _utc_naive(pd.DatetimeIndex([stamp]), zone)[0]
    except _ERRORS:
        return _NAT


def _utc_naive(index: pd.DatetimeIndex, zone: str | None) -> np.ndarray:
    """UTC wall times as naive datetime64[us]; naive input is local time in ``zone``."""
    try:
        if index.tz is None:
            index = index.tz_localize(zone or "UTC", ambiguous="NaT", nonexistent="NaT")
        return index.tz_convert("UTC").tz_localize(None).as_unit("us").to_numpy().copy()
    except _ERRORS:
        if len(index) == 1:
            return np.full(1, _NAT)
        return np.array([_utc_naive(index[i : i + 1], zone)[0] for i in range(len(index))])


def minutes_since(stamps: pd.Series, anchor: pd.Timestamp) -> np.ndarray:
    """Float minutes from ``anchor`` to each aware timestamp (NaN for NaT)."""
    utc = pd.DatetimeIndex(stamps).tz_convert("UTC").as_unit("us")
    delta = utc - anchor.tz_convert("UTC").as_unit("us")
    return (delta / pd.Timedelta(minutes=1)).to_numpy(dtype=np.float64, na_value=np.nan)
