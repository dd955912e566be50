"""Quotations and reported speech: the runbook's own words, which no rule reads.

:func:`mask` blanks quoted spans (every one, or only those introduced as quotations) and steps
named by their label; :func:`is_reported` tells whether a position lies in a clause that reports
what the runbook says ("Step 4 now says to page the VP"). Quotations are paired in one pass, so
a run of quotes costs time linear in its length.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Iterable
from typing import Literal

__all__ = ["Quotes", "is_reported", "mask"]

Quotes = Literal["reported", "all"]

_OPEN_CLOSE = {"'": "'’", '"': '"', "“": "”", "‘": "’'"}
# A quotation opens after a space or bracket and closes before a space or punctuation; openers
# and closers are found separately and paired in one pass, so a run of quotes stays linear.
_QUOTE_OPEN = re.compile(r"(?:^|(?<=[\s(\[{:—–/]))['\"“‘]")
_QUOTE_CLOSE = re.compile(r"['\"”’](?=$|[\s.,;:!?)\]}—–/])")
# What introduces a quotation in a clarification: "reads '...'", "renamed to '...'", "'A' to '...'".
_QUOTE_INTRO = re.compile(
    r"(?:\b(?:says?|said|states?|stated|reads?|wording|text|titled|named|called|heading|headed|"
    r"section|steps?(?:\s+\d+\w*)?|clause|item|bullet|lines?\s+[\d–-]+|quotes?|quoted|verbatim|"
    r"from|replaced|reworded|renamed|changed|label(?:led)?|phrase|sentence|instruction|line|"
    # an edit to the runbook's text: "the diff adds '...'", "r8 removed '...'"
    r"adds|added|inserts|inserted|removes|removed|deletes|deleted|drops|dropped|restores|restored|"
    r"mentions|mentioned|mention\s+of|cites|cited|references?|referenced|refers|referring|"
    r"became|becomes|rewritten\s+as)"
    r"\s*[:,]?\s*(?:as\s+|to\s+)?"
    # "Old revision: '...'", "New text: '...'", "replaces '...' with '...'"
    r"|\b(?:(?:old|new|previous|original|current|updated|revised)\s+)?(?:revision|version|text|"
    r"wording|step)\s*:\s*|\b(?:replaces|rewords|renames|changes)\s+"
    r"|['\"”’]\s*(?:to|and|or|with|,)\s*)$",
    re.IGNORECASE,
)
_INTRO_CHARS = 80
# A quotation that names a part of the runbook by its label: "the 'route to owning team' step".
_QUOTE_LABEL = re.compile(
    r"['\"”’]\s*(?:(?:to|in|into|from|under|of)\s+(?:the\s+)?(?:new\s+|old\s+)?)?(?:steps?|"
    r"sections?|clauses?|items?|instructions?|lines?|headings?|wording|bullets?|checklist\s+items?|"
    r"rules?)\b",
    re.IGNORECASE,
)
# A quotation that opens a sentence and is then reported on is runbook text: "'Escalate to the
# duty manager' now appears in step 3", "'Page the VP' was moved to step 6".
_QUOTE_SUBJECT = re.compile(
    r"\s*(?:now\s+|no\s+longer\s+|still\s+|also\s+|only\s+|first\s+)?(?:appears?|appeared|"
    r"(?:is|was|were|are|has\s+been|got)\s+(?:now\s+|no\s+longer\s+)?(?:moved|removed|added|"
    r"reworded|renamed|deleted|dropped|restored|replaced|listed|quoted|kept|in\s+step|under|"
    r"part\s+of)|moved|moves|became|becomes|replaces|replaced|precedes|follows|reads|comes|sits|"
    r"lives|shows\s+up|used\s+to|opens|closes|ends|begins|heads|was|were)\b",
    re.IGNORECASE,
)
# A step named by its label, "Step 3 (page the primary on-call)", quotes the runbook.
_STEP_LABEL = re.compile(
    r"\bstep\s+\d+[a-z]?\s*(\([^()]{0,400}\)|[—–]\s[^—–]{0,400}\s[—–])", re.IGNORECASE
)
# "<runbook|step N|section|text> (now) says/states/reads/requires ...": the rest of the clause
# reports what the runbook says.
_REPORTED = re.compile(
    r"\b(?:runbook|registry|register|step\s+\d+\w*|steps?|section(?:\s+[\d.]+\w*)?|revision|r\d+|"
    r"text|wording|policy|procedure|guidance|contract|changelog|appendix|entry|record|table|"
    r"matrix|checklist|version|one|it|instruction|line)(?:['’]s\s+guidance)?\s+"
    r"(?:now\s+|no\s+longer\s+|previously\s+|still\s+|also\s+|used\s+to\s+|only\s+)?"
    r"(?:says?|said|states?|stated|reads?|read|requires?|required|instructs?|instructed|tells?|"
    r"told|directs?|directed|asks?|asked|specif(?:ies|ied|y)|mandates?|mandated|is\s+that|"
    r"was\s+that)\b"
    r"|\b(?:according\s+to|per|under|as\s+(?:stated|described|written|defined)\s+in)\s+"
    r"(?:the\s+)?(?:new\s+|old\s+|current\s+|revised\s+|updated\s+|previous\s+)?(?:runbook|registry|register|section|step|revision|"
    r"r\d+|text|wording|polic(?:y|ies)|contract|exception|exc-\d+|records?|changelog|timeline|"
    r"reviewer|matrix|table|glossary|appendix|definitions?|crm|incident\s+record|postmortem|"
    r"post-incident\s+review|change\s+log|history)\b",
    re.IGNORECASE,
)
# "..., per section 7." at the end of a sentence: the sentence restates the source, unless it is an
# imperative (a match at its very start).
_TRAILING_ATTRIBUTION = re.compile(
    r"(?:,\s*|\s)(?:per|under|according\s+to|as\s+(?:stated|defined|written|described)\s+in)\s+"
    r"(?:the\s+|their\s+|its\s+)?(?:runbook|registry|register|section|step|revision|r\d+|"
    r"contract|exception|exc-\d+|polic(?:y|ies)|records?|billing\s+records|wording|text|matrix|"
    r"table|glossary|appendix|definitions?|crm|incident\s+record|timeline|postmortem|"
    r"post-incident\s+review|change\s+log|changelog|history)\b"
    r"[^,;]{0,60}$",
    re.IGNORECASE,
)
# After "according to the registry," a clause that starts with a verb is the writer's directive.
_ATTRIBUTION_START = re.compile(r"[^,]{0,80},\s*$")
_OWN_CLAUSE = re.compile(r",\s*(?:but|so)\b|\s(?:but|so)\s|[—–]|\s-\s|\binstead\b", re.IGNORECASE)


def _quotations(text: str) -> Iterable[tuple[int, int, int]]:
    """(opening quote, content start, content end) of every quotation, left to right."""
    closers = [m.start() for m in _QUOTE_CLOSE.finditer(text)]
    pos = 0
    for opener in _QUOTE_OPEN.finditer(text):
        if opener.start() < pos:
            continue
        # The first closer after at least one character of content (a lazy match).
        i = bisect_left(closers, opener.start() + 2)
        if i == len(closers):
            return
        yield opener.start(), opener.end(), closers[i]
        pos = closers[i] + 1


def mask(text: str, quotes: Quotes) -> str:
    """``text`` with quoted spans blanked (same length), so no rule can match inside them."""
    chars = list(text)

    def blank(start: int, end: int) -> None:
        for i in range(start, end):
            if not chars[i].isspace():
                chars[i] = "_"

    for m in _STEP_LABEL.finditer(text):
        blank(m.start(1) + 1, m.end(1) - 1)
    lead = len(text) - len(text.lstrip(" \t*•·-–—(["))
    for opener, start, end in _quotations(text):
        if text[end] not in _OPEN_CLOSE[text[opener]]:
            continue
        before = "".join(chars[max(0, opener - _INTRO_CHARS) : opener])
        if (
            quotes == "all"
            or _QUOTE_INTRO.search(before)
            or _QUOTE_LABEL.match(text, end)
            or (opener == lead and _QUOTE_SUBJECT.match(text, end + 1))
        ):
            blank(start, end)
    return "".join(chars)


def is_reported(masked: str, pos: int, *, statement: bool = False) -> bool:
    """Whether position ``pos`` lies in a clause that reports what the runbook says.

    ``statement``: the words at ``pos`` state something ("INC-5502 is a SEV-2"), so they cannot
    be an imperative, and a source named before or after them ("per the CRM", "Under the new
    matrix, ...") makes them a report wherever they start.
    """
    lead = len(masked) - len(masked.lstrip(" \t*•·-–—\"'“‘([_"))
    if (statement or pos > lead + 1) and _TRAILING_ATTRIBUTION.search(masked, pos):
        return True
    for frame in _REPORTED.finditer(masked, 0, pos):
        if _OWN_CLAUSE.search(masked, frame.end(), pos):
            continue
        attribution = frame.group().split(None, 1)[0].lower() in ("according", "per", "under", "as")
        if attribution and not statement and _ATTRIBUTION_START.fullmatch(masked, frame.end(), pos):
            continue  # "Per the registry, route this case to ..." directs in the writer's voice
        return True
    return False
