"""Data minimization of runbook text: customer data a runbook names never reaches a digest.

A runbook may name a customer (a named-customer carve-out with the account name, a contact, an
e-mail address, a phone number or a contract clause). :func:`redact_revision` replaces every such
value the screen (:mod:`digestkit.screen`) finds by the record's pseudonymous id (an account or
contact id) or a neutral placeholder (``[e-mail]``, ``[phone]``, ``[contact]``,
``[contract clause]``, ``[exception summary]``) before the revision is parsed, so change text,
details, redlines, the JSON, HTML, notebook and audit record only ever carry the replacement.
Line breaks are kept, so every line number still points at the file.
:func:`redaction_findings` states, per line, what was replaced there (by kind and id), and
:func:`prefetch` asks the sources once about every text a digest is about to redact.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from digestkit import sources as src_mod
from digestkit.context import Finding, RedactionDetails, SourceRef
from digestkit.frontmatter import parse_front_matter
from digestkit.screen import Hit, Stamp, content_stamp, find_hits, prefetch

__all__ = [
    "Redacted",
    "Redaction",
    "prefetch",
    "redact_revision",
    "redact_text",
    "redaction_findings",
]


@dataclass(frozen=True)
class Redaction:
    """One value replaced: its 1-based file line, what it was (kind and id) and its replacement."""

    line: int
    what: str
    replacement: str


@dataclass(frozen=True)
class Redacted:
    """A text with its customer data replaced, and what was replaced where."""

    text: str
    redactions: tuple[Redaction, ...]


def _chosen(hits: Iterable[Hit]) -> list[Hit]:
    """Non-overlapping hits, the earliest and then the longest winning (an e-mail address over
    the contact name inside it)."""
    out: list[Hit] = []
    for hit in sorted(hits, key=lambda h: (h.start, -(h.end - h.start))):
        if not out or hit.start >= out[-1].end:
            out.append(hit)
    return out


def redact_text(text: str, src: src_mod.DataSources, *, first_line: int = 1) -> Redacted:
    """``text`` with every sensitive value replaced; line breaks inside a value are kept."""
    hits = _chosen(find_hits(text, src))
    if not hits:
        return Redacted(text, ())
    pieces, redactions, at = [], [], 0
    for hit in hits:
        pieces += [
            text[at : hit.start],
            hit.replacement,
            "\n" * text.count("\n", hit.start, hit.end),
        ]
        line = first_line + text.count("\n", 0, hit.start)
        redactions.append(Redaction(line, hit.what, hit.replacement))
        at = hit.end
    pieces.append(text[at:])
    return Redacted("".join(pieces), tuple(redactions))


def redact_revision(text: str, src: src_mod.DataSources) -> Redacted:
    """A revision file's text with the customer data of its body replaced, and where.

    The front matter is left as it is: its values reach a digest only through the header, which
    is screened on its own (:func:`redact_text`), and a digest cites body lines only.
    """
    return _redact_revision(text, src, content_stamp(src))


@lru_cache(maxsize=256)
def _redact_revision(text: str, src: src_mod.DataSources, stamp: Stamp) -> Redacted:
    # A replay digests the same revisions many times; ``stamp`` renews it when the sources change.
    lines = text.split("\n")
    front = parse_front_matter(lines)
    body_start = front.body_start if front is not None else 0
    head = "".join(line + "\n" for line in lines[:body_start])
    body = redact_text(text[len(head) :], src, first_line=body_start + 1)
    return Redacted(head + body.text, body.redactions)


def redaction_findings(redacted: Redacted, revision_ref: str) -> list[Finding]:
    """One ``customer_data_redacted`` flag per line where customer data was replaced."""
    by_line: dict[int, list[Redaction]] = {}
    for r in redacted.redactions:
        by_line.setdefault(r.line, []).append(r)
    findings = []
    for line, items in sorted(by_line.items()):
        whats = list(dict.fromkeys(r.what for r in items))
        shown = list(dict.fromkeys(r.replacement for r in items))
        details: RedactionDetails = {"line": line, "what": whats, "replaced_by": shown}
        findings.append(
            Finding(
                "customer_data_redacted",
                f"Line {line} of {revision_ref} names customer data ({'; '.join(whats)}); the "
                f"digest shows {', '.join(shown)} in its place.",
                (SourceRef("runbook", revision_ref, f"L{line}-L{line}"),),
                details,
            )
        )
    return findings
