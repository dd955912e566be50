"""Reviewer records: a verdict on each claim of a posted digest, and items the digest missed.

Records live next to the digest they judge, one JSON object per line, in
``<workspace>/digests/<digest_id>/reviews.jsonl``::

    {"review_id": "premium-s1-escalation@r7#R001", "digest_id": "premium-s1-escalation@r7",
     "claim_id": "FLG-02", "verdict": "corrected", "text": "…", "part": "flags",
     "kind": "stale_ownership", "source": null, "reviewer": "m.ross", "at": "2026-06-02T10:00:00Z"}

``verdict`` is ``accepted``, ``corrected`` (``text`` is the corrected claim text), ``rejected``
(``text`` is an optional reason), ``missed`` (``claim_id`` is null; ``text``, ``part`` and
``source`` describe what the digest should have said) or ``rated`` (``claim_id`` is null;
``rating`` is the digest's usefulness on :data:`USEFULNESS_SCALE`, ``text`` an optional remark).
Every record is validated against the digest's ``digest.json`` before it is appended; a bad
record writes nothing. When a claim is reviewed more than once, :func:`latest_verdicts` keeps the
last record; when a reviewer rates a digest more than once, :func:`latest_ratings` keeps the last.

A bad argument (verdict, part, kind, source syntax, missing text) raises ``UsageError``; a digest
or claim the workspace lacks, or a source that does not resolve in the digest's data, raises
``WorkspaceError``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Literal, TypedDict, TypeGuard, get_args

import pandas as pd

from digestkit import journal
from digestkit import sources as src_mod
from digestkit import workspace as ws
from digestkit.clock import utc_now_text
from digestkit.context import CARRIED_KINDS, FLAG_KINDS
from digestkit.diff import CHANGE_KINDS
from digestkit.digest import PARTS
from digestkit.exceptions import UsageError, WorkspaceError
from digestkit.fileio import read_jsonl
from digestkit.resolve import SYSTEMS, SourceRef, resolve_source

__all__ = [
    "CLAIM_VERDICTS",
    "COLUMNS",
    "FILENAME",
    "MISSED_KINDS",
    "PARTS",
    "SIMULATED_REVIEWER",
    "SYSTEMS",
    "USEFULNESS_SCALE",
    "USEFUL_FROM",
    "VERDICTS",
    "ClaimVerdict",
    "ReviewRecord",
    "Verdict",
    "add_missed",
    "add_review",
    "add_usefulness",
    "digest_claims",
    "latest_ratings",
    "latest_verdicts",
    "load_reviews",
    "parse_source",
    "reviews_path",
    "workspace_layout",
]

ClaimVerdict = Literal["accepted", "corrected", "rejected"]
Verdict = Literal["accepted", "corrected", "rejected", "missed", "rated"]
CLAIM_VERDICTS: tuple[ClaimVerdict, ...] = get_args(ClaimVerdict)
"""What a reviewer may say about one claim."""
VERDICTS: tuple[Verdict, ...] = get_args(Verdict)
"""Every verdict a record may hold: a claim's, ``missed`` for an item the digest left out, or
``rated`` for the digest's usefulness."""

USEFULNESS_SCALE: dict[int, str] = {
    1: "harmful: the handoff was more ambiguous with the digest than without it",
    2: "no help: it left the handoff's ambiguity as it was",
    3: "some help: it settled a few questions, the handoff still needed clarification",
    4: "clear help: it settled most questions of the handoff",
    5: "full help: the handoff needed no clarification beyond the digest",
}
"""How much a digest reduced handoff ambiguity, as a reviewer rates it (``--usefulness N``)."""
USEFUL_FROM = 4
"""Ratings from this value up count as a digest that reduced handoff ambiguity."""


class ReviewRecord(TypedDict):
    """One line of ``reviews.jsonl`` (see the module docstring)."""

    review_id: str
    digest_id: str
    claim_id: str | None
    verdict: Verdict
    text: str | None
    rating: int | None
    part: str | None
    kind: str | None
    source: SourceRef | None
    reviewer: str
    at: str


