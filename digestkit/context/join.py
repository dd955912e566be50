"""The context join: every check of a revision against its context, in the digest's order.

:func:`assess` reads the revision once (:class:`~digestkit.context.reading.Reading`) and runs the
checks of :mod:`~digestkit.context.revision`, :mod:`~digestkit.context.owners`,
:mod:`~digestkit.context.carveouts` and :mod:`~digestkit.context.entitlements`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from digestkit.context.carveouts import referenced_exceptions, register_problems
from digestkit.context.entitlements import impact_assumptions
from digestkit.context.findings import Finding
from digestkit.context.owners import ownership_findings
from digestkit.context.reading import Reading
from digestkit.context.revision import open_questions, unchanged_sections
from digestkit.context.tables import ContextTables
from digestkit.runbook import Runbook

__all__ = ["EXPIRING_WITHIN_DAYS", "STALE_AFTER_DAYS", "assess"]

STALE_AFTER_DAYS = 90
EXPIRING_WITHIN_DAYS = 30


def assess(
    new: Runbook,
    *,
    revision_ref: str,
    runbook_id: str,
    context: ContextTables,
    changed_lines: Iterable[tuple[int, int]] = (),
    changed_sections: Iterable[Sequence[str]] = (),
    baseline: Runbook | None = None,
    baseline_ref: str | None = None,
    stale_after_days: int = STALE_AFTER_DAYS,
    expiring_within_days: int = EXPIRING_WITHIN_DAYS,
) -> list[Finding]:
    """Resolve every reference of ``new`` against the context and return the findings.

    ``changed_lines`` are the new-side line ranges the diff reported and ``changed_sections``
    the heading paths of every change (removals included); statements inside them are not
    "carried forward" (they are reported as changes instead).
    """
    reading = Reading(new, revision_ref, runbook_id, context, list(changed_lines), baseline)
    findings: list[Finding] = []
    if baseline is not None and baseline_ref is not None:
        findings += unchanged_sections(reading, baseline_ref, changed_sections)
    findings += ownership_findings(reading, stale_after_days)
    findings += referenced_exceptions(reading, expiring_within_days)
    findings += register_problems(reading)
    findings += impact_assumptions(reading)
    findings += open_questions(reading)
    return findings
