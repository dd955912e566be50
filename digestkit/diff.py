"""Semantic diff of two runbook revisions: aligned units, change kinds, redlines and fact changes.

Alignment runs in passes, each only on what the previous ones left unmatched, so a mostly
unchanged document costs close to linear time:

1. exact: equal normalized content (same kind) in the same section path, then anywhere;
2. section anchors: an unmatched heading whose direct content mostly landed under one unmatched
   new heading is that heading renamed;
3. keys: unmatched table rows with the same key (first cell) in the matching section, and
   front matter entries with the same key;
4. fuzzy: per matching section, leftovers of the same kind are scored with
   ``rapidfuzz.process.cdist`` (``fuzz.ratio``, 0-100) and paired greedily best score first, a
   unit at most once, if the score reaches ``score_cutoff`` (:data:`SCORE_CUTOFF`); what is still
   left is then scored across sections with the stricter :data:`MOVE_SCORE_CUTOFF`.

A matched pair is *moved* if its section changed or it falls outside the longest run of pairs
that kept their order (per section for content, document-wide for headings); otherwise it is
*renumbered* (only the ordered-list number changed, both rendered and literal), *modified*
(normalized content differs) or unchanged. Pairs whose raw text differs but whose normalized
content, number and position do not are *formatting-only*: listed apart, not reported as changes.
"""

from __future__ import annotations

import difflib
import html
import re
from array import array
from collections import Counter, defaultdict, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from itertools import pairwise
from operator import itemgetter
from pathlib import Path
from typing import TYPE_CHECKING

from rapidfuzz import fuzz, process

from digestkit.runbook import Fact, Runbook, Unit, parse_runbook, read_runbook

if TYPE_CHECKING:
    import pandas as pd

SCHEMA_VERSION = 1
_FRAME_COLUMNS = [
    "kind",
    "section",
    "unit",
    "old lines",
    "new lines",
    "old text",
    "new text",
    "facts",
]
SCORE_CUTOFF: float = 60.0
"""Minimum ``fuzz.ratio`` (0-100) for two leftovers of one section to be one unit edited."""
MOVE_SCORE_CUTOFF: float = 85.0
"""Minimum ``fuzz.ratio`` for leftovers in different sections: a move is nearly the same text."""
MAX_FUZZY_PAIRS = 4_000_000
"""Cross-section fuzzy matching is skipped when it would score more pairs than this (a rewrite)."""
CHANGE_KINDS = ("added", "removed", "modified", "moved", "renumbered")
_LOOP_PAIRS = 64  # below this many pairs, scoring pair by pair beats setting up cdist

_FIELDS = {
    ("pager", "primary"): "primary on-call",
    ("pager", "secondary"): "secondary on-call",
    ("pager", None): "pager",
    ("team", "owner"): "owning team",
    ("team", None): "team",
    ("duration", "escalate_after"): "escalate after",
    ("duration", None): "duration",
    ("checkpoint", "t_plus"): "checkpoint",
    ("checkpoint", "within"): "within",
    ("checkpoint", "every"): "update interval",
    ("open_question", "secondary"): "secondary on-call",
    ("open_question", "primary"): "primary on-call",
}


@dataclass(frozen=True)
class Span:
    """One side of a change: the unit's raw text and its 1-based inclusive line range."""

    text: str
    lines: tuple[int, int]


@dataclass(frozen=True)
class FactChange:
    """A change of one typed fact, stated in words ("escalate after: 30 min → 15 min")."""

    field: str
    subject: str | None
    old: str | None
    new: str | None
    statement: str


@dataclass(frozen=True)
class Change:
    """One reported change of one unit; ``section`` is the heading path on the new side."""

    kind: str
    section: tuple[str, ...]
    old: Span | None
    new: Span | None
    facts: tuple[FactChange, ...]
    redline: str
    unit: str
    locator: str
    segments: tuple[tuple[str, str], ...] = ()
    old_section: tuple[str, ...] = ()  # heading path on the old side (differs for moves)