class _Judgement(TypedDict):
    # A record before it is numbered and timed.
    claim_id: str | None
    verdict: Verdict
    text: str | None
    rating: int | None
    part: str | None
    kind: str | None
    source: SourceRef | None
    reviewer: str


COLUMNS: tuple[str, ...] = tuple(ReviewRecord.__annotations__)
FILENAME = "reviews.jsonl"
SIMULATED_REVIEWER = "simulated-reviewer"
"""Reviewer id of the seeded simulation; reserved, so a person's review is never set aside."""
MISSED_KINDS = tuple(sorted({*FLAG_KINDS, *CARRIED_KINDS, *CHANGE_KINDS, "exception_problem"}))
"""What a missed item may be: a flag, carried-forward or change kind (``--kind``)."""
_CLAIM_ID = re.compile(r"[A-Z]{2,4}-\d{1,4}")

_SOURCE = re.compile(r"^(?P<system>[a-z]+):(?P<id>[^:]+)(?::(?P<locator>.+))?$")


def reviews_path(layout: ws.Layout, digest_id: str) -> Path:
    """Where the review records of ``digest_id`` are kept."""
    return layout.digest_dir(digest_id) / FILENAME


def parse_source(text: str) -> SourceRef:
    """Parse ``SYSTEM:ID[:LOCATOR]`` (e.g. ``registry:PRD-PAYAPI:owning_team``) into a source.

    >>> parse_source("runbook:premium-s1-escalation@r7:L40-L42")["locator"]
    'L40-L42'
    """
    match = _SOURCE.match(text.strip())
    if match is None or match["system"] not in SYSTEMS:
        raise UsageError(
            f"source '{text}' is not SYSTEM:ID[:LOCATOR] with SYSTEM one of {', '.join(SYSTEMS)} "
            "(e.g. runbook:premium-s1-escalation@r7:L40-L42 or registry:PRD-PAYAPI:owning_team)"
        )
    return {"system": match["system"], "id": match["id"], "locator": match["locator"]}


