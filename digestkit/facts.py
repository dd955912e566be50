"""Typed facts stated in runbook text: pagers, teams, products, times, exceptions, tiers, TODOs.

:class:`FactFinder` finds the facts of every unit of a revision in one pass per pattern: the units'
texts are joined with a separator no pattern can cross, each regular expression runs once over
the whole revision, and registry names (products, teams, pagers) are matched by one Aho-Corasick
automaton (pyahocorasick) instead of a loop over words. Table cells state facts by their column:
:func:`column_role` reads the header by one rule (:data:`COLUMN_ROLES`).
"""

from __future__ import annotations

import heapq
import operator
import re
from bisect import bisect_right
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import accumulate
from typing import Literal, get_args

import ahocorasick

__all__ = [
    "COLUMN_ROLES",
    "FACT_KINDS",
    "TIERS",
    "Fact",
    "FactFinder",
    "FactKind",
    "cell_facts",
    "column_role",
    "dedupe",
    "extract_facts",
    "with_subject",
]

FactKind = Literal[
    "pager", "team", "checkpoint", "duration", "product", "exception", "tier", "open_question"
]
FACT_KINDS: tuple[FactKind, ...] = get_args(FactKind)
TIERS = ("Premium Plus", "Premium", "Standard")

ColumnRole = tuple[FactKind, str | None]
COLUMN_ROLES: dict[str, ColumnRole] = {
    **dict.fromkeys(
        ("team", "teams", "owner", "owners", "owning team", "owner team", "responsible team"),
        ("team", "owner"),
    ),
    **dict.fromkeys(
        ("primary", "primary on call", "primary oncall", "primary pager"), ("pager", "primary")
    ),
    **dict.fromkeys(
        ("secondary", "secondary on call", "secondary oncall", "secondary pager"),
        ("pager", "secondary"),
    ),
    **dict.fromkeys(("pager", "on call", "oncall", "on call pager"), ("pager", None)),
    **dict.fromkeys(
        ("escalate after", "escalation after", "escalation time"), ("duration", "escalate_after")
    ),
    **dict.fromkeys(("product", "products", "product name"), ("product", None)),
    **dict.fromkeys(("tier", "tiers", "support tier"), ("tier", None)),
}
"""The one rule for table columns: a column states a fact only when its whole header, lower-cased
with punctuation and hyphens read as spaces, is one of these names. A header is read by its
meaning, not searched for words: 'Response Team Role' names a role, so it states no owning team."""

# Each pattern starts with a literal (or a digit) and case-insensitive ones run on the lower-cased
# text: re then skips ahead to candidates instead of trying every position. Word boundaries before
# a match are checked in Python on the few candidates (_after_word).
_PAGER_RE = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*-(?:oncall|primary|secondary|pager)(?![\w-])")
_PAGER_END_RE = re.compile(r"-(?:oncall|primary|secondary|pager)(?![\w-])")
_SLUG_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-")
_EXCEPTION_RE = re.compile(r"EXC-\d+\b")
_UNIT = r"(minutes?|mins?|m|hours?|hrs?|h)\b"
# Amounts written in words are the same facts as numerals ("within five minutes" = 5 min).
_SMALL_NUMBERS = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen twenty"
)
NUMBER_WORDS = dict(zip(_SMALL_NUMBERS.split(), range(21), strict=True)) | {
    "thirty": 30, "forty": 40, "forty-five": 45, "fifty": 50, "sixty": 60, "ninety": 90,
}  # fmt: skip
_AMOUNT = "(\\d+|" + "|".join(sorted(NUMBER_WORDS, key=len, reverse=True)) + ")"
_TPLUS_RE = re.compile(r"T\s?\+\s?(\d+)\s*" + _UNIT.replace(r")\b", r")?\b"))
_WITHIN_RE = re.compile(r"within\s+" + _AMOUNT + r"\s*" + _UNIT)  # on lower-cased text
_EVERY_RE = re.compile(r"every\s+" + _AMOUNT + r"\s*" + _UNIT)  # on lower-cased text
# Bare durations are digits; a duration in words is read after "after" (escalate after two
# hours): an alternation of number words tried at every position of the text is slow. The two
# are separate patterns merged by _leftmost: re skips ahead only in a pattern whose first item is
# a literal or a character class, which neither an alternation nor a repeat (\d+) is.
_DURATION_RES = (
    re.compile(r"(\d\d*)\s*" + _UNIT),  # \d\d* is \d+, written so that re skips to digits
    re.compile(r"after\s+" + _AMOUNT + r"\s*" + _UNIT),
)
# The same on ASCII text, where \d is [0-9]: a byte table re tests faster than a Unicode category.
_ASCII_DURATION_RES = (re.compile(r"([0-9][0-9]*)\s*" + _UNIT), _DURATION_RES[1])
_CELL_DURATION_RE = re.compile(r"\b" + _AMOUNT + r"\s*" + _UNIT, re.IGNORECASE)
_ESCALATE_RE = re.compile(r"\bescalat\w*\b[^.;\n]{0,25}$")  # on lower-cased text
# "Premium Support" is the name of the service, not a tier.
_TIER_RES = (  # merged by _leftmost; each starts with a literal
    re.compile(r"(Premium(?: Plus)?)\b(?!\s+Support\b)"),
    re.compile(r"(Standard)\b(?!\s+Support\b)"),
)
_TODO_RE = re.compile(r"T(?:BD|BC|ODO)\b")
_OPEN_LOWER_RES = (  # on lower-cased text, merged by _leftmost
    re.compile(r"pending\b[^.;\n]{0,60}?\bconfirmation\b"),
    re.compile(r"open question"),
)
_OPEN_RE = re.compile(
    r"\b(?:TBD|TBC|TODO)\b"
    r"|\b(?i:pending)\b[^.;\n]{0,60}?\b(?i:confirmation)\b"
    r"|\b(?i:open question)",
)
_WORD_CHAR_RE = re.compile(r"\w")
_ESCALATE = "escalate_after"
_NAME_CHAR_RE = re.compile(r"[\w-]")
_SPACE_RE = re.compile(r"\s+")
_START = operator.methodcaller("start")
_HEADER_RE = re.compile(r"[^\w]+|_")
# Joins unit texts: no pattern matches across a newline followed by NUL (the durations' \s* stops
# at the NUL, the bracketed classes at the newline), so one scan finds each unit's own facts.
_SEP = "\n\x00\n"