@dataclass(frozen=True)
class Diff:
    """The changes between two revisions, the formatting-only pairs, and counts."""

    changes: tuple[Change, ...]
    stats: dict
    formatting: tuple[Change, ...] = ()
    old_label: str = ""  # what was compared, for report headings: runbook@revision or file
    new_label: str = ""

    def to_frame(self, *, metadata: bool = False) -> pd.DataFrame:
        """One row per change (kind, section, unit, lines and text of both sides) for notebooks.

        Front-matter (revision metadata) changes are left out unless ``metadata``, as in the
        digest, whose changed steps never list them.
        """
        import pandas as pd  # only notebooks need it; keep `digestkit diff` light

        rows = [
            {
                "kind": c.kind,
                "section": " > ".join(c.section),
                "unit": c.unit,
                "old lines": c.old.lines if c.old else None,
                "new lines": c.new.lines if c.new else None,
                "old text": c.old.text if c.old else None,
                "new text": c.new.text if c.new else None,
                "facts": "; ".join(f.statement for f in c.facts),
            }
            for c in self.changes
            if metadata or c.unit != "front_matter"
        ]
        return pd.DataFrame(rows, columns=_FRAME_COLUMNS)

    def to_dict(self) -> dict:
        """The documented JSON contract (docs/diff-json.md), schema_version 1."""
        return {
            "schema_version": SCHEMA_VERSION,
            "changes": [change_to_dict(c) for c in self.changes],
            "formatting_only": [
                {
                    "section": list(c.section),
                    "unit": c.unit,
                    "locator": c.locator,
                    "old_lines": list(c.old.lines),
                    "new_lines": list(c.new.lines),
                }
                for c in self.formatting
            ],
            "stats": dict(self.stats),
        }


def diff_texts(old: str | bytes, new: str | bytes, **kw) -> Diff:
    """Diff two revisions given as Markdown text; ``kw`` goes to parse_runbook and diff_runbooks."""
    parse_kw = {k: kw.pop(k) for k in ("products", "teams", "pagers") if k in kw}
    return diff_runbooks(parse_runbook(old, **parse_kw), parse_runbook(new, **parse_kw), **kw)


def diff_files(old: str | Path, new: str | Path, **kw) -> Diff:
    """Diff two revision files; ``kw`` goes to read_runbook (registries) and diff_runbooks."""
    parse_kw = {k: kw.pop(k) for k in ("products", "teams", "pagers") if k in kw}
    return diff_runbooks(read_runbook(old, **parse_kw), read_runbook(new, **parse_kw), **kw)


def diff_revisions(
    runbook_id: str,
    old: str,
    new: str,
    *,
    data: str | Path | None = None,
    score_cutoff: float = SCORE_CUTOFF,
) -> Diff:
    """Diff two revision ids of a runbook in the repository, matching facts against the registry."""
    from digestkit import sources

    src = sources.open_sources(data)
    products = sources.load_products(src)["product_name"].tolist()
    teams = sources.load_teams(src)
    names = [*teams["team"].tolist(), *teams["display_name"].tolist()]
    pagers = teams["pager"].tolist()
    revs = [sources.get_revision(src, runbook_id, rev) for rev in (old, new)]
    old_rb, new_rb = (
        parse_runbook(r["text"], path=str(r["path"]), products=products, teams=names, pagers=pagers)
        for r in revs
    )
    return diff_runbooks(old_rb, new_rb, score_cutoff=score_cutoff)


def diff_runbooks(old: Runbook, new: Runbook, *, score_cutoff: float = SCORE_CUTOFF) -> Diff:
    """Align two parsed revisions and classify every unit that changed.

    >>> d = diff_texts("1. Page ops.\\n2. Call.\\n", "1. Triage.\\n2. Page ops.\\n3. Call.\\n")
    >>> [c.kind for c in d.changes]
    ['added', 'renumbered', 'renumbered']
    """
    a = _Aligner(old.units, new.units, score_cutoff)
    a.run()
    return replace(a.classify(old, new), old_label=_label(old), new_label=_label(new))


def _label(rb: Runbook) -> str:
    fm = rb.front_matter
    if fm.get("runbook_id") and fm.get("revision"):
        name = f"{fm['runbook_id']}@{fm['revision']}"
        return f"{name} ({rb.path})" if rb.path else name
    return rb.path or ""


# ----------------------------------------------------------------------------- alignment