def digest_claims(digest: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every claim of a digest (the dict of ``docs/digest-json.md``), part by part."""
    return [c for part in PARTS for c in digest.get(part, [])]


def _judgement(
    verdict: Verdict,
    reviewer: str,
    *,
    claim_id: str | None = None,
    text: str | None = None,
    rating: int | None = None,
    part: str | None = None,
    kind: str | None = None,
    source: SourceRef | None = None,
) -> _Judgement:
    return {
        "claim_id": claim_id,
        "verdict": verdict,
        "text": text,
        "rating": rating,
        "part": part,
        "kind": kind,
        "source": source,
        "reviewer": reviewer,
    }


def _append(
    layout: ws.Layout, digest_id: str, judgement: _Judgement, at: str | None
) -> ReviewRecord:
    with journal.locked(layout):
        path = reviews_path(layout, digest_id)
        count = len(read_jsonl(path))
        record: ReviewRecord = {
            "review_id": f"{digest_id}#R{count + 1:03d}",
            "digest_id": digest_id,
            **judgement,
            "at": at or utc_now_text(),
        }
        # One journaled change: the line and its audit.log entry (which pins the file, so audit
        # verify sees an edited review) are both written, even if the process is killed.
        journal.append_logged(
            layout,
            "review.recorded",
            path,
            dict(record),
            pin="reviews_sha256",
            at=record["at"],
            digest_id=digest_id,
            by=record["reviewer"],
            review_id=record["review_id"],
        )
    return record


def _is_claim_verdict(verdict: str) -> TypeGuard[ClaimVerdict]:
    return verdict in CLAIM_VERDICTS


def add_review(
    workspace: str | Path | ws.Layout,
    digest_id: str,
    *,
    claim_id: str,
    verdict: str,
    reviewer: str,
    text: str | None = None,
    at: str | None = None,
    simulated: bool = False,
) -> ReviewRecord:
    """Record a reviewer's verdict on one claim of a posted digest; return the record written.

    ``simulated`` is for :func:`digestkit.evaluation.simulate_reviews` alone: only it may write
    as :data:`SIMULATED_REVIEWER`.
    """
    layout = workspace_layout(workspace)
    if not _is_claim_verdict(verdict):
        raise UsageError(
            f"unknown verdict '{verdict}' for a claim; use accepted, corrected or rejected "
            "(report an item the digest left out with --missed)"
        )
    digest = ws.load_digest(layout, digest_id)
    src = ws.digest_sources(layout, digest_id)
    reviewer = _reviewer(reviewer, src, simulated)
    claims = {c["id"]: c for c in digest_claims(digest)}
    if claim_id not in claims:
        known = ", ".join(claims) or "none"
        shown = f"'{claim_id}'" if _CLAIM_ID.fullmatch(claim_id) else "with that id"
        raise WorkspaceError(f"digest {digest_id} has no claim {shown}; its claims: {known}")
    text = text.strip() if text else None
    if verdict == "corrected" and not text:
        raise UsageError(f"verdict 'corrected' on {claim_id} needs --text (the corrected text)")
    if verdict == "accepted" and text:
        raise UsageError(
            f"verdict 'accepted' takes no --text; use 'corrected' to change {claim_id}'s text"
        )
    if text:
        ws.refuse_sensitive(text, src, what="review text")
    claim = claims[claim_id]
    judgement = _judgement(
        verdict, reviewer, claim_id=claim_id, text=text, part=claim["part"], kind=claim["kind"]
    )
    return _append(layout, digest_id, judgement, at)


def add_missed(
    workspace: str | Path | ws.Layout,
    digest_id: str,
    *,
    text: str,
    part: str,
    source: str | Mapping[str, Any],
    reviewer: str,
    kind: str | None = None,
    at: str | None = None,
    data: str | Path | None = None,
    simulated: bool = False,
) -> ReviewRecord:
    """Record an item the digest should have contained (its part and source); return the record.

    The source must resolve (as a claim's would) in ``data``, by default the data the digest was
    built from as its audit records it; a workspace that records none is checked for form only.
    Text holding customer-sensitive data is refused (ScopeError), as in clarifications.
    """
    layout = workspace_layout(workspace)
    ws.find_digest(layout, digest_id)
    src = _sources(layout, digest_id, data)
    reviewer = _reviewer(reviewer, src, simulated)
    if not text or not text.strip():
        raise UsageError("a missed item needs --missed TEXT saying what the digest left out")
    if part not in PARTS:
        raise UsageError(f"unknown part '{part}' for a missed item; use one of {', '.join(PARTS)}")
    if kind is not None and kind not in MISSED_KINDS:
        raise UsageError(f"unknown --kind for a missed item; use one of {', '.join(MISSED_KINDS)}")
    # Screened before any message can quote them, against the digest's own data whatever
    # --data says (and against --data too): a caller cannot pick a world without the customer.
    shown = source if isinstance(source, str) else json.dumps(dict(source))
    own = ws.digest_sources(layout, digest_id)
    for screen_src in dict.fromkeys([own, src]) if own is not None else [src]:
        ws.refuse_sensitive(text, screen_src, what="missed item")
        ws.refuse_sensitive(shown, screen_src, what="--source")
    ref = parse_source(source) if isinstance(source, str) else dict(source)
    if ref.get("system") not in SYSTEMS or not ref.get("id"):
        raise UsageError(
            f"source {ref} needs a system ({', '.join(SYSTEMS)}) and an id; "
            "give it as SYSTEM:ID[:LOCATOR]"
        )
    _check_resolves(ref, src)
    judgement = _judgement(
        "missed",
        reviewer,
        text=text.strip(),
        part=part,
        kind=kind,
        source={"system": ref["system"], "id": ref["id"], "locator": ref.get("locator")},
    )
    return _append(layout, digest_id, judgement, at)


def add_usefulness(
    workspace: str | Path | ws.Layout,
    digest_id: str,
    *,
    rating: int,
    reviewer: str,
    text: str | None = None,
    at: str | None = None,
    simulated: bool = False,
) -> ReviewRecord:
    """Record how much the digest reduced handoff ambiguity (:data:`USEFULNESS_SCALE`).

    ``text`` is an optional remark, screened for customer-sensitive data like review text.
    """
    layout = workspace_layout(workspace)
    ws.find_digest(layout, digest_id)
    src = ws.digest_sources(layout, digest_id)
    reviewer = _reviewer(reviewer, src, simulated)
    if isinstance(rating, bool) or not isinstance(rating, int) or rating not in USEFULNESS_SCALE:
        scale = "; ".join(f"{k} = {v.split(':')[0]}" for k, v in USEFULNESS_SCALE.items())
        raise UsageError(f"--usefulness must be a whole number 1-5 ({scale}); got {rating!r}")
    text = text.strip() if text else None
    if text:
        ws.refuse_sensitive(text, src, what="review text")
    judgement = _judgement("rated", reviewer, text=text, rating=rating)
    return _append(layout, digest_id, judgement, at)


def _reviewer(reviewer: str, src: src_mod.DataSources | None, simulated: bool) -> str:
    reviewer = ws.person_id(reviewer, option="--reviewer", src=src)
    if reviewer == SIMULATED_REVIEWER and not simulated:
        raise UsageError(
            f"--reviewer {SIMULATED_REVIEWER} is reserved for the seeded simulation, whose records "
            "are shown apart from people's; use your own user id"
        )
    return reviewer


def _check_resolves(ref: Mapping[str, Any], src: src_mod.DataSources | None) -> None:
    if src is not None and not resolve_source(ref, src):
        shown = ":".join(str(ref[k]) for k in ("system", "id", "locator") if ref.get(k))
        raise WorkspaceError(
            f"source {shown} does not resolve in {src.root}: no such revision lines, product, "
            "exception or approved CRM rows; check the id and locator"
        )


def _sources(
    layout: ws.Layout, digest_id: str, data: str | Path | None
) -> src_mod.DataSources | None:
    if data is not None:
        return src_mod.open_sources(data)
    found: src_mod.DataSources | None = ws.digest_sources(layout, digest_id)
    return found


def load_reviews(
    workspace: str | Path | ws.Layout, *, digest_ids: Iterable[str] | None = None
) -> pd.DataFrame:
    """Every review record of the workspace (or of ``digest_ids``) as a DataFrame, in file order."""
    layout = workspace_layout(workspace)
    if digest_ids is None:
        folders = sorted(p for p in layout.digests.glob("*") if (p / FILENAME).is_file())
    else:
        folders = [layout.digest_dir(d) for d in digest_ids]
    rows: list[dict[str, Any]] = []
    for folder in folders:
        path = folder / FILENAME
        if not path.is_file():
            continue
        for line_no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise WorkspaceError(
                    f"{path}: line {line_no} is not JSON ({exc.msg}); remove or fix that line"
                ) from None
            if record.get("verdict") not in VERDICTS:
                raise WorkspaceError(
                    f"{path}: line {line_no}, field 'verdict': '{record.get('verdict')}' is not "
                    f"one of {', '.join(VERDICTS)}"
                )
            rows.append({k: record.get(k) for k in COLUMNS})
    frame = pd.DataFrame(rows, columns=list(COLUMNS))
    return frame.astype({"source": object, "rating": "Int64"})


def latest_verdicts(reviews: pd.DataFrame) -> pd.DataFrame:
    """One row per reviewed claim, the last record winning; missed items and ratings left out."""
    claims = reviews[reviews["verdict"].isin(CLAIM_VERDICTS)]
    return claims.drop_duplicates(["digest_id", "claim_id"], keep="last").reset_index(drop=True)


def latest_ratings(reviews: pd.DataFrame) -> pd.DataFrame:
    """One usefulness rating per digest and reviewer, the last record winning."""
    rated = reviews[reviews["verdict"] == "rated"]
    return rated.drop_duplicates(["digest_id", "reviewer"], keep="last").reset_index(drop=True)


def workspace_layout(workspace: str | Path | ws.Layout) -> ws.Layout:
    """The layout of an existing workspace; WorkspaceError if ``workspace`` is not one."""
    if isinstance(workspace, ws.Layout):
        return workspace
    root = Path(workspace)
    if not (root / "digests").is_dir():
        raise WorkspaceError(
            f"{root} is not a handoff workspace (no digests/ folder); pass the --workspace "
            "digestkit run posted to"
        )
    return ws.Layout(root.resolve())
