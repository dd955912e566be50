"""Reviewer corrections: the review parts a claim counts under, and correction rates per part.

People's reviews and the seeded simulation's are counted *apart* (:data:`REVIEW_SOURCES`; never
mixed): the correction rate (corrected or rejected over reviewed claims), the normalized
Levenshtein distance between generated and corrected text, the missed-item rate and the
usefulness ratings (:data:`digestkit.review.USEFULNESS_SCALE`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, get_args

import pandas as pd

from digestkit import review as rv
from digestkit.evaluation.gold import OPEN_PARTS
from digestkit.evaluation.tables import frame_of, interval, rate
from digestkit.review import SIMULATED_REVIEWER, USEFUL_FROM

__all__ = [
    "REVIEW_PARTS",
    "REVIEW_SOURCES",
    "InPart",
    "PartCorrections",
    "ReviewPart",
    "ReviewSource",
    "Reviewed",
    "corrections_by_part",
    "review_part",
    "review_source",
    "review_summary",
]

ReviewPart = Literal[
    "changed_steps", "entitlement_assumptions", "ownership_mappings", "carried_forward", "flags"
]
REVIEW_PARTS: tuple[ReviewPart, ...] = get_args(ReviewPart)
"""Parts the correction rate is broken down by: ``entitlement_assumptions`` are carried-forward
entitlement claims, ``carried_forward`` the other carried-forward claims (exceptions, unchanged
sections), ``flags`` includes open questions."""

ReviewSource = Literal["human", "simulated"]
REVIEW_SOURCES: tuple[ReviewSource, ...] = get_args(ReviewSource)
"""Whose reviews a number comes from: people's, or the seeded simulation's (never mixed)."""


def review_part(part: str, kind: str | None) -> str:
    """The :data:`REVIEW_PARTS` entry a claim (or missed item) of ``part``/``kind`` counts under."""
    if kind in ("ownership_conflict", "ownership"):
        return "ownership_mappings"
    if kind == "entitlement_assumption":
        return "entitlement_assumptions"
    if part in OPEN_PARTS:
        return "flags"
    return part


def review_source(reviewer: Any) -> str:
    """The :data:`REVIEW_SOURCES` entry a review by ``reviewer`` counts under."""
    return "simulated" if reviewer == SIMULATED_REVIEWER else "human"


@dataclass(frozen=True)
class Reviewed:
    """The latest verdict of one review source on one claim that is still in its digest."""

    reviews: str
    digest_id: str
    part: str
    verdict: rv.ClaimVerdict
    edit_distance: float | None


@dataclass(frozen=True)
class InPart:
    """A claim, or a missed item (of one review source), and the review part it counts under."""

    reviews: str
    digest_id: str
    part: str


@dataclass(frozen=True)
class PartCorrections:
    """One row of :attr:`Evaluation.corrections`: one review source's verdicts on one part."""

    reviews: str
    part: str
    claims: int
    reviewed: int
    accepted: int
    corrected: int
    rejected: int
    correction_rate: float | None
    ci_low: float | None
    ci_high: float | None
    mean_edit_distance: float | None
    missed: int
    missed_rate: float | None


def corrections_by_part(
    claim_parts: pd.DataFrame, reviewed: pd.DataFrame, missed: pd.DataFrame
) -> pd.DataFrame:
    """One :class:`PartCorrections` row per review source and part, from frames of
    :class:`InPart` claims, :class:`Reviewed` verdicts and :class:`InPart` missed items."""
    rows = []
    for source in REVIEW_SOURCES:
        for part in REVIEW_PARTS:
            mine = reviewed[(reviewed["reviews"] == source) & (reviewed["part"] == part)]
            n = len(mine)
            corrected = int((mine["verdict"] == "corrected").sum())
            rejected = int((mine["verdict"] == "rejected").sum())
            n_missed = int(((missed["reviews"] == source) & (missed["part"] == part)).sum())
            distances = mine["edit_distance"].dropna()
            lo, hi = interval(corrected + rejected, n)
            rows.append(
                PartCorrections(
                    reviews=source,
                    part=part,
                    claims=int(
                        ((claim_parts["reviews"] == source) & (claim_parts["part"] == part)).sum()
                    ),
                    reviewed=n,
                    accepted=int((mine["verdict"] == "accepted").sum()),
                    corrected=corrected,
                    rejected=rejected,
                    correction_rate=rate(corrected + rejected, n),
                    ci_low=lo,
                    ci_high=hi,
                    mean_edit_distance=float(distances.mean()) if len(distances) else None,
                    missed=n_missed,
                    missed_rate=rate(n_missed, n + n_missed),
                )
            )
    return frame_of(rows, PartCorrections)


def review_summary(
    reviewed: pd.DataFrame, missed: pd.DataFrame, records_: pd.DataFrame, rated: pd.DataFrame
) -> dict[str, Any]:
    """The ``reviews`` summary of one review source: its verdicts, missed items and ratings."""
    n_reviewed = len(reviewed)
    corrected = int((reviewed["verdict"] == "corrected").sum())
    rejected = int((reviewed["verdict"] == "rejected").sum())
    distances = reviewed["edit_distance"].dropna()
    lo, hi = interval(corrected + rejected, n_reviewed)
    per_digest = rated.groupby("digest_id")["rating"].mean() if len(rated) else pd.Series()
    useful = int((per_digest >= USEFUL_FROM).sum())
    useful_lo, useful_hi = interval(useful, len(per_digest))
    return {
        "reviewers": sorted(set(records_["reviewer"].dropna())),
        "reviewed_claims": n_reviewed,
        "corrected": corrected,
        "rejected": rejected,
        "correction_rate": rate(corrected + rejected, n_reviewed),
        "ci_low": lo,
        "ci_high": hi,
        "mean_edit_distance": float(distances.mean()) if len(distances) else None,
        "missed_items": len(missed),
        "missed_rate": rate(len(missed), n_reviewed + len(missed)),
        "rated_digests": len(per_digest),
        "mean_usefulness": float(per_digest.mean()) if len(per_digest) else None,
        "useful_digests": useful,
        "useful_share": rate(useful, len(per_digest)),
        "useful_ci_low": useful_lo,
        "useful_ci_high": useful_hi,
    }