def _containers(units: tuple[Unit, ...]) -> list[int | None]:
    """Index of each unit's innermost heading (for a heading: its parent heading)."""
    latest: dict[tuple[str, ...], int] = {}
    out: list[int | None] = []
    # Units of one section share one path tuple, so one dict lookup per run of units suffices.
    run_path: tuple[str, ...] | None = None
    run_head: int | None = None
    for k, u in enumerate(units):
        if u.kind == "heading":
            out.append(latest.get(u.section[:-1]))
            latest[u.section] = k
            run_path = None
        else:
            if u.section is not run_path:
                run_path, run_head = u.section, latest.get(u.section)
            out.append(run_head)
    return out


def _out_of_order(
    pairs: list[tuple[int, int]], weigh: Callable[[tuple[int, int]], int]
) -> list[tuple[int, int]]:
    """Pairs (old, new) off the heaviest run that keeps order in both revisions.

    A heaviest increasing subsequence (Fenwick tree, n log n) weighted by ``weigh`` (line count),
    so when two blocks swap, the shorter one is the one reported as moved, as a line diff would
    see it. Weights are only asked for when something changed order.
    """
    if all(a[0] < b[0] and a[1] < b[1] for a, b in pairwise(pairs)):
        return []  # the usual case: nothing in this group changed order
    pairs = sorted(pairs, key=itemgetter(1))
    rank = {o: r + 1 for r, o in enumerate(sorted(o for o, _ in pairs))}
    size = len(pairs)
    tree_best = [0] * (size + 1)
    tree_at = [-1] * (size + 1)
    total = [0] * size
    back = [-1] * size
    for k, pair in enumerate(pairs):
        start = rank[pair[0]]
        r = start - 1
        best, at = 0, -1
        while r > 0:  # best chain ending at an old index below this one
            if tree_best[r] > best:
                best, at = tree_best[r], tree_at[r]
            r -= r & -r
        best += weigh(pair)
        total[k] = best
        back[k] = at
        r = start
        while r <= size:
            if best > tree_best[r]:
                tree_best[r], tree_at[r] = best, k
            r += r & -r
    keep: set[tuple[int, int]] = set()
    k = max(range(size), key=total.__getitem__)
    while k != -1:
        keep.add(pairs[k])
        k = back[k]
    return [p for p in pairs if p not in keep]


