"""Ownership and paging a runbook states in prose, not in a table.

"Data Export is owned by Platform Operations" in a paragraph is as much a statement of ownership
as a table row, and :mod:`digestkit.context` checks it against the registry the same way.
:func:`prose_statements` finds such sentences for the registry's product names:

- ownership: "<product> is owned | run | maintained | operated by <team>", "<team> owns
  <product>", "the owner | owning team of <product> is <team>", "<product> belongs to <team>",
  "<product> (owned by <team>)", "ownership of <product> moved to <team>";
- first paging target: "the primary on-call | primary pager | escalation pager | on-call for
  <product> is <pager>", "page <pager> first for <product>", "for <product>, page <pager>
  first", "<product> pages <pager> first"; without "first" or "primary" ("page <pager> for
  <product>", "for <product> incidents, page <pager>", "<product> is paged via <pager>",
  "<product> — on-call: <pager>") only in a sentence that names no other page (secondary,
  backup, fallback, if, unless, after, then, also, otherwise, escalate, not).

A team is a run of capitalized words ("Platform Operations", "Identity and Access Engineering";
a leading "the" and a trailing "team" are dropped, a question word or pronoun is none) or a team
slug; a pager is a slug.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal, NamedTuple, cast

__all__ = ["ProseStatement", "StatementKind", "prose_statements"]

StatementKind = Literal["owner", "primary_pager"]

_WORD = r"[A-Z][\w&'-]*"
# A question or a pronoun is not a team: "Who owns Data Export after the move: TBD."
_NOT_A_TEAM = r"(?!(?:Who|Which|What|Whether|Whoever|Nobody|Someone|It|This|That|He|She|They)\b)"
# Connecting words match in any case; a team's words must be capitalized, so "(?-i:".
_TEAM = (
    rf"(?:the\s+)?(?-i:{_NOT_A_TEAM}(?P<team>{_WORD}(?:\s+(?:and\s+|&\s+|of\s+)?{_WORD})*"
    r"|[a-z0-9]+(?:-[a-z0-9]+)+))"
)
_PAGER = r"`?(?P<pager>[a-z0-9]+(?:-[a-z0-9]+)+)`?"
_THE = r"(?:the\s+)?"
_OWNER_TEMPLATES = (
    r"{P}\s+(?:is|are)\s+(?:now\s+|still\s+)?(?:owned|run|maintained|operated)\s+by\s+{T}",
    r"{T}(?:\s+team)?\s+(?:now\s+|still\s+)?owns\s+{THE}{P}",
    r"(?:owner|owning\s+team)\s+(?:of|for)\s+{THE}{P}\s+is\s+(?:now\s+|still\s+)?{T}",
    r"{P}\s+belongs\s+to\s+{T}",
    r"{P}\s*(?:\(|,|—|–|-|:)\s*owned\s+by\s+{T}",
    r"ownership\s+of\s+{THE}{P}\s+(?:has\s+)?(?:moved|passed|went)\s+to\s+{T}",
)
# "First" or "primary" says which page is meant; the weak forms below say it only in a sentence
# that names no other page (no secondary, backup, fallback, condition or sequence).
_PAGER_TEMPLATES = (
    r"(?<!secondary\s)(?<!backup\s)(?:primary\s+on-?call|primary\s+pager|escalation\s+pager"
    r"|on-?call|pager)\s+(?:for|of)\s+{THE}{P}\s+is\s+(?:now\s+)?{G}",
    r"page\s+{G}\s+first\s+(?:for|on)\s+{THE}{P}",
    r"for\s+{THE}{P}(?:\s+incidents?)?,?\s+page\s+{G}\s+first",
    r"{P}\s+(?:escalations?\s+|incidents?\s+)?pages?\s+{G}\s+first",
)
_WEAK_PAGER_TEMPLATES = (
    r"page\s+{G}\s+(?:for|on)\s+{THE}{P}",
    r"for\s+{THE}{P}(?:\s+incidents?)?,?\s+page\s+{G}",
    r"{P}\s+(?:escalations?\s+|incidents?\s+)?(?:pages?|go(?:es)?\s+to"
    r"|(?:is|are)\s+paged\s+(?:to|via|through|on|at))\s+{G}",
    r"{P}\s*(?:\(|,|—|–|-|:)\s*(?:primary\s+)?(?:on-?call|pager)\s*:?\s+{G}",
)
_OTHER_PAGE = re.compile(
    r"\b(?:secondary|backup|fallback|if|unless|after|then|also|otherwise|escalat\w*|not)\b",
    re.IGNORECASE,
)
_SENTENCE = re.compile(r"[^.;!?]+(?:[.;!?](?=\s|$)|$)")
_RUN = re.compile(r"\w+")
# A word every statement form spells out: a sentence without one states nothing, and needs no
# pattern built for the names it mentions.
_STATEMENT_WORD = re.compile(
    r"\b(?:by|owns|owner|owning|ownership|belongs|page[sd]?|pager|on-?call|go(?:es)?)\b", re.I
)


@dataclass(frozen=True)
class ProseStatement:
    """One statement found in prose: the product as written and the team or pager it names."""

    kind: StatementKind
    product: str
    value: str


@lru_cache(maxsize=1024)
def _patterns(products: tuple[str, ...]) -> tuple[tuple[StatementKind, bool, re.Pattern[str]], ...]:
    """(kind, weak, pattern) of every statement form, for these product names."""
    product = rf"(?P<product>{_trie(products)})(?![\w-])"
    forms = [
        *(("owner", False, t) for t in _OWNER_TEMPLATES),
        *(("primary_pager", False, t) for t in _PAGER_TEMPLATES),
        *(("primary_pager", True, t) for t in _WEAK_PAGER_TEMPLATES),
    ]
    out: list[tuple[StatementKind, bool, re.Pattern[str]]] = []
    for kind, weak, template in forms:
        source = template.format(P=product, T=_TEAM, G=_PAGER, THE=_THE)
        out.append((cast(StatementKind, kind), weak, re.compile(rf"(?<![\w-]){source}", re.I)))
    return tuple(out)


def _fold(text: str) -> str:
    """``text`` in one case, merging at least the letters ``re.IGNORECASE`` takes as one
    (str.casefold keeps the Turkish dotted and dotless i apart: both are "i" here)."""
    return text.casefold().replace("\u0131", "i").replace("\u0307", "")


class _Names(NamedTuple):
    """Product names by their words (folded), for finding which ones a sentence may mention."""

    by_words: dict[tuple[str, ...], tuple[str, ...]]
    first_words: frozenset[str]
    lengths: tuple[int, ...]  # how many words names have
    wordless: tuple[str, ...]  # names without a letter or digit: any sentence may name them


@lru_cache(maxsize=16)
def _names(products: tuple[str, ...]) -> _Names:
    by_words: dict[tuple[str, ...], list[str]] = {}
    for name in products:
        by_words.setdefault(tuple(_RUN.findall(_fold(name))), []).append(name)
    wordless = tuple(by_words.pop((), ()))
    return _Names(
        {words: tuple(names) for words, names in by_words.items()},
        frozenset(words[0] for words in by_words),
        tuple(sorted({len(words) for words in by_words})),
        wordless,
    )


def _mentioned(words: list[str], names: _Names) -> tuple[str, ...]:
    """The product names whose words run in ``words`` (a sentence's, folded), sorted.

    A pattern built for these names alone finds what one built for every name finds: a name
    matches only where the text spells it (in any case), so its words are the text's there.
    """
    found = set(names.wordless)
    for i, word in enumerate(words):
        if word in names.first_words:
            for n in names.lengths:
                found.update(names.by_words.get(tuple(words[i : i + n]), ()))
    return tuple(sorted(found))


_Trie = dict[str, "_Trie"]  # letter -> the names' rest; "" marks where a name ends


def _trie(names: Iterable[str]) -> str:
    """An alternation of ``names`` as a trie, longer names tried first where one continues another.

    It matches what ``"|".join(longest first)`` matches, in the same order of preference, but a
    position costs one branch per letter rather than one per name: thousands of product names
    made every sentence cost milliseconds.
    """
    tree: _Trie = {}
    for name in names:
        node = tree
        for char in name.lower():
            node = node.setdefault(char, {})
        node[""] = {}  # a name ends here

    def emit(node: _Trie) -> str:
        branches = [re.escape(char) + emit(child) for char, child in sorted(node.items()) if char]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        if "" in node:  # a name ends here: the longer ones first, then this one
            return f"(?:{body})?"
        return body

    return emit(tree)


def prose_statements(text: str, products: Iterable[str]) -> list[ProseStatement]:
    """Ownership and first-paging statements in ``text`` about the named ``products``."""
    names = _names(tuple(sorted({p for p in products if p})))
    if not (names.by_words or names.wordless):
        return []
    if not (names.wordless or names.first_words.intersection(_RUN.findall(_fold(text)))):
        return []  # most texts name no product: one look at their words
    found: list[tuple[int, ProseStatement]] = []
    for sentence in _SENTENCE.finditer(text):
        if not _STATEMENT_WORD.search(sentence.group(0)):
            continue
        mentioned = _mentioned(_RUN.findall(_fold(sentence.group(0))), names)
        if not mentioned:
            continue
        hedged = _OTHER_PAGE.search(sentence.group(0)) is not None
        # Built for the names this sentence mentions only: thousands of registry names made
        # one pattern cost seconds to compile.
        for kind, weak, pattern in _patterns(mentioned):
            if weak and hedged:
                continue
            for m in pattern.finditer(sentence.group(0)):
                value = m["team"] if kind == "owner" else m["pager"]
                where = sentence.start() + m.start()
                found.append((where, ProseStatement(kind, m["product"], value)))
    found.sort(key=lambda item: item[0])
    return list(dict.fromkeys(statement for _, statement in found))