@dataclass(frozen=True)
class Fact:
    """A typed fact stated in a runbook, with the 1-based line it is on.

    Time facts (``checkpoint``, ``duration``) carry their value in minutes as text ("15").
    ``subject`` is what the fact is about (a table row key or the one product a unit names);
    ``role`` refines the kind: pager ``primary``/``secondary``, team ``owner``, duration
    ``escalate_after``, checkpoint ``t_plus``/``within``/``every``.
    """

    kind: FactKind
    value: str
    line: int
    subject: str | None = None
    role: str | None = None


class _Registry:
    """Registry names (products, teams, pagers) in one automaton: whole words, case-insensitive,
    leftmost-longest and non-overlapping per kind."""

    def __init__(self, names: Mapping[FactKind, tuple[str, ...]]) -> None:
        self.kinds = tuple(names)
        # Facts of the last texts searched: text -> (its first line then, its facts then).
        self.memo: dict[str, tuple[int, tuple[Fact, ...]]] = {}
        entries: dict[str, list[tuple[FactKind, str]]] = {}
        for kind, values in names.items():
            for name in values:
                if name and name.strip():
                    found = entries.setdefault(_lower(name), [])
                    if all(k != kind for k, _ in found):
                        found.append((kind, name))
        self.automaton: ahocorasick.Automaton | None = None
        if entries:
            self.automaton = ahocorasick.Automaton()
            for key, value in entries.items():
                self.automaton.add_word(key, (len(key), tuple(value)))
            self.automaton.make_automaton()

    def find(self, text: str, low: str) -> list[tuple[int, FactKind, int, str]]:
        """(position, kind, length, registry spelling) of every match in ``text`` (whose
        lower-cased form, of the same length, is ``low``)."""
        if self.automaton is None:
            return []
        by_kind: dict[FactKind, list[tuple[int, int, str]]] = {}
        for end, (size, values) in self.automaton.iter(low):
            start = end - size + 1
            if (start and _NAME_CHAR_RE.match(text, start - 1)) or _NAME_CHAR_RE.match(
                text, end + 1
            ):
                continue
            for kind, name in values:
                by_kind.setdefault(kind, []).append((start, -size, name))
        hits: list[tuple[int, FactKind, int, str]] = []
        for kind in self.kinds:  # registry order: equal positions keep it (pager, team, product)
            reach = 0
            found = by_kind.get(kind, [])
            for start, minus_size, name in sorted(found):
                if start >= reach:
                    hits.append((start, kind, -minus_size, name))
                    reach = start - minus_size
        return hits


def _after_word(text: str, at: int, also: str = "") -> bool:
    """True when ``at`` begins a word: no word character (or one of ``also``) just before it."""
    return not at or not (_WORD_CHAR_RE.match(text, at - 1) or text[at - 1] in also)