class _Aligner:
    def __init__(self, old: tuple[Unit, ...], new: tuple[Unit, ...], cutoff: float) -> None:
        self.old, self.new, self.cutoff = old, new, cutoff
        self.ocont, self.ncont = _containers(old), _containers(new)
        self.o2n: dict[int, int] = {}
        self.n2o: dict[int, int] = {}
        # Old heading index -> new heading index, kept up to date by pair(); None is the top.
        self.hmap: dict[int | None, int | None] = {None: None}
        self.counts = {"exact": 0, "anchor": 0, "key": 0, "fuzzy": 0, "fuzzy_candidates": 0}
        # Unmatched indices shrink pass by pass; each pass only rescans what is still left.
        self._left = {"old": list(range(len(old))), "new": list(range(len(new)))}

    def pair(self, i: int, j: int, how: str) -> None:
        self.o2n[i] = j
        self.n2o[j] = i
        self.counts[how] += 1
        if self.old[i].kind == "heading":
            self.hmap[i] = j

    def left(self, side: str) -> list[int]:
        matched = self.o2n if side == "old" else self.n2o
        rest = [k for k in self._left[side] if k not in matched] if matched else self._left[side]
        self._left[side] = rest
        return rest

    def run(self) -> None:
        self._exact(with_section=True)
        self._exact(with_section=False)
        self._anchor_headings()
        self._fuzzy_by_section(headings=True)
        self._table_keys()
        self._fuzzy_by_section(headings=False)
        self._fuzzy_across()

    def _exact(self, *, with_section: bool) -> None:
        """Pair equal (kind, [section,] norm) keys, each old unit with the first waiting new one."""
        new, old = self.new, self.old
        news = self.left("new")
        if with_section:
            keys = [(new[j].kind, new[j].section, new[j].norm) for j in news]
        else:
            keys = [(new[j].kind, new[j].norm) for j in news]
        # Most keys occur once: store a bare index, and a queue only for repeated keys.
        waiting: dict[tuple, int | deque[int]] = {}
        for j, key in zip(news, keys, strict=True):
            queue = waiting.get(key)
            if queue is None:
                waiting[key] = j
            elif isinstance(queue, int):
                waiting[key] = deque((queue, j))
            else:
                queue.append(j)
        o2n, n2o, hmap = self.o2n, self.n2o, self.hmap
        before = len(o2n)
        for i in self.left("old"):
            u = old[i]
            key = (u.kind, u.section, u.norm) if with_section else (u.kind, u.norm)
            j = waiting.get(key)
            if j is None:
                continue
            if isinstance(j, int):
                del waiting[key]
            elif j:
                j = j.popleft()
            else:
                continue
            o2n[i] = j  # pair(i, j, "exact"), inlined: this pass pairs nearly every unit
            n2o[j] = i
            if u.kind == "heading":
                hmap[i] = j
        self.counts["exact"] += len(o2n) - before

    def _anchor_headings(self) -> None:
        votes: dict[int, dict[int | None, int]] = defaultdict(lambda: defaultdict(int))
        sizes: dict[int, int] = defaultdict(int)
        for i in range(len(self.old)):
            h = self.ocont[i]
            if h is None or h in self.o2n:
                continue
            sizes[h] += 1
            if i in self.o2n:
                votes[h][self.ncont[self.o2n[i]]] += 1
        for h, tally in votes.items():
            target, count = max(tally.items(), key=lambda kv: kv[1])
            if (
                target is not None
                and target not in self.n2o
                and 2 * count > sizes[h]
                and self.new[target].kind == "heading"
            ):
                self.pair(h, target, "anchor")

    def _table_keys(self) -> None:
        hmap = self.hmap
        waiting: dict[tuple, deque[int]] = defaultdict(deque)
        for j in self.left("new"):
            u = self.new[j]
            if u.kind in ("table_row", "front_matter"):
                waiting[(u.kind, self.ncont[j], u.key is None, u.key)].append(j)
        for i in self.left("old"):
            u = self.old[i]
            if u.kind not in ("table_row", "front_matter") or self.ocont[i] not in hmap:
                continue
            queue = waiting.get((u.kind, hmap[self.ocont[i]], u.key is None, u.key))
            if queue:
                self.pair(i, queue.popleft(), "key")

    def _fuzzy_by_section(self, *, headings: bool) -> None:
        hmap = self.hmap
        groups: dict[tuple, tuple[list[int], list[int]]] = defaultdict(lambda: ([], []))
        for i in self.left("old"):
            u = self.old[i]
            if (u.kind == "heading") == headings and self.ocont[i] in hmap:
                groups[(hmap[self.ocont[i]], u.kind)][0].append(i)
        for j in self.left("new"):
            u = self.new[j]
            if (u.kind == "heading") == headings and (self.ncont[j], u.kind) in groups:
                groups[(self.ncont[j], u.kind)][1].append(j)
        for olds, news in groups.values():
            self._assign(olds, news, self.cutoff)

    def _fuzzy_across(self) -> None:
        by_kind: dict[str, tuple[list[int], list[int]]] = defaultdict(lambda: ([], []))
        for i in self.left("old"):
            by_kind[self.old[i].kind][0].append(i)
        for j in self.left("new"):
            by_kind[self.new[j].kind][1].append(j)
        for olds, news in by_kind.values():
            if len(olds) * len(news) <= MAX_FUZZY_PAIRS:
                self._assign(olds, news, max(self.cutoff, MOVE_SCORE_CUTOFF))

    def _assign(self, olds: list[int], news: list[int], cutoff: float) -> None:
        if not olds or not news:
            return
        self.counts["fuzzy_candidates"] += len(olds) * len(news)
        scored = _scores([self.old[i].norm for i in olds], [self.new[j].norm for j in news], cutoff)
        # Best score first; among equals, the pair closest in relative position.
        n_old, n_new = len(olds), len(news)
        scored.sort(key=lambda src: (-src[0], abs(src[1] / n_old - src[2] / n_new)))
        used_o: set[int] = set()
        used_n: set[int] = set()
        for _, r, c in scored:
            if r in used_o or c in used_n:
                continue
            if _distinct_ids(self.old[olds[r]], self.new[news[c]]):
                continue
            used_o.add(r)
            used_n.add(c)
            self.pair(olds[r], news[c], "fuzzy")

    # ------------------------------------------------------------------------- classification

    def moved(self) -> set[int]:
        """Old indices of matched units that changed position or section.

        Headings are ordered document-wide, weighted by the lines up to the next heading; content
        is ordered within its section. Content of a section whose heading moved moved with it.
        """
        hmap, old, new, ocont, ncont = self.hmap, self.old, self.new, self.ocont, self.ncont
        moved: set[int] = set()
        heading_pairs = []
        by_section: dict[int | None, list[tuple[int, int]]] = defaultdict(list)
        for i, j in self.o2n.items():
            o, n = old[i], new[j]
            if hmap.get(ocont[i], -1) != ncont[j] or o.depth != n.depth:
                moved.add(i)
                if o.kind == "heading":
                    heading_pairs.append((i, j))
            elif o.kind == "heading":
                heading_pairs.append((i, j))
            else:
                by_section[ncont[j]].append((i, j))

        def section_lines(pair: tuple[int, int]) -> int:
            if not ends:
                starts = [u.lines[0] for u in new if u.kind == "heading"]
                stop = new[-1].lines[1] + 1 if new else 0
                ends.update(zip(starts, [*starts[1:], stop], strict=False))
            first = new[pair[1]].lines[0]
            return ends[first] - first

        def unit_lines(pair: tuple[int, int]) -> int:
            lines = new[pair[1]].lines
            return lines[1] - lines[0] + 1

        ends: dict[int, int] = {}
        moved.update(i for i, _ in _out_of_order(heading_pairs, section_lines))
        for pairs in by_section.values():
            moved.update(i for i, _ in _out_of_order(pairs, unit_lines))
        if any(old[i].kind == "heading" for i in moved):
            for i in sorted(self.o2n):
                parent = ocont[i]
                if parent is not None and parent in moved:
                    moved.add(i)
        return moved

    def classify(self, old_rb: Runbook, new_rb: Runbook) -> Diff:
        moved = self.moved()
        values: dict[str, set[tuple[str, str]]] = {}

        def fact_changes(o: tuple[Fact, ...], n: tuple[Fact, ...]) -> list[FactChange]:
            if not values:  # revision-wide fact values, needed only once a unit changed
                values["old"] = {(f.kind, f.value) for f in old_rb.facts()}
                values["new"] = {(f.kind, f.value) for f in new_rb.facts()}
            return _fact_changes(o, n, values["old"], values["new"])

        changes: list[tuple[float, Change]] = []
        formatting: list[Change] = []
        for i, j in self.o2n.items():
            o, n = self.old[i], self.new[j]
            same = o.norm == n.norm
            if i in moved:
                kind = "moved"
            elif not same:
                kind = "modified"
            elif (
                o.marker != n.marker
                and _literal(o) != _literal(n)
                and (o.number != n.number or _literal(n) == str(n.number))
            ):
                # A changed number counts when the item's position changed, or when a slip in
                # the source numbering was corrected; 1. 2. -> 1. 1. (lazy numbering) does not.
                kind = "renumbered"
            elif o.text != n.text:
                formatting.append(_change("formatting", o, n, (), ()))
                continue
            else:
                continue
            facts = () if same else fact_changes(o.facts, n.facts)
            segments = () if same else word_segments(o.norm, n.norm)
            changes.append((n.lines[0], _change(kind, o, n, facts, segments)))
        for j in self.left("new"):
            n = self.new[j]
            changes.append((n.lines[0], _change("added", None, n, fact_changes((), n.facts), ())))
        # A removed unit sits after the new position of the nearest matched unit before it.
        anchor, prev = 0.0, -1
        for i in self.left("old"):
            k = i - 1
            while k > prev and k not in self.o2n:
                k -= 1
            if k > prev:
                anchor = self.new[self.o2n[k]].lines[0]
            prev = i
            o = self.old[i]
            changes.append(
                (anchor + 0.5, _change("removed", o, None, fact_changes(o.facts, ()), ()))
            )
        changes.sort(key=itemgetter(0))
        ordered = tuple(c for _, c in changes)
        counts = Counter(c.kind for c in ordered)
        stats = {
            **{k: counts[k] for k in CHANGE_KINDS},
            "formatting_only": len(formatting),
            "units_old": len(self.old),
            "units_new": len(self.new),
            "exact_matches": self.counts["exact"],
            "anchor_matches": self.counts["anchor"],
            "key_matches": self.counts["key"],
            "fuzzy_matches": self.counts["fuzzy"],
            "fuzzy_candidates": self.counts["fuzzy_candidates"],
            "score_cutoff": self.cutoff,
            "move_score_cutoff": max(self.cutoff, MOVE_SCORE_CUTOFF),
            "front_matter_changed": sorted(
                k
                for k in set(old_rb.front_matter) | set(new_rb.front_matter)
                if old_rb.front_matter.get(k) != new_rb.front_matter.get(k)
            ),
        }
        return Diff(ordered, stats, tuple(formatting))


