"""The four questions the evaluation exists for, each a number with its n, interval and target.

1. share of published revisions whose digest has complete provenance and carry-forward context;
2. reviewer correction rate by part (changed steps, entitlement assumptions, ownership mappings);
3. share of ambiguous carve-outs, stale ownership and unsupported customer-impact assumptions
   surfaced before a live severity-one case needed the runbook
   (:mod:`~digestkit.evaluation.timeliness`);
4. usefulness (share of rated digests a reviewer rated as reducing handoff ambiguity) next to the
   scope-drift rate.

Every number is a :class:`~digestkit.evaluation.stats.Rate` (95% Wilson interval; under
:data:`~digestkit.evaluation.stats.MIN_N` shown as "n too small"), compared with its
:data:`TARGETS` entry and with the previous period (:func:`previous_period`). People's and the
simulation's reviews are separate rows, never pooled.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import TYPE_CHECKING, Any, Literal

import pandas as pd

from digestkit.evaluation.stats import MIN_N, Rate
from digestkit.exceptions import UsageError

if TYPE_CHECKING:
    from digestkit.evaluation.metrics import Evaluation
    from digestkit.evaluation.periods import Bounds

__all__ = [
    "HEADLINE_PARTS",
    "QUESTIONS",
    "TARGETS",
    "HeadlineRow",
    "headline",
    "headline_table",
    "previous_period",
]

QUESTIONS: dict[int, str] = {
    1: "Do published revisions get a digest with complete provenance and carry-forward context?",
    2: "How often do reviewers correct the digest, by part?",
    3: "Were carve-outs, stale ownership and impact assumptions surfaced before a live case?",
    4: "Do digests reduce handoff ambiguity without drifting out of scope?",
}

HEADLINE_PARTS = ("changed_steps", "entitlement_assumptions", "ownership_mappings")
"""The review parts question 2 asks about."""

Direction = Literal["at_least", "at_most"]

TARGETS: dict[str, tuple[Direction, float]] = {
    "provenance_complete": ("at_least", 0.95),
    "correction_rate": ("at_most", 0.10),
    "surfaced_in_time": ("at_least", 0.90),
    "useful_share": ("at_least", 0.80),
    "scope_drift": ("at_most", 0.02),
}
"""digestkit's default targets (a quality lead's starting point, not an agreed service level);
``evaluate(..., targets={"correction_rate": 0.05})`` overrides a value."""

_LABELS = {
    "provenance_complete": "Complete provenance and carry-forward",
    "surfaced_in_time": "Surfaced before the first severity-one case",
    "useful_share": "Rated useful (4-5 on the usefulness scale)",
    "scope_drift": "Digests with a scope-guard violation",
}


@dataclass(frozen=True)
class HeadlineRow:
    """One number of the first screen (one row of :attr:`Evaluation.headline`)."""

    question: int
    measure: str
    label: str
    reviews: str | None
    value: float | None
    k: int
    n: int
    ci_low: float | None
    ci_high: float | None
    sufficient: bool
    shown: str
    target: float
    direction: Direction
    meets_target: bool | None
    previous_value: float | None
    previous_n: int | None
    change: float | None


def _rates(ev: Evaluation) -> list[tuple[int, str, str, str | None, Rate]]:
    s = ev.summary
    out: list[tuple[int, str, str, str | None, Rate]] = [
        (
            1,
            "provenance_complete",
            _LABELS["provenance_complete"],
            None,
            Rate(s["provenance"]["complete"], s["provenance"]["published_revisions"]),
        )
    ]
    c = ev.corrections
    for source in ("human", "simulated"):
        for part in HEADLINE_PARTS:
            row = c[(c["reviews"] == source) & (c["part"] == part)].iloc[0]
            changed = int(row["corrected"]) + int(row["rejected"])
            label = f"Correction rate: {part.replace('_', ' ')}"
            out.append((2, "correction_rate", label, source, Rate(changed, int(row["reviewed"]))))
    sf = s["surfacing"]
    out.append(
        (
            3,
            "surfaced_in_time",
            _LABELS["surfaced_in_time"],
            None,
            Rate(sf["in_time"], sf["tracked_issues"]),
        )
    )
    for source in ("human", "simulated"):
        r = s["reviews"][source]
        rate = Rate(r["useful_digests"], r["rated_digests"])
        out.append((4, "useful_share", _LABELS["useful_share"], source, rate))
    sc = s["scope"]
    drift = Rate(sc["digests_with_violations"], s["provenance"]["digests"])
    out.append((4, "scope_drift", _LABELS["scope_drift"], None, drift))
    return out


def headline(
    current: Evaluation,
    previous: Evaluation | None,
    *,
    targets: Mapping[str, float] | None = None,
) -> pd.DataFrame:
    """The :class:`HeadlineRow` rows of ``current``, with the change since ``previous``."""
    wanted = {k: (d, float((targets or {}).get(k, v))) for k, (d, v) in TARGETS.items()}
    unknown = sorted(set(targets or {}) - set(TARGETS))
    if unknown:
        raise UsageError(f"unknown target '{unknown[0]}'; known: {', '.join(TARGETS)}")
    before = {(q, label, src): r for q, _, label, src, r in _rates(previous)} if previous else {}
    rows = []
    for question, measure, label, source, rate in _rates(current):
        direction, target = wanted[measure]
        prior = before.get((question, label, source))
        meets = None
        if rate.sufficient and rate.value is not None:
            meets = rate.value >= target if direction == "at_least" else rate.value <= target
        change = None
        if prior is not None and prior.sufficient and rate.sufficient:
            change = (rate.value or 0.0) - (prior.value or 0.0)
        lo, hi = rate.interval or (None, None)
        rows.append(
            HeadlineRow(
                question=question,
                measure=measure,
                label=label,
                reviews=source,
                value=rate.value,
                k=rate.k,
                n=rate.n,
                ci_low=lo,
                ci_high=hi,
                sufficient=rate.sufficient,
                shown=rate.text(),
                target=target,
                direction=direction,
                meets_target=meets,
                previous_value=prior.value if prior is not None else None,
                previous_n=prior.n if prior is not None else None,
                change=change,
            )
        )
    columns = [f.name for f in fields(HeadlineRow)]
    return pd.DataFrame([asdict(r) for r in rows], columns=columns)


def _target_text(direction: str, target: float) -> str:
    return f"{'≥' if direction == 'at_least' else '≤'} {target:.2f}"


def _previous_text(value: Any, n: Any) -> str:
    if n is None or pd.isna(n) or int(n) == 0:
        return "—"
    if int(n) < MIN_N:
        return f"n too small (n = {int(n)})"
    return f"{value:.2f} (n = {int(n)})"


def _change_text(change: Any) -> str:
    return "—" if change is None or pd.isna(change) else f"{change:+.2f}"


def _verdict(meets: Any) -> str:
    if meets is None or pd.isna(meets):
        return "—"
    return "meets" if bool(meets) else "misses"


def headline_table(ev: Evaluation, *, simulated: bool = False) -> pd.DataFrame:
    """The first screen as a reader sees it: people's numbers, or (``simulated``) the
    simulation's, each with its interval, n, target and change since the previous period."""
    h = ev.headline
    if h.empty:
        return pd.DataFrame()
    keep = h["reviews"] == "simulated" if simulated else h["reviews"] != "simulated"
    h = h[keep.fillna(not simulated).astype(bool)]
    previous = f"Previous ({ev.previous_period})" if ev.previous_period else "Previous period"
    return pd.DataFrame(
        {
            "Q": h["question"],
            "Measure": h["label"],
            "Value (95% CI; k of n)": h["shown"],
            "Target": [
                _target_text(d, t) for d, t in zip(h["direction"], h["target"], strict=True)
            ],
            "Status": [_verdict(m) for m in h["meets_target"]],
            previous: [
                _previous_text(v, n)
                for v, n in zip(h["previous_value"], h["previous_n"], strict=True)
            ],
            "Change": [_change_text(c) for c in h["change"]],
        }
    ).reset_index(drop=True)


