"""The exceptions a runbook references, and problems in the register's exceptions for it.

An exception is in force from ``valid_from`` to ``valid_to`` when the register approves it.
A referenced exception is flagged when the register does not list it, does not approve it, when
it is not in force yet, has expired or expires soon; one in force in unchanged lines is carried
forward. Of the runbook's exceptions in force, those pointing to a section the revision lacks are
orphaned, and those giving one account and product different handlings are ambiguous carve-outs
(accounts are named by id only).
"""

from __future__ import annotations

import re
from typing import Any, cast

import pandas as pd

from digestkit.context.findings import ExceptionDetails, ExceptionStatus, Finding
from digestkit.context.reading import Reading
from digestkit.context.tables import norm_name
from digestkit.runbook import Unit

__all__ = ["referenced_exceptions", "register_problems"]

_EXCEPTION_ID = re.compile(r"\bEXC-\d+\b")


def _referenced_exception_units(r: Reading) -> dict[str, Unit]:
    found: dict[str, Unit] = {}
    for unit in r.body:
        for fact in unit.facts:
            if fact.kind == "exception":
                found.setdefault(fact.value, unit)
        for match in _EXCEPTION_ID.findall(unit.text):
            found.setdefault(match, unit)
    return found


def referenced_exceptions(r: Reading, expiring_within_days: int) -> list[Finding]:
    """Each exception the body names: unknown, not approved, not in force yet, expired,
    expiring within ``expiring_within_days``, or (in unchanged lines) carried forward."""
    findings: list[Finding] = []
    for exc_id, unit in sorted(_referenced_exception_units(r).items()):
        if exc_id not in r.exceptions.index:
            findings.append(r.unknown("exception", exc_id, unit))
            continue
        exc = r.exceptions.loc[exc_id]
        cite = (r.lines(unit), r.exception(exc_id, "status"))
        status = cast(ExceptionStatus, str(exc["status"]))
        details: ExceptionDetails = {"exception_id": exc_id, "status": status}
        if exc["status"] != "approved":
            findings.append(
                Finding(
                    "exception_not_approved",
                    f"The runbook references exception {exc_id}, whose register status is "
                    f"{exc['status']} as of {r.as_of:%Y-%m-%d}.",
                    cite,
                    details,
                )
            )
            continue
        valid_from: Any = exc["valid_from"]  # a date: the register requires it
        start = pd.Timestamp(valid_from).date()
        if start > r.as_of.date():
            details["valid_from"] = start.isoformat()
            findings.append(
                Finding(
                    "exception_not_in_force",
                    f"The runbook references exception {exc_id}, which is approved but not "
                    f"in force yet: it applies from {start.isoformat()} "
                    f"({(start - r.as_of.date()).days} days after {r.as_of:%Y-%m-%d}).",
                    (r.lines(unit), r.exception(exc_id, "valid_from")),
                    details,
                )
            )
            continue
        valid_to: Any = exc["valid_to"]  # a date, or NaT for an open-ended exception
        if pd.notna(valid_to):
            end = pd.Timestamp(valid_to).date()
            days_left = (end - r.as_of.date()).days
            details["valid_to"] = end.isoformat()
            cite = (r.lines(unit), r.exception(exc_id, "valid_to"))
            if days_left < 0:
                findings.append(
                    Finding(
                        "exception_expired",
                        f"The runbook references exception {exc_id}, which expired on "
                        f"{end.isoformat()}.",
                        cite,
                        details,
                    )
                )
                continue
            if days_left <= expiring_within_days:
                findings.append(
                    Finding(
                        "exception_expiring",
                        f"Exception {exc_id}, referenced by the runbook, expires on "
                        f"{end.isoformat()} ({days_left} days after "
                        f"{r.as_of:%Y-%m-%d}).",
                        cite,
                        details,
                    )
                )
                continue
        if r.unchanged(unit):
            findings.append(
                Finding(
                    "exception",
                    f"Exception {exc_id} ({exc['kind']}, {exc['product_id']}) is "
                    f"{'still ' if r.baseline is not None else ''}approved and in force.",
                    (r.lines(unit), r.exception(exc_id, "status")),
                    details,
                )
            )
    return findings


def register_problems(r: Reading) -> list[Finding]:
    """Orphaned and ambiguous carve-outs among the runbook's approved, valid exceptions."""
    sections, ambiguous = r.ctx.in_force(r.runbook_id)
    findings: list[Finding] = []
    titles = {norm_name(s.title) for s in r.new.sections}
    old_titles = {norm_name(s.title) for s in r.baseline.sections} if r.baseline else set()
    orphaned = sections[~sections["normed"].isin(titles)]
    for row in orphaned.itertuples():
        how = "removed or renamed" if row.normed in old_titles else "missing"
        findings.append(
            Finding(
                "orphaned_exception",
                f"Approved exception {row.exception_id} points to section "
                f"'{row.section}', which this revision does not have ({how}).",
                (
                    r.exception(str(row.exception_id), "section"),
                    r.body_lines(),
                ),
                {"exception_id": str(row.exception_id), "section": str(row.section)},
            )
        )
    for account_id, product_id, ids, handling in ambiguous:
        findings.append(
            Finding(
                "ambiguous_carve_out",
                f"Approved exceptions {', '.join(ids)} apply to the same account "
                f"({account_id}) and product ({product_id}) with different handling "
                f"({', '.join(handling)}).",
                tuple(r.exception(i, "handling") for i in ids),
                {
                    "exception_ids": list(ids),
                    "account_id": account_id,
                    "product_id": product_id,
                },
            )
        )
    return findings
