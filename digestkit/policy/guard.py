"""The guard itself: read texts sentence by sentence and report each violation and its level.

Sentence boundaries are found after quotations are masked; each sentence is read in pieces of at
most ``MAX_PIECE`` characters by every block rule, then at the confirm level for the rules that
did not match. :func:`check_digest` reads a digest's claims and clarifications;
:func:`assert_in_scope` refuses one that is out of scope.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from digestkit.exceptions import DigestkitError, ScopeError
from digestkit.policy.confirm import confirm_hits
from digestkit.policy.net import net_hits
from digestkit.policy.reported import Quotes, is_reported, mask
from digestkit.policy.rules import RULES
from digestkit.policy.vocabulary import (
    CUE,
    FILLER,
    GIVE_VERBS,
    LEAD,
    PAY_VERBS,
    ROUTE_VERBS,
    START,
)

__all__ = [
    "DIGEST_SECTIONS",
    "MAX_PIECE",
    "Level",
    "Violation",
    "assert_in_scope",
    "blocking",
    "check_digest",
    "check_sentence",
    "check_texts",
    "to_confirm",
]

Level = Literal["block", "confirm"]

DIGEST_SECTIONS = ("header", "changed_steps", "carried_forward", "open_questions", "flags")

SCOPE_ERROR = (
    "digest {digest} is out of scope: {count} sentence(s) make a decision that belongs to the "
    "duty manager:\n{lines}\nRemove or rephrase them as descriptions; the digest informs, "
    "it does not recommend concessions, route cases or set severity."
)
SCOPE_LINE = '  {where}: [{level}: {rule}] "{sentence}" (matched "{match}")'


@dataclass(frozen=True)
class Violation:
    """One sentence that breaks a scope rule, at which level, and where in the digest it is.

    ``level`` is ``"block"`` (sharing is refused) or ``"confirm"`` (sharing needs the sharer's
    confirmation).
    """

    rule: str
    sentence: str
    match: str
    where: str
    level: Level = "block"


# The block patterns whose hit is an imperative clause; the others hang on a modal or a judgement,
# which an open question ("whether the case should go to ...") only asks about.
_DIRECTIVE_PATTERNS = frozenset(
    p for rule in RULES.values() for p in rule.patterns if p.pattern.startswith(LEAD)
)
# An open question before a modal hit, in the same clause.
_OPEN_QUESTION = re.compile(
    r"\b(?:(?<!is\s)(?<!one\s)(?<!ones\s)who|whom|whose|which|whether|what(?!\s+about)|"
    r"how(?!\s+about)|unclear|not\s+clear|not\s+(?:stated|said|specified|defined)|"
    r"open\s+question|(?:asked|asks|asking|wonder(?:s|ed|ing)?)\s+(?:if|whether))\b[^,;.?]{0,80}$",
    re.IGNORECASE,
)

_SENTENCE_END = re.compile(r"(?<=[.!?])[\"'’”)]*\s+|;\s*|\n+|\s[•·]\s")
_VERB_START = re.compile(
    rf"{START}{FILLER}\b(?:{GIVE_VERBS}|{PAY_VERBS}|{ROUTE_VERBS}|declare|treat|mark|set|"
    r"raise|lower|downgrade|upgrade|bump|page|call|notify|tell|contact|email|ping|update|check|"
    r"confirm|ask|inform|alert|reply|respond|wait|keep|let|make|open|close|start|stop|loop|pull|"
    r"bring|use|review|monitor|acknowledge|ack|join|spin|put|go|engage|waive|assign|route)\b",
    re.IGNORECASE,
)
_CUE_RE = re.compile(CUE, re.IGNORECASE)
_LAST_CLAUSE = re.compile(r"[\s.!?\"'’”)]*")
_LIST_MARK = re.compile(r"[,:;]")
# Every rule reads one piece of at most this many characters at a time, so the work per piece is
# bounded and the work per text grows linearly with its length, whatever the text holds. Longer
# sentences are read in overlapping pieces.
MAX_PIECE = 600
_OVERLAP = 150


def _pieces(sentence: str) -> Iterable[tuple[int, int]]:
    """(start, end) of pieces of at most MAX_PIECE characters covering ``sentence``.

    A long sentence is cut at a space where it can be, and consecutive pieces overlap, so a
    phrase up to _OVERLAP characters long is whole in at least one piece.
    """
    start, n = 0, len(sentence)
    while True:
        end = min(start + MAX_PIECE, n)
        if end < n:
            space = sentence.rfind(" ", start + MAX_PIECE - _OVERLAP, end)
            end = space if space > start else end
        yield start, end
        if end >= n:
            return
        space = sentence.find(" ", end - _OVERLAP, end)
        start = space + 1 if space > start else end - _OVERLAP


def _sentences(text: str, masked: str) -> Iterable[tuple[str, str]]:
    """(original, masked) sentence pairs; boundaries are found in the masked text."""
    start = 0
    for m in [*_SENTENCE_END.finditer(masked), None]:
        end = m.start() if m else len(masked)
        if masked[start:end].strip():
            lead = len(masked[start:end]) - len(masked[start:end].lstrip())
            yield text[start + lead : end].rstrip(), masked[start + lead : end].rstrip()
        if m:
            start = m.end()


def _scan(sentence: str, masked: str, where: str) -> list[Violation]:
    """At most one violation per rule: a block-level match, else a confirm-level pairing."""
    found, unmatched = [], []
    for rule in RULES.values():
        for pattern in rule.patterns:
            hit = _first_hit(pattern, masked)
            if hit is not None:
                found.append(Violation(rule.name, sentence, sentence[hit[0] : hit[1]], where))
                break
        else:
            unmatched.append(rule.name)
    paired = confirm_hits(masked, unmatched)
    if not found and not paired:
        # The safety net reads only a sentence nothing else flagged: it catches what the rules
        # did not foresee, and adds no second rule to a sentence already flagged.
        paired = net_hits(masked, unmatched)
    for name in unmatched:
        if name in paired:
            start, end = paired[name]
            found.append(Violation(name, sentence, sentence[start:end], where, level="confirm"))
    return found


def _asked(pattern: re.Pattern[str], masked: str, start: int) -> bool:
    """Whether a modal hit lies inside an open question ("it is unclear whether a credit should be
    offered", "who should take this case is not stated"); an imperative never does."""
    return pattern not in _DIRECTIVE_PATTERNS and bool(
        _OPEN_QUESTION.search(masked, max(0, start - 80), start)
    )


def _first_hit(pattern: re.Pattern[str], masked: str) -> tuple[int, int] | None:
    group = "hit" if "hit" in pattern.groupindex else 0
    m = pattern.search(masked)
    while m is not None:
        start, end = m.span(group)
        # "and declare Sev1" is a directive only inside a directive sentence, or as the last
        # clause after its only comma ("The incident doesn't meet SEV-1, downgrade it."; a list
        # of step names, "three actions: declare severity, open the bridge, page the primary",
        # has more commas or a colon).
        conj_ok = (
            "conj" not in pattern.groupindex
            or m.group("conj") is None
            or _VERB_START.search(masked)
            or _CUE_RE.search(masked, 0, start)
            or (
                m.group("conj").startswith(",")
                and _LAST_CLAUSE.fullmatch(masked, end)
                and not _LIST_MARK.search(masked, 0, m.start("conj"))
            )
        )
        statement = pattern not in _DIRECTIVE_PATTERNS
        if (
            conj_ok
            and not is_reported(masked, start, statement=statement)
            and not _asked(pattern, masked, start)
        ):
            return start, end
        m = pattern.search(masked, m.start() + 1)
    return None


# --- public API --------------------------------------------------------------------------------


def check_texts(
    items: Iterable[tuple[str, str]], *, quotes: Quotes = "reported"
) -> list[Violation]:
    """Split each ``(where, text)`` pair into sentences and return every rule violation.

    ``quotes="reported"`` masks only quotations introduced as such ("the text reads '...'");
    ``quotes="all"`` masks every quoted span (for template-generated text, where quotes are
    always source text). At most one violation per rule and sentence is reported: block level
    if a block rule matches, else confirm level. Time and memory grow linearly with the text.
    """
    found: list[Violation] = []
    for where, text in items:
        for sentence, masked in _sentences(text, mask(text, quotes)):
            seen: dict[str, Violation] = {}
            for start, end in _pieces(masked):
                for v in _scan(sentence[start:end], masked[start:end], where):
                    if v.rule not in seen or (v.level, seen[v.rule].level) == ("block", "confirm"):
                        seen[v.rule] = v
            found.extend(sorted(seen.values(), key=lambda v: list(RULES).index(v.rule)))
    return found


def check_sentence(sentence: str, *, quotes: Quotes = "reported") -> list[Violation]:
    """Return the violations in one sentence (or short text); empty when it is in scope.

    >>> [(v.rule, v.level) for v in check_sentence("Declare Sev1 and page the VP.")]
    [('case_routing', 'block'), ('severity_declaration', 'block')]
    >>> [(v.rule, v.level) for v in check_sentence("Sev 2 seems fair for this one.")]
    [('severity_declaration', 'confirm')]
    >>> check_sentence("Step 4 of the severity-one escalation runbook was reworded.")
    []
    """
    return check_texts([("", sentence)], quotes=quotes)


def blocking(violations: Iterable[Violation]) -> list[Violation]:
    """The block-level violations: sharing is refused while there is one."""
    return [v for v in violations if v.level == "block"]


def to_confirm(violations: Iterable[Violation]) -> list[Violation]:
    """The confirm-level violations: sharing needs the sharer to confirm these sentences."""
    return [v for v in violations if v.level == "confirm"]


def _claims(digest: Mapping[str, Any]) -> Iterable[tuple[str, str]]:
    for section in DIGEST_SECTIONS:
        claims = digest.get(section)
        # A mapping header (schema_version 1) is record metadata copied from the revision, not
        # statements of the digest; only claim lists are read.
        if claims is None or isinstance(claims, Mapping):
            continue
        if isinstance(claims, str) or not isinstance(claims, Iterable):
            raise DigestkitError(
                f"digest section '{section}' must be a list of claims, got "
                f"{type(claims).__name__}; pass Digest.to_dict() or the digest JSON"
            )
        for i, claim in enumerate(claims, start=1):
            yield str(claim.get("id") or f"{section} {i}"), str(claim.get("text") or "")


def check_digest(digest: Mapping[str, Any]) -> list[Violation]:
    """Return every violation (both levels) in a digest's claim texts and human clarifications.

    Claim texts are checked with every quoted span masked (they are generated, so a quote is
    source text); clarifications with only introduced quotations masked. ``details`` (quoted
    old/new runbook text) are not checked. ``where`` is the claim id or ``"clarification N"``.
    """
    if hasattr(digest, "to_dict"):
        digest = digest.to_dict()
    found = check_texts(_claims(digest), quotes="all")
    clarifications = digest.get("clarifications") or []
    found += check_texts(
        (
            (f"clarification {i}", str(note.get("text") or ""))
            for i, note in enumerate(clarifications, start=1)
        ),
        quotes="reported",
    )
    return found


def assert_in_scope(digest: Mapping[str, Any], *, confirmed: bool = False) -> None:
    """Raise :class:`ScopeError` listing every violation (where, level, rule, sentence), if any.

    Block-level violations always raise; confirm-level ones raise unless ``confirmed`` (the
    sharer read them and confirmed the digest still only informs). The error's ``violations``
    attribute holds the :class:`Violation` list.
    """
    found = check_digest(digest)
    if confirmed:
        found = blocking(found)
    if not found:
        return
    if hasattr(digest, "to_dict"):
        digest = digest.to_dict()
    lines = "\n".join(
        SCOPE_LINE.format(
            where=v.where, level=v.level, rule=v.rule, sentence=v.sentence, match=v.match
        )
        for v in found
    )
    error = ScopeError(
        SCOPE_ERROR.format(
            digest=digest.get("digest_id", "<unnamed>"), count=len(found), lines=lines
        ),
        violations=found,
    )
    raise error