def _scores(olds: list[str], news: list[str], cutoff: float) -> list[tuple[float, int, int]]:
    """(score, row, column) of every pair scoring at least ``cutoff``, row by row.

    Scores are ``fuzz.ratio`` rounded to float32 as ``cdist`` returns them, so small groups,
    scored one pair at a time (cheaper than setting up a matrix), rank exactly as large ones.
    """
    if len(olds) * len(news) <= _LOOP_PAIRS:
        ratios = array("f", [fuzz.ratio(a, b, score_cutoff=cutoff) for a in olds for b in news])
        limit = array("f", [cutoff])[0]
        width = len(news)
        return [(s, k // width, k % width) for k, s in enumerate(ratios.tolist()) if s >= limit]
    scores = process.cdist(olds, news, scorer=fuzz.ratio, score_cutoff=cutoff, dtype="float32")
    rows, cols = (scores >= cutoff).nonzero()
    return list(zip(scores[rows, cols].tolist(), rows.tolist(), cols.tolist(), strict=True))


def _distinct_ids(a: Unit, b: Unit) -> bool:
    """True when both units name exception ids and share none: they are different entries."""
    ids_a = {f.value for f in a.facts if f.kind == "exception"}
    ids_b = {f.value for f in b.facts if f.kind == "exception"}
    return bool(ids_a and ids_b and not ids_a & ids_b)


def _literal(u: Unit) -> str:
    return u.marker.rstrip(".)")


def _change(kind, o: Unit | None, n: Unit | None, facts, segments) -> Change:
    # Filled through __dict__: a frozen dataclass's __init__ sets each field with
    # object.__setattr__, three times the cost, and a renumbering makes thousands of changes.
    change = object.__new__(Change)
    side = n if n is not None else o
    change.__dict__.update(
        kind=kind,
        section=side.section,
        old=_span(o),
        new=_span(n),
        facts=tuple(facts),
        redline=_redline_text(segments) if segments else "",
        unit=side.kind,
        locator=side.locator,
        segments=tuple(segments),
        old_section=o.section if o is not None else (),
    )
    return change


def _span(u: Unit | None) -> Span | None:
    if u is None:
        return None
    span = object.__new__(Span)
    span.__dict__.update(text=u.text, lines=u.lines)
    return span


# ----------------------------------------------------------------------------- redlines and facts


def word_segments(old: str, new: str) -> list[tuple[str, str]]:
    """Word-level redline as (op, text) with op one of ``=``, ``-``, ``+``; runs are grouped.

    >>> word_segments("page Notifications Engineering now", "page Messaging Platform now")
    [('=', 'page'), ('-', 'Notifications Engineering'), ('+', 'Messaging Platform'), ('=', 'now')]
    """
    a, b = old.split(), new.split()
    out: list[tuple[str, str]] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            out.append(("=", " ".join(a[i1:i2])))
            continue
        if i2 > i1:
            out.append(("-", " ".join(a[i1:i2])))
        if j2 > j1:
            out.append(("+", " ".join(b[j1:j2])))
    return out


def _redline_text(segments) -> str:
    """``[-deleted-]`` and ``{+inserted+}`` markers, as wdiff writes them."""
    marks = {"=": "{}", "-": "[-{}-]", "+": "{{+{}+}}"}
    return " ".join(marks[op].format(text) for op, text in segments)


def _field(f: Fact) -> str:
    return _FIELDS.get((f.kind, f.role), f.kind.replace("_", " "))


def _show(f: Fact, value: str) -> str:
    if f.kind == "checkpoint" and f.role == "t_plus":
        return f"T+{value}"
    if f.kind in ("checkpoint", "duration"):
        return f"{value} min"
    return value


def _fact_changes(
    old: tuple[Fact, ...], new: tuple[Fact, ...], old_values, new_values
) -> list[FactChange]:
    """State what happened to each typed fact between the two sides of one unit."""

    def group(facts):
        out: dict[tuple, list[Fact]] = defaultdict(list)
        for f in facts:
            # A pager slot that became "TBD" is the same slot: compare on field, not on fact kind.
            out[(_field(f), f.subject)].append(f)
        return out

    before, after = group(old), group(new)
    changes: list[FactChange] = []
    for key in list(dict.fromkeys([*before, *after])):
        field, subject = key
        olds, news = before.get(key, []), after.get(key, [])
        ov = [f.value for f in olds]
        nv = [f.value for f in news]
        gone = [f for f in olds if f.value not in nv]
        came = [f for f in news if f.value not in ov]
        about = f" for {subject}" if subject else ""
        if len(gone) == 1 and len(came) == 1:
            g, c = gone[0], came[0]
            changes.append(
                FactChange(
                    field,
                    subject,
                    g.value,
                    c.value,
                    f"{field}{about}: {_show(g, g.value)} → {_show(c, c.value)}",
                )
            )
            continue
        for g in gone:
            where = (
                "no longer referenced" if (g.kind, g.value) not in new_values else "removed here"
            )
            changes.append(
                FactChange(
                    field, subject, g.value, None, f"{field} {_show(g, g.value)}{about} {where}"
                )
            )
        for c in came:
            where = "newly referenced" if (c.kind, c.value) not in old_values else "added here"
            changes.append(
                FactChange(
                    field, subject, None, c.value, f"{field} {_show(c, c.value)}{about} {where}"
                )
            )
    return changes


# ----------------------------------------------------------------------------- output


def change_to_dict(c: Change) -> dict:
    """One change as it appears in the JSON contract."""

    def span(s: Span | None):
        return None if s is None else {"text": s.text, "lines": list(s.lines)}

    return {
        "kind": c.kind,
        "section": list(c.section),
        "old_section": list(c.old_section),
        "old": span(c.old),
        "new": span(c.new),
        "facts": [
            {
                "field": f.field,
                "subject": f.subject,
                "old": f.old,
                "new": f.new,
                "statement": f.statement,
            }
            for f in c.facts
        ],
        "redline": c.redline,
        "unit": c.unit,
        "locator": c.locator,
    }


def _where(c: Change) -> str:
    parts = []
    if c.old is not None:
        parts.append(f"old lines {c.old.lines[0]}–{c.old.lines[1]}")
    if c.new is not None:
        parts.append(f"new lines {c.new.lines[0]}–{c.new.lines[1]}")
    return ", ".join(parts)


def _compared(diff: Diff) -> str:
    if not (diff.old_label or diff.new_label):
        return ""
    return f"{diff.old_label or '(old)'} → {diff.new_label or '(new)'}"


def _split(diff: Diff) -> tuple[list[Change], list[Change]]:
    """(front-matter changes, content changes): revision metadata is shown apart, field by field."""
    meta = [c for c in diff.changes if c.unit == "front_matter"]
    return meta, [c for c in diff.changes if c.unit != "front_matter"]


def _summary(diff: Diff) -> str:
    meta, content = _split(diff)
    kinds = Counter(c.kind for c in content)
    counts = ", ".join(f"{kinds[k]} {k}" for k in CHANGE_KINDS)
    summary = f"{counts}; {diff.stats['formatting_only']} formatting-only (not listed)"
    if meta:
        summary += f"; {len(meta)} revision metadata field(s) changed"
    return summary


def _metadata_field(c: Change) -> tuple[str, str | None, str | None]:
    """(key, old value, new value) of a front-matter change, whitespace collapsed."""

    def entry(span: Span) -> str:
        # The first and last entries carry the '---' delimiters in their line range.
        return "\n".join(x for x in span.text.splitlines() if x.strip() not in ("---", "..."))

    def value(span: Span | None) -> str | None:
        if span is None:
            return None
        words = entry(span).partition(":")[2].split()
        if words and words[0] in (">", "|", ">-", "|-", ">+", "|+"):  # a YAML block scalar
            words = words[1:]
        return " ".join(words)

    key = entry(c.new or c.old).partition(":")[0].strip()
    return key, value(c.old), value(c.new)


def _field_line(c: Change) -> str:
    key, old, new = _metadata_field(c)
    if old is None:
        return f"{key}: {new} (added)"
    if new is None:
        return f"{key}: {old} (removed)"
    return f"{key}: {old} → {new}"


_MD_INLINE = re.compile(r"([\\`*_\[\]<>~|])")
_MD_MARKER = re.compile(r"^([#>+=-])")
_MD_NUMBERED = re.compile(r"^(\d+)([.)])")


def md_escape(text: str) -> str:
    """``text`` as literal Markdown: runbook text quoted in a report never becomes a heading,
    list, emphasis, strike-through, link or raw HTML there."""
    text = _MD_INLINE.sub(r"\\\1", text)
    return _MD_NUMBERED.sub(r"\1\\\2", _MD_MARKER.sub(r"\\\1", text))


def to_markdown(diff: Diff) -> str:
    """The diff as a Markdown report: revision metadata field by field, then one bullet per
    content change with its redline and fact changes."""
    meta, content = _split(diff)
    out = ["# Runbook changes", ""]
    if _compared(diff):
        out += [_compared(diff), ""]
    out += [_summary(diff), ""]
    if meta:
        out += ["## Revision metadata", "", *(f"- {md_escape(_field_line(c))}" for c in meta), ""]
        out += ["## Content changes", ""]
    for c in content:
        section = md_escape(" › ".join(c.section) or "(top of document)")
        out.append(f"- **{c.kind}** {c.unit} in *{section}* ({_where(c)})")
        if c.segments:
            marks = {"=": "{}", "-": "~~{}~~", "+": "**{}**"}
            out.append("  " + " ".join(marks[op].format(md_escape(t)) for op, t in c.segments))
        else:
            side = c.new or c.old
            out.append("  > " + md_escape(" ".join(side.text.split())))
        out.extend(f"  - {md_escape(f.statement)}" for f in c.facts)
    return "\n".join(out) + "\n"


def segments_html(segments: Iterable[tuple[str, str]]) -> str:
    """Redline segments as escaped HTML with ``<del>`` and ``<ins>``."""
    tags = {"=": "{}", "-": "<del>{}</del>", "+": "<ins>{}</ins>"}
    return " ".join(tags[op].format(html.escape(t)) for op, t in segments)


def to_html(diff: Diff) -> str:
    """The diff as a standalone HTML page; all runbook text is escaped."""
    e = html.escape
    meta, content = _split(diff)
    rows = []
    for c in content:
        if c.segments:
            body = segments_html(c.segments)
        else:
            side = c.new or c.old
            body = e(" ".join(side.text.split()))
        facts = "".join(f"<li>{e(f.statement)}</li>" for f in c.facts)
        rows.append(
            f'<li class="change {e(c.kind)}"><strong>{e(c.kind)}</strong> {e(c.unit)} in '
            f"<em>{e(' › '.join(c.section) or '(top of document)')}</em> "
            f"<small>{e(_where(c))}</small><div>{body}</div>"
            + (f"<ul>{facts}</ul>" if facts else "")
            + "</li>"
        )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{e(' '.join(['Runbook changes', _compared(diff)]).strip())}</title>"
        "<style>del{background:#fdd}ins{background:#dfd;text-decoration:none}"
        "li.change{margin:.5em 0}</style></head><body>"
        f"<h1>Runbook changes</h1><p>{e(_compared(diff))}</p>"
        f"<p>{e(_summary(diff))}</p>"
        + (
            "<h2>Revision metadata</h2><ul>"
            + "".join(f"<li>{e(_field_line(c))}</li>" for c in meta)
            + "</ul><h2>Content changes</h2>"
            if meta
            else ""
        )
        + f"<ul>{''.join(rows)}</ul></body></html>\n"
    )
