"""Customer-impact assumptions: a promised response time checked against CRM entitlements.

A line naming a support tier and a response time ("Premium accounts get an update within 30
minutes") is checked against the approved, active entitlements of that tier. Accounts are only
ever counted, never named: deviating terms make an ``unsupported_impact_assumption`` flag, and an
assumption every account supports, in unchanged lines, is carried forward.
"""

from __future__ import annotations

import re

from digestkit.context.findings import Finding, SourceRef
from digestkit.context.reading import Reading

__all__ = ["impact_assumptions"]

_MINUTES = re.compile(r"\bwithin\s+(\d+)\s*(?:minutes|mins?)\b", re.IGNORECASE)


def impact_assumptions(r: Reading) -> list[Finding]:
    """Each tier's promised response time: flagged where accounts' terms differ."""
    findings: list[Finding] = []
    for unit in r.units(kinds=("list_item", "paragraph")):
        tiers = [f.value for f in unit.facts if f.kind == "tier"]
        minutes = _MINUTES.search(unit.text)
        if not tiers or minutes is None:
            continue
        # "Premium Plus" also contains "Premium": the longest tier named is the subject.
        tier = max(tiers, key=len)
        promised = int(minutes.group(1))
        accounts, deviating, by_terms = r.ctx.entitlement_counts(tier, promised)
        query = f"tier={tier};record_status=approved;active_on={r.as_of:%Y-%m-%d}"
        if deviating:
            terms = ", ".join(f"{t} ({n})" for t, n in by_terms.itertuples(index=False))
            findings.append(
                Finding(
                    "unsupported_impact_assumption",
                    f"The runbook states an initial update within {promised} minutes for "
                    f"{tier} accounts; {deviating} of {accounts} active {tier} accounts "
                    f"(approved records) have different contractual terms: {terms}.",
                    (r.lines(unit), SourceRef("crm", "entitlements", query + ";deviating")),
                    {
                        "tier": tier,
                        "minutes": promised,
                        "accounts": accounts,
                        "deviating_accounts": deviating,
                    },
                )
            )
        elif r.unchanged(unit):
            findings.append(
                Finding(
                    "entitlement_assumption",
                    f"{tier}: initial update within {promised} minutes — {accounts} active "
                    "accounts, approved records.",
                    (r.lines(unit), SourceRef("crm", "entitlements", query)),
                    {"tier": tier, "minutes": promised, "accounts": accounts},
                )
            )
    return findings