def _lower(text: str) -> str:
    low = text.lower()
    if len(low) == len(text):
        return low
    # A few characters lower-case to two (İ); keep positions aligned with the original text.
    return "".join(c if len(c.lower()) != 1 else c.lower() for c in text)


@lru_cache(maxsize=16)
def _registry(
    products: tuple[str, ...], teams: tuple[str, ...], pagers: tuple[str, ...]
) -> _Registry:
    return _Registry({"pager": pagers, "team": teams, "product": products})


class FactFinder:
    """Finds the facts of many texts at once, against one set of registry names."""

    def __init__(
        self,
        *,
        products: Iterable[str] = (),
        teams: Iterable[str] = (),
        pagers: Iterable[str] = (),
    ) -> None:
        self.registry = _registry(tuple(products), tuple(teams), tuple(pagers))

    def find(self, texts: Sequence[str], first_lines: Sequence[int]) -> list[tuple[Fact, ...]]:
        """The facts of each text (whose first line is the matching ``first_lines`` entry), as
        tuples: a revision has a unit per step, and most state no fact.

        Texts seen in the previous call with the same registry names (most units of the other
        revision of a diff) are not scanned again.
        """
        memo = self.registry.memo
        seen: dict[str, tuple[int, tuple[Fact, ...]]] = {}
        out: list[tuple[Fact, ...]] = []
        missing: list[int] = []
        for k, text in enumerate(texts):
            known = memo.get(text)
            if known is None:
                missing.append(k)
                out.append(())
                continue
            seen[text] = known
            line, facts = known
            if facts and line != first_lines[k]:
                facts = tuple([_shift(f, first_lines[k] - line) for f in facts])
            out.append(facts)
        if missing:
            lines = [first_lines[k] for k in missing]
            found = self._scan([texts[k] for k in missing], lines)
            for k, line, facts in zip(missing, lines, found, strict=True):
                seen[texts[k]] = (line, facts)
                out[k] = facts
        self.registry.memo = seen
        return out

    def _scan(self, texts: Sequence[str], first_lines: Sequence[int]) -> list[tuple[Fact, ...]]:
        """The facts of each text; tuples, which for the many texts without facts are one
        shared empty tuple (the memo keeps them while the other revision is parsed)."""
        doc = _SEP.join(texts)
        starts: list[int] = []
        pos = 0
        for text in texts:
            starts.append(pos)
            pos += len(text) + len(_SEP)
        found: dict[int, list[tuple[int, Fact]]] = {}  # only texts with facts

        def add(at: int, kind: FactKind, value: str, role: str | None = None) -> None:
            k = bisect_right(starts, at) - 1
            line = first_lines[k] + doc.count("\n", starts[k], at)
            found.setdefault(k, []).append((at, Fact(kind, value, line, None, role)))

        low = _lower(doc)
        for m in _PAGER_END_RE.finditer(doc):
            at = m.start()
            while at and doc[at - 1] in _SLUG_CHARS:
                at -= 1
            slug = _PAGER_RE.match(doc, at)
            if slug and slug.end() == m.end() and _after_word(doc, at, "-"):
                add(at, "pager", slug.group(0))
        for at, kind, size, name in self.registry.find(doc, low):
            if kind == "pager" and _PAGER_RE.fullmatch(doc, at, at + size):
                continue  # already found as a pager slug
            add(at, kind, name)
        for m in _EXCEPTION_RE.finditer(doc):
            if _after_word(doc, m.start()):
                add(m.start(), "exception", m.group(0))
        taken: list[tuple[int, int]] = []
        for m in _TPLUS_RE.finditer(doc):
            if _after_word(doc, m.start()):
                add(m.start(), "checkpoint", _minutes(m.group(1), m.group(2) or "min"), "t_plus")
                taken.append(m.span())
        for regex, role in ((_WITHIN_RE, "within"), (_EVERY_RE, "every")):
            for m in regex.finditer(low):
                if _after_word(low, m.start()):
                    add(m.start(), "checkpoint", _minutes(m.group(1), m.group(2)), role)
                    taken.append(m.span())
        taken.sort()
        taken_starts = [a for a, _ in taken]
        reach = list(accumulate((b for _, b in taken), max))
        for m in _leftmost(low, _ASCII_DURATION_RES if low.isascii() else _DURATION_RES):
            at = m.start()
            n = bisect_right(taken_starts, at) - 1
            if (n >= 0 and reach[n] > at) or not _after_word(doc, at):
                continue  # part of a checkpoint, or digits inside a word
            unit_start = starts[bisect_right(starts, at) - 1]
            escalate = _ESCALATE_RE.search(low, unit_start, at) is not None
            add(at, "duration", _minutes(m.group(1), m.group(2)), _ESCALATE if escalate else None)
        for m in _leftmost(doc, _TIER_RES):
            if _after_word(doc, m.start()):
                add(m.start(), "tier", m.group(1))
        opened = [m.span() for m in _TODO_RE.finditer(doc) if _after_word(doc, m.start())]
        opened += [m.span() for m in _leftmost(low, _OPEN_LOWER_RES) if _after_word(low, m.start())]
        reach_open = -1
        for a, b in sorted(opened):
            if a >= reach_open:  # leftmost first, never overlapping, as one alternation finds them
                add(a, "open_question", _SPACE_RE.sub(" ", doc[a:b]))
                reach_open = b
        return [tuple(_finish(found[k])) if k in found else () for k in range(len(texts))]


