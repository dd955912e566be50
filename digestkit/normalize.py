"""Fold text to the plain lower-case ASCII the sensitive-data screen matches on.

Spelling tricks must not sidestep the screen: full-width or ligature forms (Unicode NFKC),
invisible format characters inside a word (soft hyphen, zero-width space and joiners), letters
borrowed from another script because they look Latin (Cyrillic "а", Greek "ο": Unicode's
confusables table, through ``confusable_homoglyphs``) and accents added or removed (``anyascii``)
all fold to the same text. :func:`fold` keeps, for every character of its result, the index of
the original character it came from, so a match in the folded text can be cut out of the original.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from functools import lru_cache
from typing import NamedTuple

from anyascii import anyascii
from confusable_homoglyphs import confusables

__all__ = ["Folded", "fold", "fold_char"]

_ASCII_RUN_OR_CHAR = re.compile(r"[\x00-\x7f]+|.", re.DOTALL)


class Folded(NamedTuple):
    """Folded text and, per folded character, the index of the original character."""

    text: str
    origin: Sequence[int]

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The original ``[start, end)`` span of the folded span ``[start, end)`` (non-empty)."""
        return self.origin[start], self.origin[end - 1] + 1


@lru_cache(maxsize=8192)
def _latin_lookalike(char: str) -> str | None:
    """The Latin letter ``char`` is confusable with, if it is a letter of another script."""
    found = confusables.is_confusable(char, greedy=True, preferred_aliases=["latin"])
    if not found:
        return None
    for glyph in found[0]["homoglyphs"]:
        candidate = str(glyph["c"])
        if len(candidate) == 1 and candidate.isascii() and candidate.isalpha():
            return candidate
    return None


@lru_cache(maxsize=65536)
def fold_char(char: str) -> str:
    """One character folded: NFKC, format characters and combining marks dropped, a look-alike
    of another script taken as its Latin letter, then transliterated to lower-case ASCII."""
    if char.isascii():
        return char.lower()
    out = []
    for c in unicodedata.normalize("NFKC", char):
        category = unicodedata.category(c)
        if category == "Cf" or category.startswith("M"):
            continue  # soft hyphen, zero-width characters, accents written as combining marks
        if c.isascii():
            out.append(c.lower())
            continue
        if c.isspace():
            out.append(" ")
            continue
        latin = _latin_lookalike(c) if c.isalpha() and not _is_latin(c) else None
        out.append((latin or anyascii(c)).lower())
    return "".join(out)


def _is_latin(char: str) -> bool:
    return unicodedata.name(char, "").startswith("LATIN ")


def fold(text: str) -> Folded:
    """``text`` folded character by character (see :func:`fold_char`), with the origin map.

    >>> fold("Gal\\u00adlagh\\u0435r Ferreíra").text
    'gallagher ferreira'
    """
    if text.isascii():  # most text: lower case is all there is to fold, position for position
        return Folded(text.lower(), range(len(text)))
    chars: list[str] = []
    origin: list[int] = []
    # ASCII runs fold in one piece: a long text with a few dashes or accents is mostly ASCII.
    for run in _ASCII_RUN_OR_CHAR.finditer(text):
        start, end = run.span()
        piece = run.group(0)
        folded = piece.lower() if piece.isascii() else fold_char(piece)
        chars.append(folded)
        origin.extend(range(start, end) if piece.isascii() else [start] * len(folded))
    return Folded("".join(chars), origin)
