"""A digest against the digests of earlier revisions: which flags are new, open since when."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from digestkit.sources import DataSources

__all__ = ["attention_claims", "earlier_digests", "flag_key", "open_since", "posted_digest"]

_KEY_FIELDS = {
    "ownership_conflict": ("product_id", "runbook_team", "runbook_pager"),
    "stale_ownership": ("product_id",),
    "exception_not_approved": ("exception_id",),
    "exception_expired": ("exception_id",),
    "exception_expiring": ("exception_id",),
    "orphaned_exception": ("exception_id", "section"),
    "ambiguous_carve_out": ("exception_ids", "account_id", "product_id"),
    "unsupported_impact_assumption": ("tier", "minutes"),
    "unknown_reference": ("reference_kind", "value"),
}


def flag_key(claim: Mapping[str, Any]) -> tuple[str, ...]:
    """What makes a flag or open question the same one in two digests (its ids, not its wording).

    A stale ownership is the same flag while it grows older; an open question is the same while
    its words are.
    """
    kind, details = claim["kind"], claim.get("details") or {}
    if kind == "open_question":
        return (kind, " ".join(claim["text"].split("“", 1)[-1].split()))
    values = (details.get(name) for name in _KEY_FIELDS.get(kind, ()))
    return (kind, *(repr(v) for v in values))


def attention_claims(digest: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """A digest's flags, then its open questions: what needs attention."""
    return [*digest.get("flags", []), *digest.get("open_questions", [])]


def open_since(key: tuple[str, ...], history: Sequence[Mapping[str, Any]]) -> str | None:
    """The earliest revision of an unbroken run of earlier digests that carry ``key``."""
    since = None
    for earlier in history:
        if key not in {flag_key(c) for c in attention_claims(earlier)}:
            break
        since = earlier["header"]["revision"]
    return since


def earlier_digests(
    runbook_id: str,
    baseline: str | None,
    *,
    data: Any = None,
    limit: int = 50,
    workspace: str | Path | None = None,
) -> list[dict[str, Any]]:
    """The digests of ``baseline`` and the published revisions before it, newest first.

    With ``workspace``, a digest posted there stands in for building it again when it was built
    as this would build it now (:func:`posted_digest`): the event runner posts each revision's
    digest, so a burst of events builds each digest once, not once more as the next one's history.
    """
    from digestkit import sources as src_mod

    out: list[dict[str, Any]] = []
    src = src_mod.open_sources(data)
    root = str(src.root)
    while baseline is not None and len(out) < limit:
        digest = posted_digest(workspace, runbook_id, baseline, src) if workspace else None
        if digest is None:
            digest = _digest_of(runbook_id, baseline, root)
        out.append(digest)
        baseline = digest["header"].get("baseline")
    return out


def posted_digest(
    workspace: str | Path, runbook_id: str, revision: str, src: DataSources
) -> dict[str, Any] | None:
    """The digest of ``runbook_id@revision`` posted in ``workspace``, if it is the one building it
    now would give; else None.

    It is when it is unedited (its sha256 is the one audit.json records) and was built from the
    same data folder by this digestkit version with the default thresholds, as of its revision's
    publication, from the bytes the repository holds now for the revision and for the baseline
    it would default to now.
    """
    from digestkit import __version__, context
    from digestkit import sources as src_mod
    from digestkit.digest import default_baseline
    from digestkit.fileio import sha256_bytes

    folder = Path(workspace) / "digests" / f"{runbook_id}@{revision}"
    try:
        raw = (folder / "digest.json").read_bytes()
        audit = json.loads((folder / "audit.json").read_text(encoding="utf-8"))
        digest: dict[str, Any] = json.loads(raw)
    except (OSError, ValueError):
        return None
    built, header = digest.get("audit", {}), digest.get("header", {})
    defaults = {
        "stale_after_days": context.STALE_AFTER_DAYS,
        "expiring_within_days": context.EXPIRING_WITHIN_DAYS,
    }
    if (
        audit.get("digest_sha256") != sha256_bytes(raw)
        or audit.get("parameters", {}).get("notebook", {}).get("data") != str(src.root)
        or built.get("digestkit_version") != __version__
        or built.get("parameters") != defaults
        or header.get("as_of") != header.get("published_at")
    ):
        return None
    revisions = src_mod.load_revisions(src, runbook_id=runbook_id)
    row = revisions[revisions["revision"] == revision]
    if len(row) != 1 or row["status"].iloc[0] != "published":
        return None
    if str(row["sha256"].iloc[0]) != built.get("revision_sha256"):
        return None
    earlier = default_baseline(revisions, row.iloc[0])
    base = (None, None) if earlier is None else (str(earlier["revision"]), str(earlier["sha256"]))
    if base != (header.get("baseline"), built.get("baseline_sha256")):
        return None
    return digest


@lru_cache(maxsize=128)
def _digest_of(runbook_id: str, revision: str, root: str) -> dict[str, Any]:
    from digestkit.digest import build_digest

    return build_digest(runbook_id, revision, data=root).to_dict()