def _leftmost(text: str, patterns: Iterable[re.Pattern[str]]) -> Iterator[re.Match[str]]:
    """The matches of ``patterns`` that one alternation of them would find: leftmost first,
    never overlapping. Exact for patterns that never match at the same position, where a match
    of one never starts inside a match of another and ends past it (those merged here)."""
    reach = 0
    for m in heapq.merge(*(p.finditer(text) for p in patterns), key=_START):
        if m.start() >= reach:
            yield m
            reach = m.end()


def _shift(fact: Fact, lines: int) -> Fact:
    return Fact(fact.kind, fact.value, fact.line + lines, fact.subject, fact.role)


def _finish(hits: list[tuple[int, Fact]]) -> list[Fact]:
    facts = [f for _, f in sorted(hits, key=lambda pf: pf[0])]
    named = {f.value for f in facts if f.kind == "product"}
    if len(named) == 1:
        subject = named.pop()
        facts = [f if f.kind == "product" else with_subject(f, subject) for f in facts]
    return dedupe(facts)


def extract_facts(
    text: str,
    first_line: int,
    *,
    products: Iterable[str] = (),
    teams: Iterable[str] = (),
    pagers: Iterable[str] = (),
) -> list[Fact]:
    """Typed facts in ``text`` (whose first line is ``first_line``), in order of appearance.

    Products, teams and pagers given as registries are matched exactly (case-insensitive, whole
    words); pagers are also recognized by their slug form (``*-oncall``, ``-primary``,
    ``-secondary``, ``-pager``). If the text names exactly one product, the other facts get it
    as their subject.
    """
    finder = FactFinder(products=products, teams=teams, pagers=pagers)
    return list(finder.find([text], [first_line])[0])


def column_role(header: str) -> ColumnRole | None:
    """The fact a table column states, by the rule of :data:`COLUMN_ROLES`."""
    return COLUMN_ROLES.get(" ".join(_HEADER_RE.sub(" ", header.casefold()).split()))


def cell_facts(cells: Mapping[str, str], key: str, line: int) -> list[Fact]:
    """Facts a table row states in its cells, by column role; ``key`` is the row's subject."""
    facts = []
    for header, value in cells.items():
        role = column_role(header)
        if role is None or not value:
            continue
        kind, sub = role
        if _OPEN_RE.search(value):
            facts.append(Fact("open_question", value, line, key, sub))
        elif kind == "duration":
            m = _CELL_DURATION_RE.search(value)
            if m:
                facts.append(Fact(kind, _minutes(m.group(1), m.group(2)), line, key, sub))
        elif kind == "product":
            facts.append(Fact(kind, value, line, None, None))
        else:
            facts.append(Fact(kind, value, line, key, sub))
    return facts


def with_subject(fact: Fact, subject: str | None) -> Fact:
    """``fact`` about ``subject``, unless it already has a subject."""
    if fact.subject is not None or subject is None:
        return fact
    return Fact(fact.kind, fact.value, fact.line, subject, fact.role)


def dedupe(facts: Iterable[Fact]) -> list[Fact]:
    """First occurrence of each (kind, value, subject, role)."""
    seen: set[tuple[str, str, str | None, str | None]] = set()
    out = []
    for f in facts:
        key = (f.kind, f.value, f.subject, f.role)
        if key not in seen:
            seen.add(key)
            out.append(f)
    return out


def _minutes(amount: str, unit: str) -> str:
    value = int(amount) if amount.isdigit() else NUMBER_WORDS[amount.lower()]
    return str(value * 60) if unit.lower().startswith("h") else str(value)
