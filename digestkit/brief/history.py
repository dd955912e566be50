"""A digest against the digests of earlier revisions: which flags are new, open since when."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

__all__ = ["attention_claims", "earlier_digests", "flag_key", "open_since"]

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
    runbook_id: str, baseline: str | None, *, data: Any = None, limit: int = 50
) -> list[dict[str, Any]]:
    """The digests of ``baseline`` and the published revisions before it, newest first."""
    from digestkit import sources as src_mod

    out: list[dict[str, Any]] = []
    root = str(src_mod.open_sources(data).root)
    while baseline is not None and len(out) < limit:
        digest = _digest_of(runbook_id, baseline, root)
        out.append(digest)
        baseline = digest["header"].get("baseline")
    return out


@lru_cache(maxsize=128)
def _digest_of(runbook_id: str, revision: str, root: str) -> dict[str, Any]:
    from digestkit.digest import build_digest

    return build_digest(runbook_id, revision, data=root).to_dict()
