"""Findings the revision gives without any source system: what is unchanged, what is open.

Top-level sections no change touched are carried forward as ``unchanged_sections``; units the
runbook marks as open (``TBD``, ``TODO``, "pending confirmation") are ``open_question`` findings,
quoted with :func:`quote`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from digestkit.context.findings import Finding, SourceRef
from digestkit.context.reading import Reading

__all__ = ["open_questions", "quote", "unchanged_sections"]

_LIST_MARKER = re.compile(r"\s*(?:\d+[.)]|[-*+])\s+")


def quote(text: str, limit: int = 90) -> str:
    """Runbook ``text`` on one line, cut at a word boundary to fit ``limit`` characters."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    return text[: limit - 1].rsplit(" ", 1)[0].rstrip(",;:") + "…"


def unchanged_sections(
    r: Reading, baseline_ref: str, changed_sections: Iterable[Sequence[str]]
) -> list[Finding]:
    """The top-level sections no change touched, as one carried-forward finding (or none)."""
    touched = {tuple(path) for path in changed_sections}
    sections = [
        s
        for s in r.new.sections
        if len(s.path) == 2
        and not any(path[: len(s.path)] == s.path for path in touched)
        and r.untouched(s.lines)
    ]
    if not sections:
        return []
    names = ", ".join(s.title for s in sections)
    baseline = baseline_ref.rsplit("@", 1)[-1]
    return [
        Finding(
            "unchanged_sections",
            f"Unchanged since {baseline}: {names}.",
            tuple(SourceRef("runbook", r.ref, f"L{s.lines[0]}-L{s.lines[1]}") for s in sections),
            {"sections": [list(s.path) for s in sections], "baseline_ref": baseline_ref},
        )
    ]


def open_questions(r: Reading) -> list[Finding]:
    """One finding per unit the runbook marks as an open question, quoting it."""
    findings = []
    for unit in r.body:
        markers = sorted({f.value for f in unit.facts if f.kind == "open_question"})
        if markers:
            section = " › ".join(unit.section[1:] or unit.section)
            text = quote(_LIST_MARKER.sub("", unit.text, count=1))
            findings.append(
                Finding(
                    "open_question",
                    f"Open question in {section} (lines {unit.lines[0]}-{unit.lines[1]}), "
                    f"marked {', '.join(repr(m) for m in markers)}: “{text}”",
                    (r.lines(unit),),
                    {"markers": markers},
                )
            )
    return findings