def previous_period(
    period: str | None, bounds: Bounds | None, published: pd.Series
) -> tuple[str, Bounds] | None:
    """The period before ``period`` and its bounds: the previous year, month or day, or the
    same length just before a ``START..END`` range. For all of history: everything published
    before the month of the latest publication ("up to 2026-08"), so the change shows what the
    latest month did. None for a range open at one end, or without publications."""
    utc = "UTC"
    if bounds is None:
        latest = pd.to_datetime(published, utc=True).max()
        if pd.isna(latest):
            return None
        month = pd.Timestamp(latest).tz_convert(None).to_period("M")
        end = month.start_time.tz_localize(utc) - pd.Timedelta(1, "ns")
        return f"up to {month - 1}", (pd.Timestamp.min.tz_localize(utc), end)
    lo, hi = bounds
    if lo == pd.Timestamp.min.tz_localize(utc) or hi == pd.Timestamp.max.tz_localize(utc):
        return None
    text = period or ""
    if ".." not in text:
        freq = {4: "Y", 7: "M", 10: "D"}[len(text)]
        before = pd.Period(text, freq=freq) - 1
        return str(before), (
            before.start_time.tz_localize(utc),
            before.end_time.tz_localize(utc),
        )
    # A range's ends are whole days (parse_period): the same number of days just before it.
    start = lo - (hi.ceil("D") - lo)
    end = lo - pd.Timedelta(1, "ns")
    return f"{start:%Y-%m-%d}..{end:%Y-%m-%d}", (start, end)
