"""Redlines: what was deleted and inserted between two versions of one unit's text.

Prose is compared sentence by sentence first (:func:`sentence_segments`): kept sentences stay
whole, a deleted or inserted sentence is one segment, and only sentences that were edited are
compared word by word, so a rewritten paragraph reads as edits of its sentences. Code is compared
line by line (:func:`line_segments`): a changed line break is a change.
"""

from __future__ import annotations

import difflib
import html
import re
from collections.abc import Iterable, Sequence
from typing import Literal

__all__ = [
    "Op",
    "Segment",
    "line_segments",
    "redline_text",
    "segments_html",
    "sentence_segments",
    "split_sentences",
    "word_segments",
]

Op = Literal["=", "-", "+"]
Segment = tuple[Op, str]
"""One piece of a redline: ``=`` kept, ``-`` deleted, ``+`` inserted, and its text."""

_SENTENCE_END_RE = re.compile(r"(?<=[.!?:;])\s+(?=\S)")
_WORD_RE = re.compile(r"\w+")
_MAX_SENTENCE_PAIRS = 400  # beyond this, edited sentences are compared as one run of words


def word_segments(old: str, new: str) -> list[Segment]:
    """Word-level redline as (op, text) with op one of ``=``, ``-``, ``+``; runs are grouped.

    >>> word_segments("page Notifications Engineering now", "page Messaging Platform now")
    [('=', 'page'), ('-', 'Notifications Engineering'), ('+', 'Messaging Platform'), ('=', 'now')]
    """
    return _segments(old.split(), new.split(), " ")


def split_sentences(text: str) -> list[str]:
    """``text`` cut after each ``.``, ``!``, ``?``, ``:`` or ``;`` that a space follows."""
    return [s for s in _SENTENCE_END_RE.split(text) if s]


def sentence_segments(old: str, new: str) -> list[Segment]:
    """Redline of prose: sentences aligned first, edited sentences compared word by word.

    >>> sentence_segments("Page ops. Wait ten minutes. Call.", "Page ops. Call the lead.")
    [('=', 'Page ops.'), ('-', 'Wait ten minutes. Call.'), ('+', 'Call the lead.')]
    """
    a, b = split_sentences(old), split_sentences(new)
    if len(a) < 2 and len(b) < 2:
        return word_segments(old, new)
    out: list[Segment] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            out.append(("=", " ".join(a[i1:i2])))
        elif op == "replace":
            out.extend(_aligned(a[i1:i2], b[j1:j2]))
        else:
            if i2 > i1:
                out.append(("-", " ".join(a[i1:i2])))
            if j2 > j1:
                out.append(("+", " ".join(b[j1:j2])))
    return _grouped(out, " ")


def line_segments(old: str, new: str) -> list[Segment]:
    """Line-level redline of code: one segment per line, so line breaks are part of the content.

    >>> line_segments("kubectl get pods -n ops", "kubectl get pods \\\\\\n  -n ops")
    [('-', 'kubectl get pods -n ops'), ('+', 'kubectl get pods \\\\'), ('+', '  -n ops')]
    """
    a, b = old.split("\n"), new.split("\n")
    out: list[Segment] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            out.extend(("=", line) for line in a[i1:i2])
            continue
        out.extend(("-", line) for line in a[i1:i2])
        out.extend(("+", line) for line in b[j1:j2])
    return out


def redline_text(segments: Iterable[Segment], *, lines: bool = False) -> str:
    """``[-deleted-]`` and ``{+inserted+}`` markers, as wdiff writes them; with ``lines`` (code)
    one segment per line."""
    marks = {"=": "{}", "-": "[-{}-]", "+": "{{+{}+}}"}
    return ("\n" if lines else " ").join(marks[op].format(text) for op, text in segments)


def segments_html(segments: Iterable[tuple[str, str]], *, lines: bool = False) -> str:
    """Redline segments as escaped HTML with ``<del>`` and ``<ins>``; with ``lines`` (code) one
    segment per line."""
    tags = {"=": "{}", "-": "<del>{}</del>", "+": "<ins>{}</ins>"}
    return ("\n" if lines else " ").join(tags[op].format(html.escape(t)) for op, t in segments)


def _segments(a: Sequence[str], b: Sequence[str], sep: str) -> list[Segment]:
    out: list[Segment] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            out.append(("=", sep.join(a[i1:i2])))
            continue
        if i2 > i1:
            out.append(("-", sep.join(a[i1:i2])))
        if j2 > j1:
            out.append(("+", sep.join(b[j1:j2])))
    return out


def _aligned(a: Sequence[str], b: Sequence[str]) -> list[Segment]:
    """Edited sentences paired in order where they share half their words (the pairing with the
    most shared words), each pair compared word by word; the rest deleted or inserted whole. One
    sentence against several (sentences joined or split) is compared word by word as a whole."""
    if len(a) * len(b) > _MAX_SENTENCE_PAIRS or (
        # sentences joined into one, or one split: compared as one run of words
        1 in (len(a), len(b)) and _shared(" ".join(a), " ".join(b)) >= 0.5
    ):
        return word_segments(" ".join(a), " ".join(b))
    sim = [[_shared(x, y) for y in b] for x in a]
    n, m = len(a), len(b)
    best = [[0.0] * (m + 1) for _ in range(n + 1)]
    for i in range(n - 1, -1, -1):
        for j in range(m - 1, -1, -1):
            take = sim[i][j] + best[i + 1][j + 1] if sim[i][j] >= 0.5 else 0.0
            best[i][j] = max(take, best[i + 1][j], best[i][j + 1])
    out: list[Segment] = []
    i = j = 0
    while i < n and j < m:
        if sim[i][j] >= 0.5 and best[i][j] == sim[i][j] + best[i + 1][j + 1]:
            out.extend(word_segments(a[i], b[j]))
            i, j = i + 1, j + 1
        elif best[i][j] == best[i + 1][j]:
            out.append(("-", a[i]))
            i += 1
        else:
            out.append(("+", b[j]))
            j += 1
    out.extend(("-", x) for x in a[i:])
    out.extend(("+", y) for y in b[j:])
    return out


def _shared(a: str, b: str) -> float:
    """Share of words two sentences have in common, in order (case and punctuation ignored)."""
    words_a, words_b = _WORD_RE.findall(a.lower()), _WORD_RE.findall(b.lower())
    return difflib.SequenceMatcher(None, words_a, words_b, autojunk=False).ratio()


def _grouped(segments: list[Segment], sep: str) -> list[Segment]:
    """Adjacent segments of one op joined, deletions before insertions within a changed run."""
    out: list[Segment] = []
    for op, text in segments:
        if out and out[-1][0] == op:
            out[-1] = (op, f"{out[-1][1]}{sep}{text}")
        elif out and op == "-" and out[-1][0] == "+" and len(out) > 1 and out[-2][0] == "-":
            out[-2] = ("-", f"{out[-2][1]}{sep}{text}")
        else:
            out.append((op, text))
    return out
