"""What happened to each input row: kept, or dropped for a named reason (with examples).

A replay must never lose rows silently, so every row read is either in the output log or
counted under one reason in :attr:`ReplayReport.dropped`; ``rows_read == rows_kept +
rows_dropped`` always holds. Problems that do not cost a row (an unknown severity becomes
null, an unparseable order value becomes NaN) are counted in :attr:`ReplayReport.warnings`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

#: Examples kept per reason.
MAX_EXAMPLES = 5


@dataclass
class ReplayReport:
    path: str
    format: str
    native: bool = False
    rows_read: int = 0
    rows_kept: int = 0
    dropped: dict[str, int] = field(default_factory=dict)
    warnings: dict[str, int] = field(default_factory=dict)
    #: events the log implies without a row of their own (first-row occurrence, level
    #: changes...), by event; they are in the output but not in ``rows_kept``
    derived: dict[str, int] = field(default_factory=dict)
    examples: dict[str, list[dict]] = field(default_factory=dict)
    #: source case id of each output case: columns rep, case_id, source_case_id
    case_ids: pd.DataFrame | None = None

    @property
    def rows_dropped(self) -> int:
        return sum(self.dropped.values())

    def drop(self, reason: str, count: int, examples: list[dict] | None = None) -> None:
        """Count ``count`` rows lost for ``reason``."""
        if count:
            self.dropped[reason] = self.dropped.get(reason, 0) + int(count)
            self._examples(reason, examples or [])

    def derive(self, event: str, count: int) -> None:
        """Count ``count`` derived ``event`` rows added to the output."""
        if count:
            self.derived[event] = self.derived.get(event, 0) + int(count)

    def warn(self, reason: str, count: int, examples: list[dict] | None = None) -> None:
        """Count ``count`` values that were blanked (the rows themselves are kept)."""
        if count:
            self.warnings[reason] = self.warnings.get(reason, 0) + int(count)
            self._examples(reason, examples or [])

    def _examples(self, reason: str, examples: list[dict]) -> None:
        kept = self.examples.setdefault(reason, [])
        kept.extend(examples[: MAX_EXAMPLES - len(kept)])

    def summary(self) -> str:
        """Human-readable lines for the CLI."""
        kind = "exsim log" if self.native else f"{self.format} log (mapped)"
        lines = [
            f"{self.path}: {kind}: {self.rows_read} rows read, {self.rows_kept} kept, "
            f"{self.rows_dropped} dropped"
        ]
        for title, counts in (("dropped", self.dropped), ("warning", self.warnings)):
            for reason, n in sorted(counts.items(), key=lambda kv: -kv[1]):
                shown = "; ".join(map(str, self.examples.get(reason, [])[:3]))
                lines.append(f"  {title}: {reason}: {n} (e.g. {shown})")
        for event, n in sorted(self.derived.items()):
            lines.append(f"  derived: {n} '{event}' events the log implies (no row of their own)")
        return "\n".join(lines)


def examples_of(frame: pd.DataFrame, mask: np.ndarray, columns: list[str]) -> list[dict]:
    """Up to MAX_EXAMPLES rows where ``mask`` holds, as {'row': n, column: raw value...}.

    ``row`` is the 1-based position in the source (header not counted).
    """
    idx = np.flatnonzero(mask)[:MAX_EXAMPLES]
    out = []
    for i in idx:
        example: dict = {"row": int(frame["_row"].iat[i]) + 1}
        for c in columns:
            if c in frame.columns:
                v = frame[c].iat[i]
                example[c] = None if _isna(v) else (v.item() if hasattr(v, "item") else v)
        out.append(example)
    return out


def _isna(value: object) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False
