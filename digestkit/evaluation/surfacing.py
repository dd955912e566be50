"""Surfacing of planted issues, where gold labels exist: recall and false flags per issue kind.

:func:`~digestkit.evaluation.gold.match_gold` decides what matches; whether each planted issue
was surfaced before the first severity-one case needed it is
:mod:`~digestkit.evaluation.timeliness`'s call.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from digestkit import sources as src_mod
from digestkit.evaluation import timeliness as tl
from digestkit.evaluation.gold import ISSUE_KINDS, GoldMatch, issue_group
from digestkit.evaluation.tables import frame_of, interval, rate, timestamp
from digestkit.sample.writers import GENERATOR

__all__ = [
    "IssueTiming",
    "KindSurfacing",
    "gold_source",
    "issue_timings",
    "surfacing_by_kind",
    "surfacing_summary",
]


@dataclass(frozen=True)
class IssueTiming:
    """One row of :attr:`Evaluation.issues`: a planted issue of a digest and when it was needed."""

    digest_id: str
    runbook_id: str
    issue_kind: str
    group: str
    refs: str
    surfaced: bool
    published_at: pd.Timestamp | None
    posted_at: pd.Timestamp | None
    first_case_at: pd.Timestamp | None
    outcome: str | None


@dataclass(frozen=True)
class KindSurfacing:
    """One row of :attr:`Evaluation.surfacing`: gold issues and flags of one issue kind."""

    issue_kind: str
    gold_issues: int
    surfaced: int
    recall: float | None
    ci_low: float | None
    ci_high: float | None
    flags: int
    false_flags: int
    false_flag_rate: float | None
    in_time: int
    late: int
    missed: int


def gold_source(sources: src_mod.DataSources) -> str | None:
    """``sample generator`` when the gold labels were written by the generator that planted the
    issues (``world.json`` says so), ``data`` for other gold labels, None without any."""
    if sources.gold is None:
        return None
    try:
        info = json.loads((sources.root / "world.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return "data"
    return (
        "sample generator"
        if isinstance(info, dict) and info.get("generator") == GENERATOR
        else "data"
    )


def issue_timings(
    digest: Mapping[str, Any],
    match: GoldMatch,
    entry: Mapping[str, Any],
    *,
    sources: src_mod.DataSources,
    cases: pd.DataFrame | None,
    posted_at: pd.Timestamp | None,
) -> list[IssueTiming]:
    """One :class:`IssueTiming` per planted issue of ``digest``'s gold ``entry``."""
    header = digest["header"]
    published = timestamp(header.get("published_at"))
    rows = []
    for issue, matched in zip(entry.get("issues", []), match.issues, strict=True):
        first = None
        if cases is not None and published is not None:
            first = tl.first_case(tl.issue_scope(issue, sources), published, cases)
        surfaced = matched.surfaced
        outcome = (
            tl.issue_outcome(surfaced=surfaced, posted_at=posted_at, first_case_at=first)
            if cases is not None or not surfaced
            else None  # surfaced, but without the cases nobody can say whether in time
        )
        rows.append(
            IssueTiming(
                digest_id=digest["digest_id"],
                runbook_id=header["runbook_id"],
                issue_kind=matched.kind,
                group=issue_group(matched.kind),
                refs=", ".join(matched.refs),
                surfaced=surfaced,
                published_at=published,
                posted_at=posted_at,
                first_case_at=first,
                outcome=outcome,
            )
        )
    return rows


def surfacing_by_kind(matches: Sequence[GoldMatch], issues: pd.DataFrame) -> pd.DataFrame:
    """One :class:`KindSurfacing` row per issue kind (``unknown_reference`` only when it occurs),
    from the gold matches and the frame of :class:`IssueTiming` rows."""
    rows = []
    for kind in ISSUE_KINDS:
        gold_issues = [i for m in matches for i in m.issues if i.group == kind]
        flags = [f for m in matches for f in m.flags if f.group == kind]
        surfaced = sum(i.surfaced for i in gold_issues)
        false = sum(not f.matched for f in flags)
        if not gold_issues and not flags and kind == "unknown_reference":
            continue  # not a planted kind: only shown when it occurs
        outcomes = issues.loc[issues["group"] == kind, "outcome"]
        lo, hi = interval(surfaced, len(gold_issues))
        rows.append(
            KindSurfacing(
                issue_kind=kind,
                gold_issues=len(gold_issues),
                surfaced=surfaced,
                recall=rate(surfaced, len(gold_issues)),
                ci_low=lo,
                ci_high=hi,
                flags=len(flags),
                false_flags=false,
                false_flag_rate=rate(false, len(flags)),
                in_time=int((outcomes == "in_time").sum()),
                late=int((outcomes == "late").sum()),
                missed=int((outcomes == "missed").sum()),
            )
        )
    return frame_of(rows, KindSurfacing)


def surfacing_summary(
    surfacing: pd.DataFrame,
    matches: Sequence[GoldMatch],
    issues: pd.DataFrame,
    sources: src_mod.DataSources,
    cases_available: bool,
) -> dict[str, Any]:
    """The ``surfacing`` summary: recall, false flags, change recall and timeliness overall."""
    n_issues = int(surfacing["gold_issues"].sum())
    surfaced = int(surfacing["surfaced"].sum())
    flags = int(surfacing["flags"].sum())
    false = int(surfacing["false_flags"].sum())
    changes = sum(len(m.changes) for m in matches)
    found = sum(m.changes_found for m in matches)
    tracked = issues[issues["issue_kind"].isin(tl.TIMELY_KINDS)]
    known = tracked[tracked["outcome"].notna()]
    in_time = int((known["outcome"] == "in_time").sum())
    lo, hi = interval(in_time, len(known))
    return {
        "gold_source": gold_source(sources),
        "digests_with_gold": len(matches),
        "gold_issues": n_issues,
        "surfaced": surfaced,
        "recall": rate(surfaced, n_issues),
        "flags": flags,
        "false_flags": false,
        "false_flag_rate": rate(false, flags),
        "gold_changes": changes,
        "changes_found": found,
        "change_recall": rate(found, changes),
        "formatting_only": sum(len(m.formatting) for m in matches),
        "formatting_reported": sum(m.formatting_reported for m in matches),
        "cases_available": cases_available,
        "tracked_issues": len(known),
        "in_time": in_time,
        "late": int((known["outcome"] == "late").sum()),
        "missed": int((known["outcome"] == "missed").sum()),
        "in_time_rate": rate(in_time, len(known)),
        "in_time_ci_low": lo,
        "in_time_ci_high": hi,
    }
