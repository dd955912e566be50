"""What each flag, open question and change says in plain words, and with which team to confirm it.

Product and team names come from the registry when it is at hand (:class:`Names`), ids otherwise;
a flag whose details the words do not know (an older or hand-written digest) keeps its own text.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from digestkit.brief.model import Context
from digestkit.brief.wording import count, line_span, locator_lines, plain

__all__ = ["KIND_LABELS", "Names", "change_words", "flag_words", "question", "redline"]

#: Each kind of flag, question and change in words.
KIND_LABELS = {
    "ownership_conflict": "ownership conflict",
    "unknown_reference": "unknown reference",
    "ambiguous_reference": "ambiguous registry name",
    "exception_expired": "exception expired",
    "exception_not_approved": "exception not approved",
    "ambiguous_carve_out": "ambiguous carve-out",
    "unsupported_impact_assumption": "customer commitment",
    "orphaned_exception": "orphaned exception",
    "exception_expiring": "exception expiring",
    "stale_ownership": "stale ownership",
    "open_question": "open question",
    "added": "added",
    "removed": "removed",
    "modified": "modified",
    "moved": "moved",
    "renumbered": "renumbered",
}
_STEP_NUMBER = re.compile(r"\s*(\d+)[.)]\s")


class Names:
    """Product and team names from the registry, falling back to ids when it is not at hand."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def product(self, product_id: str) -> str:
        """``Name (id)``, or the id alone."""
        row = self.ctx.products.get(product_id)
        return f"{row['product_name']} ({product_id})" if row else product_id

    def product_name(self, product_id: str) -> str:
        """The product's name, or its id."""
        row = self.ctx.products.get(product_id)
        return row["product_name"] if row else product_id

    def team(self, slug: str) -> str:
        """``Display name (slug)``, or the slug alone."""
        name = self.ctx.teams.get(slug)
        return f"{name} ({slug})" if name else slug

    def team_name(self, slug: str) -> str:
        """The team's display name, or its slug."""
        return self.ctx.teams.get(slug, slug)

    def owner_of(self, product_id: str) -> str | None:
        """The team owning the product in the registry; None when the product is not there."""
        row = self.ctx.products.get(product_id)
        return self.team(row["owning_team"]) if row else None

    def exception_product(self, exception_id: str) -> str | None:
        """The product an exception of the register is for, if known."""
        row = self.ctx.exceptions.get(exception_id)
        return row.get("product_id") if row else None

    def product_in(self, text: str) -> str | None:
        """The id of the first registry product named in ``text``, if any."""
        for product_id, row in self.ctx.products.items():
            if row["product_name"] in text:
                return product_id
        return None


def flag_words(claim: Mapping[str, Any], names: Names, publisher: str) -> tuple[str, str]:
    """The one-line headline of a flag and what to confirm with which team."""
    try:
        return _kind_words(claim, names, publisher)
    except (KeyError, TypeError, ValueError):  # details of an older or hand-written digest
        return plain(claim["text"]), f"Confirm with the runbook approver ({publisher})."


