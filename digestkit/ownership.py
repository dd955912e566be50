"""Ownership and paging a runbook states in prose, not in a table.

"Data Export is owned by Platform Operations" in a paragraph is as much a statement of ownership
as a table row, and :mod:`digestkit.context` checks it against the registry the same way.
:func:`prose_statements` finds such sentences for the registry's product names:

- ownership: "<product> is owned | run | maintained | operated by <team>", "<team> owns
  <product>", "the owner | owning team of <product> is <team>", "<product> belongs to <team>",
  "<product> (owned by <team>)", "ownership of <product> moved to <team>";
- first paging target: "the primary on-call | primary pager | escalation pager for <product> is
  <pager>", "page <pager> first for <product>", "for <product>, page <pager> first",
  "<product> pages <pager> first".

A team is a run of capitalized words ("Platform Operations", "Identity and Access Engineering";
a leading "the" and a trailing "team" are dropped, a question word or pronoun is none) or a team
slug; a pager is a slug.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

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
_PAGER_TEMPLATES = (
    r"(?:primary\s+on-?call|primary\s+pager|escalation\s+pager)\s+for\s+{THE}{P}\s+is\s+{G}",
    r"page\s+{G}\s+first\s+(?:for|on)\s+{THE}{P}",
    r"for\s+{THE}{P},?\s+page\s+{G}\s+first",
    r"{P}\s+(?:escalations?\s+|incidents?\s+)?pages?\s+{G}\s+first",
)


@dataclass(frozen=True)
class ProseStatement:
    """One statement found in prose: the product as written and the team or pager it names."""

    kind: StatementKind
    product: str
    value: str


@lru_cache(maxsize=16)
def _patterns(products: tuple[str, ...]) -> tuple[tuple[StatementKind, re.Pattern[str]], ...]:
    names = "|".join(re.escape(p) for p in sorted(products, key=len, reverse=True))
    product = rf"(?P<product>{names})(?![\w-])"
    out: list[tuple[StatementKind, re.Pattern[str]]] = []
    for template in _OWNER_TEMPLATES:
        source = template.format(P=product, T=_TEAM, THE=_THE)
        out.append(("owner", re.compile(rf"(?<![\w-]){source}", re.IGNORECASE)))
    for template in _PAGER_TEMPLATES:
        source = template.format(P=product, G=_PAGER, THE=_THE)
        out.append(("primary_pager", re.compile(rf"(?<![\w-]){source}", re.IGNORECASE)))
    return tuple(out)


def prose_statements(text: str, products: Iterable[str]) -> list[ProseStatement]:
    """Ownership and first-paging statements in ``text`` about the named ``products``."""
    names = tuple(sorted({p for p in products if p}))
    if not names:
        return []
    found: list[tuple[int, ProseStatement]] = []
    for kind, pattern in _patterns(names):
        for m in pattern.finditer(text):
            value = m["team"] if kind == "owner" else m["pager"]
            found.append((m.start(), ProseStatement(kind, m["product"], value)))
    found.sort(key=lambda item: item[0])
    return list(dict.fromkeys(statement for _, statement in found))