def _kind_words(claim: Mapping[str, Any], names: Names, publisher: str) -> tuple[str, str]:
    kind, d = claim["kind"], claim.get("details") or {}
    if kind == "ownership_conflict":
        product = names.product(d["product_id"])
        owner = names.owner_of(d["product_id"]) or "the product's owning team"
        if "runbook_pager" in d:
            return (
                f"{product}: the runbook pages {d['runbook_pager']} first, the registry lists "
                f"{d['registry_pager']}.",
                f"Confirm the first pager with {owner}.",
            )
        return (
            f"{product}: the runbook says {names.team(d['runbook_team'])} owns it, the registry "
            f"says {names.team(d['registry_team'])}.",
            f"Confirm the owner with {names.team_name(d['registry_team'])} and "
            f"{names.team_name(d['runbook_team'])}.",
        )
    if kind == "stale_ownership":
        product = names.product(d["product_id"])
        verified = plain(str(d.get("last_verified_at", ""))[:10])
        owner = names.owner_of(d["product_id"]) or "its owning team"
        return (
            f"{product}: ownership last verified {count(int(d['age_days']), 'day')} ago "
            f"({verified}).",
            f"Ask {owner} to re-verify it in the registry.",
        )
    if kind in ("exception_not_approved", "exception_expired", "exception_expiring"):
        exc = d["exception_id"]
        product_id = names.exception_product(exc)
        about = f" ({names.product_name(product_id)})" if product_id else ""
        owner = (names.owner_of(product_id) if product_id else None) or "its product's team"
        until = plain(d["valid_to"]) if d.get("valid_to") else ""
        if kind == "exception_not_approved":
            return (
                f"{exc}{about} is referenced, but the register has it as {d['status']}.",
                f"Confirm its approval with {owner}.",
            )
        if kind == "exception_expired":
            return (
                f"{exc}{about} is referenced, but it expired on {until}.",
                f"Confirm with {owner} whether {exc} was renewed.",
            )
        return (
            f"{exc}{about} expires on {until}.",
            f"Confirm with {owner} whether {exc} will be renewed.",
        )
    if kind == "orphaned_exception":
        exc = d["exception_id"]
        product_id = names.exception_product(exc)
        owner = (names.owner_of(product_id) if product_id else None) or "its product's team"
        return (
            f"{exc} points to the section “{d['section']}”, which this revision does not have.",
            f"Confirm with {owner} which section {exc} applies to now.",
        )
    if kind == "ambiguous_carve_out":
        ids = " and ".join(d["exception_ids"])
        owner = names.owner_of(d["product_id"]) or "the product's owning team"
        return (
            f"{ids} give account {d['account_id']} different handling on "
            f"{names.product_name(d['product_id'])}.",
            f"Confirm with {owner} which handling applies.",
        )
    if kind == "unsupported_impact_assumption":
        deviating, accounts = int(d["deviating_accounts"]), int(d["accounts"])
        return (
            f"{deviating} of {count(accounts, 'active ' + d['tier'] + ' account')} have "
            f"contract terms other than the runbook's {d['minutes']}-minute initial update.",
            f"Confirm with the runbook approver ({publisher}) whether they need their own step.",
        )
    if kind == "ambiguous_reference":
        ids = ", ".join(d["product_ids"])
        return (
            f"The runbook names {d['value']}, a name {len(d['product_ids'])} registry products "
            f"carry ({ids}).",
            f"Confirm with the registry's owners which product is meant ({ids}).",
        )
    if kind == "unknown_reference":
        return (
            f"The runbook names {d['reference_kind']} {d['value']}, which the registry does not "
            "list.",
            f"Confirm the {d['reference_kind']} name with the runbook approver ({publisher}).",
        )
    raise KeyError(kind)


def question(claim: Mapping[str, Any], ctx: Context) -> str:
    """An open question quoted whole, from the runbook lines it cites."""
    for source in claim.get("sources", []):
        span = locator_lines(source["locator"])
        text = ctx.texts.get(source["id"])
        if source["system"] == "runbook" and span and text is not None:
            lines = text.splitlines()[span[0] - 1 : span[1]]
            return plain(" ".join(lines))
    return plain(claim["text"].split("“", 1)[-1].rstrip("”"))


def _unit_name(d: Mapping[str, Any]) -> str:
    side = d.get("new") or d.get("old") or {}
    number = _STEP_NUMBER.match(side.get("text", ""))
    if d.get("unit") == "list_item":
        return f"step {number.group(1)}" if number else "item"
    return {"table_row": "row", "heading": "heading", "paragraph": "paragraph"}.get(
        str(d.get("unit")), "text"
    )


def change_words(claim: Mapping[str, Any]) -> tuple[str, str]:
    """The one-line headline of a change and its whole statement."""
    kind, d = claim["kind"], claim.get("details") or {}
    if kind == "renumbered":
        return plain(claim["text"]), plain(claim["text"])
    section = " › ".join(d.get("section", [])[1:] or d.get("section", [])) or "the runbook"
    side = d.get("new") or d.get("old") or {"text": "", "lines": [0, 0]}
    quoted = plain(side["text"])
    stated = d.get("facts", [])
    # "product X added here" says less than the exception or team fact beside it.
    telling = [f for f in stated if f.get("field") != "product"] or stated
    facts = "; ".join(f["statement"] for f in telling)
    where = line_span(*side["lines"])
    verb = {"added": "added", "removed": "removed", "modified": "changed", "moved": "moved"}[kind]
    unit = _unit_name(d)
    headline = f"{section} — {facts}." if facts else f"{section} — {unit} {verb}: “{quoted}”"
    whole = f"{section}, {unit} {verb} ({where}): “{quoted}”"
    if kind == "moved" and d.get("old"):
        whole += f" (was {line_span(*d['old']['lines'])})"
    return plain(headline), plain(whole + (f" {facts[0].upper()}{facts[1:]}." if facts else ""))


def redline(claim: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    """A modified unit's words as (op, words) with op ``=``, ``-`` or ``+``; () for other kinds."""
    from digestkit.diff import word_segments

    d = claim.get("details") or {}
    if claim["kind"] != "modified" or not d.get("old") or not d.get("new"):
        return ()
    return tuple(word_segments(plain(d["old"]["text"]), plain(d["new"]["text"])))
